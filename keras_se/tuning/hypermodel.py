"""The KerasTuner `HyperModel` whose space is the SE paper's ablation axes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import keras_tuner

from keras_se._validation import check_positive_int
from keras_se.layers import IDENTITY_GATES
from keras_se.layers.attention import attention_takes, check_attentions
from keras_se.surgery import PLACEMENTS, POSITIONS, describe, wrap_with_se
from keras_se.surgery.graph import has_residual_merges
from keras_se.tuning.latency import measure_latency_ms
from keras_se.tuning.objectives import LATENCY_MS, PARAMS, PARAMS_ADDED

HP_ATTENTION = "attention"
HP_RATIO = "se_ratio"
HP_PLACEMENT = "se_placement"
HP_POSITION = "se_position"
HP_STAGES = "se_stages"
HP_GATE = "se_gate"
HP_LEARNING_RATE = "learning_rate"

RATIOS = (4, 8, 16, 32)
STAGE_CHOICES = {"all": None, "last": [-1], "last_two": [-2, -1]}
# The searched values are subsets of surgery's and the layers' own: "auto" is
# not a placement of its own (it picks "residual" or "conv"), and the gates
# are those a block can start as the identity with (the paper's tanh and relu
# ablations do worse than the sigmoid).
SEARCHED_PLACEMENTS = tuple(p for p in PLACEMENTS if p != "auto")
SEARCHED_GATES = IDENTITY_GATES


class SEHyperModel(keras_tuner.HyperModel):
    """Searches where SE goes in a model and how it is shaped.

    Each trial builds a fresh base model, inserts SE blocks with
    `keras_se.wrap_with_se` according to the trial's hyperparameters, and
    compiles it. The space follows the SE paper's ablations (Tables 10-14):

    - `attention` (`HP_ATTENTION`): which attention of the family to
      insert, among `attentions` (SE alone by default).
    - `se_ratio` (`HP_RATIO`): the reduction ratio, 4, 8, 16 or 32 (2 costs
      far more parameters for nothing, so it is left out); only for the
      attentions that have one (not ECA or eSE). As a searched value it
      replaces a preset's ratio (`"se_r16"` gets the trial's, not 16), as
      `keras-se train --ratio` does; the preset's other arguments hold.
    - `se_placement` (`HP_PLACEMENT`): `"residual"` (when the base has
      residual units), `"stage_end"` or `"conv"`.
    - `se_position` (`HP_POSITION`): for `"residual"` only, `"standard"`,
      `"pre"`, `"identity"` or `"post"`.
    - `se_stages` (`HP_STAGES`): SE in `"all"` resolution stages, the
      `"last"` one or the `"last_two"` (the paper's Table 13).
    - `se_gate` (`HP_GATE`): `"sigmoid"` or `"hard_sigmoid"`, a preset's
      gate replaced too.
    - `learning_rate` (`HP_LEARNING_RATE`), when `tune_learning_rate=True`.

    `fit` returns the final epoch's metrics plus three costs, so a search
    can weigh accuracy against them: `params_added` (`PARAMS_ADDED`), the
    parameters the SE blocks cost; `params` (`PARAMS`), the whole model's;
    and `latency_ms` (`LATENCY_MS`), the trained model's inference time
    measured in the process that trained it (`measure_latency_ms`: the
    median of `latency_repeats` calls on `latency_batch_size` rows, after
    warm-up calls).

    Args:
        base: a function that returns a new (uncompiled) base model, or a
            `keras.Model` that every trial wraps (it is never modified).
        loss: the loss to compile with.
        metrics: the metrics to compile with.
        learning_rate: the Adam learning rate when it is not tuned.
        tune_learning_rate: also search the learning rate (1e-4 to 1e-2, log).
        identity_init: passed to `wrap_with_se`: start every block as the
            identity (right for a pretrained base).
        ratios: the ratios to search.
        attentions: the attentions to search, names or aliases in
            `keras_se.layers.ATTENTION_REGISTRY` (`("se", "eca", "cbam_7x7")`).
        latency_batch_size: the batch size `latency_ms` is measured at.
        latency_repeats: the timed calls whose median is `latency_ms`.

    Example:

    >>> from keras_se.demo.model import build_digits_cnn
    >>> from keras_se.tuning import SEHyperModel
    >>> hypermodel = SEHyperModel(lambda: build_digits_cnn(se=False))
    >>> hp = keras_tuner.HyperParameters()
    >>> model = hypermodel.build(hp)
    >>> sorted(hp.values)
    ['attention', 'se_gate', 'se_placement', 'se_ratio', 'se_stages']
    """

    def __init__(
        self,
        base: Callable[[], keras.Model] | keras.Model,
        loss="sparse_categorical_crossentropy",
        metrics=("accuracy",),
        learning_rate: float = 1e-3,
        tune_learning_rate: bool = False,
        identity_init: bool = True,
        ratios: tuple[int, ...] = RATIOS,
        attentions: Sequence[str] = ("se",),
        latency_batch_size: int = 1,
        latency_repeats: int = 20,
        **kwargs,
    ):
        if not (callable(base) or isinstance(base, keras.Model)):
            raise ValueError(
                "`base` must be a keras.Model or a function returning one. "
                f"Received: base={base!r}"
            )
        attentions = check_attentions(attentions)
        check_positive_int("latency_batch_size", latency_batch_size)
        check_positive_int("latency_repeats", latency_repeats)
        super().__init__(**kwargs)
        self.base = base
        self.attentions = attentions
        self.loss = loss
        self.metrics = list(metrics)
        self.learning_rate = learning_rate
        self.tune_learning_rate = tune_learning_rate
        self.identity_init = identity_init
        self.ratios = tuple(ratios)
        self.latency_batch_size = latency_batch_size
        self.latency_repeats = latency_repeats
        self._has_residual_units: bool | None = None

    def _base_model(self) -> keras.Model:
        if isinstance(self.base, keras.Model):
            return self.base
        return self.base()

    def placements(self, model: keras.Model) -> list[str]:
        """The placements to search for `model`; the first is the default.

        `"residual"` only when the model has residual units; the default is
        what `wrap_with_se(placement="auto")` would pick.
        """
        if self._has_residual_units is None:
            self._has_residual_units = has_residual_merges(model)
        default = "residual" if self._has_residual_units else "conv"
        others = [
            p
            for p in SEARCHED_PLACEMENTS
            if p != default and (self._has_residual_units or p != "residual")
        ]
        return [default, *others]

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        base = self._base_model()
        attention = hp.Choice(HP_ATTENTION, list(self.attentions))
        with_ratio = [
            name for name in self.attentions if attention_takes(name, "ratio")
        ]
        ratio = None
        if with_ratio:
            # Registered whatever this trial's attention is, so the space
            # has it from the first build; inactive (None) for ECA and eSE.
            with hp.conditional_scope(HP_ATTENTION, with_ratio):
                ratio = hp.Choice(HP_RATIO, list(self.ratios))
        placements = self.placements(base)
        placement = hp.Choice(HP_PLACEMENT, placements)
        position = "standard"
        if "residual" in placements:
            with hp.conditional_scope(HP_PLACEMENT, ["residual"]):
                position = hp.Choice(HP_POSITION, list(POSITIONS))
        stages_choice = hp.Choice(HP_STAGES, list(STAGE_CHOICES))
        gate = hp.Choice(HP_GATE, list(SEARCHED_GATES))
        learning_rate = self.learning_rate
        if self.tune_learning_rate:
            learning_rate = hp.Float(HP_LEARNING_RATE, 1e-4, 1e-2, sampling="log")
        model = wrap_with_se(
            base,
            attention=attention,
            ratio=ratio,
            placement=placement,
            position=position if placement == "residual" else "standard",
            stages=STAGE_CHOICES[stages_choice],
            gate=gate,
            identity_init=self.identity_init,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=self.loss,
            metrics=self.metrics,
        )
        return model

    def fit(self, hp, model, *args, **kwargs):
        history = model.fit(*args, **kwargs)
        results = {name: values[-1] for name, values in history.history.items()}
        results[PARAMS_ADDED] = sum(block.params for block in describe(model))
        results[PARAMS] = model.count_params()
        results[LATENCY_MS] = measure_latency_ms(
            model, self.latency_batch_size, repeats=self.latency_repeats
        )
        return results

    def logged_metrics(self, validation: bool) -> set[str]:
        """Every name `fit` reports: the loss, the compiled metrics, the costs.

        Args:
            validation: whether the search is given validation data, which
                adds the `val_` metrics.
        """
        names = ["loss"] + [
            metric if isinstance(metric, str) else metric.name
            for metric in self.metrics
        ]
        if validation:
            names += [f"val_{name}" for name in names]
        return {*names, PARAMS_ADDED, PARAMS, LATENCY_MS}
