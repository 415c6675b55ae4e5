"""Keras quantization for layers made of sub-layers, saved and reloaded.

`model.quantize("int8")` (or `"float8"`, `"int4"`) quantizes the leaf layers
of a model: the `Dense` steps inside an SE block become `int8_from_float32`
and hold int8 kernels and scales. A composite layer that rebuilds its
sub-layers from its own float dtype policy on reload would build float ones
that cannot take the saved int8 variables. `QuantizableSublayers` fixes that
the way KerasHub's backbones do: `get_config` stores, as the layer's `dtype`,
a `keras.dtype_policies.DTypePolicyMap` from each quantized sub-layer to its
policy; the sub-layers, which get `dtype=self.dtype_policy`, look their own
policy up in that map by their path when they are built.

The map's keys are patterns anchored at the owning layer's name, such as
`(?:.*/)?stage1_se/reduce`, not whole paths: the layer reloads the same in a
model of another name, or alone.
"""

from __future__ import annotations

import re
import warnings

import keras


class QuantizableSublayers:
    """A mixin for layers whose sub-layers (e.g. `Dense` steps) quantize.

    Put it before `keras.layers.Layer` among the bases, create every
    sub-layer with `dtype=self.dtype_policy`, and call `super().get_config()`
    in `get_config`. The layer then quantizes with `model.quantize(mode)` or
    its own `quantize(mode)`, and saves and reloads quantized.

    Example:

    >>> import warnings
    >>> se = keras_se.SqueezeExcite2D(2, name="se")
    >>> model = keras.Sequential([keras.Input((4, 4, 8)), se])
    >>> with warnings.catch_warnings():  # Keras: "InputLayer has no `quantize`"
    ...     warnings.simplefilter("ignore")
    ...     model.quantize("int8")
    >>> se.reduce.quantization_mode, se.expand.quantization_mode
    ('int8', 'int8')
    >>> sorted(se.get_config()["dtype"]["config"]["policy_map"])
    ['(?:.*/)?se/expand', '(?:.*/)?se/reduce']
    """

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes every sub-layer Keras can quantize, like `model.quantize`.

        Args:
            mode: a Keras quantization mode, such as `"int8"`.
            type_check: passed to each sub-layer's `quantize`.
            config: an optional `keras.quantizers.QuantizationConfig`.
        """
        quantized = False
        for layer in _leaf_sublayers(self):
            if layer.quantization_mode is not None:
                continue
            try:
                layer.quantize(mode, type_check=type_check, config=config)
            except NotImplementedError as error:
                warnings.warn(str(error), stacklevel=2)
                continue
            quantized = True
        if not quantized:
            raise NotImplementedError(
                f"`{type(self).__name__}` {self.name!r} has no sub-layer that "
                f"Keras can quantize with mode={mode!r}."
            )

    def get_config(self):
        config = super().get_config()
        policies = quantized_sublayer_policies(self)
        if policies:
            default = self.dtype_policy
            if isinstance(default, keras.dtype_policies.DTypePolicyMap):
                default = default.default_policy
            policy_map = keras.dtype_policies.DTypePolicyMap(default_policy=default)
            for key, policy in policies.items():
                policy_map[key] = policy
            config["dtype"] = keras.dtype_policies.serialize(policy_map)
        return config


def quantized_sublayer_policies(layer: keras.layers.Layer) -> dict:
    """Maps a key per quantized sub-layer of `layer` to its dtype policy.

    Each key is a pattern that matches the sub-layer's path however deep
    `layer` sits: the name of `layer`, then the sub-layer's path below it.
    """
    policies = {}
    own = layer.path or layer.name
    for sublayer in _leaf_sublayers(layer):
        if sublayer.quantization_mode is None or sublayer.path is None:
            continue
        relative = sublayer.path.removeprefix(own + "/")
        key = "(?:.*/)?" + re.escape(f"{layer.name}/{relative}")
        policy = sublayer.dtype_policy
        if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
            policy = policy[sublayer.path]
        policies[key] = policy
    return policies


def _leaf_sublayers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    # `_flatten_layers` is how `Model.quantize` walks a model too.
    return [
        sublayer
        for sublayer in layer._flatten_layers(include_self=False)
        if len(list(sublayer._flatten_layers())) == 1
    ]
