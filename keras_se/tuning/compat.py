"""The KerasTuner internals the distributed search relies on, all in one place.

KerasTuner's public API has no hook for what the fault-tolerant search needs:
serving the oracle from a loop that can also expire leases, putting a trial
back in the retry queue, wrapping a worker's gRPC stub, or finding the chief's
saved state from a single process. Each internal is
reached through one small function here, checked against keras-tuner 1.4.8;
the rest of `keras_se.tuning` uses KerasTuner's public API and this module.

The leases also use names that are public but undocumented: the oracle's
`trials`, `ongoing_trials`, `tuner_ids` and `end_order`, the
`"ongoing_trials"` entry of its `get_state()`, and `Tuner.project_dir`;
`check_internals` checks those too.

`SUPPORTED_KERAS_TUNER` is the range pyproject.toml pins: a new minor version
may move any of these, so it has to pass `check_internals` and the tests
before the range grows.
"""

from __future__ import annotations

import importlib
import inspect
from datetime import datetime
from pathlib import Path

import keras_tuner

from keras_se.errors import KerasTunerInternalsError

SUPPORTED_KERAS_TUNER = ">=1.4.8,<1.5"

_CHIEF_MODULE = "keras_tuner.src.distribute.oracle_chief"
_CLIENT_MODULE = "keras_tuner.src.distribute.oracle_client"
_PROTOS_MODULE = "keras_tuner.src.protos"
_CONDITIONS_MODULE = "keras_tuner.src.engine.conditions"


def _error(internal: str, problem: str = "is missing") -> KerasTunerInternalsError:
    return KerasTunerInternalsError(
        f"keras_se's distributed search needs KerasTuner's `{internal}`, which "
        f"{problem} in the installed keras-tuner {keras_tuner.__version__}. "
        f"keras_se supports keras-tuner{SUPPORTED_KERAS_TUNER}: "
        f"pip install 'keras-tuner{SUPPORTED_KERAS_TUNER}'.",
        internal,
    )


def _attribute(owner, name: str, internal: str):
    try:
        return getattr(owner, name)
    except AttributeError:
        raise _error(internal) from None


def _from_module(module: str, name: str):
    try:
        imported = importlib.import_module(module)
    except ImportError:
        raise _error(f"{module}.{name}") from None
    return _attribute(imported, name, f"{module}.{name}")


def _servicer_parts():
    servicer_class = _from_module(_CHIEF_MODULE, "OracleServicer")
    service = _from_module(_PROTOS_MODULE, "get_service_grpc")()
    register = _attribute(
        service,
        "add_OracleServicer_to_server",
        f"{_PROTOS_MODULE}.get_service_grpc().add_OracleServicer_to_server",
    )
    return servicer_class, register


def add_oracle_servicer(server, oracle):
    """Serves `oracle` on a `grpc.Server` with KerasTuner's own servicer.

    Checked against keras-tuner 1.4.8: `OracleServicer(oracle)` from
    `keras_tuner.src.distribute.oracle_chief`, registered with
    `keras_tuner.src.protos.get_service_grpc().add_OracleServicer_to_server`.

    Returns:
        The servicer, for `servicer_stop_requested`.
    """
    servicer_class, register = _servicer_parts()
    servicer = servicer_class(oracle)
    register(servicer, server)
    return servicer


def servicer_stop_requested(servicer) -> bool:
    """Whether the oracle has told a worker that the search is over.

    Checked against keras-tuner 1.4.8: `OracleServicer.stop_triggered`, set
    when `create_trial` returns a STOPPED trial.
    """
    return bool(_attribute(servicer, "stop_triggered", "OracleServicer.stop_triggered"))


def worker_stub(oracle):
    """The gRPC stub a worker's oracle (an `OracleClient`) calls the chief with.

    Checked against keras-tuner 1.4.8: `OracleClient.stub`, set in `__init__`
    and used by every method that calls the chief.
    """
    return _attribute(oracle, "stub", "OracleClient.stub")


def set_worker_stub(oracle, stub) -> None:
    """Replaces the stub of a worker's oracle, e.g. by a wrapper around it."""
    worker_stub(oracle)
    oracle.stub = stub


def retry_queue(oracle) -> list[str]:
    """The oracle's queue of trial ids to run again: the live list.

    Checked against keras-tuner 1.4.8: `Oracle._retry_queue`; `create_trial`
    hands out its last id before it creates a new trial.
    """
    return _attribute(oracle, "_retry_queue", "Oracle._retry_queue")


def silence_condition_prints() -> None:
    """Stops KerasTuner printing a condition's first value on every gRPC call.

    keras-tuner 1.4.8's `Parent.to_proto` (`keras_tuner.src.engine.conditions`)
    prints `self.values[0]`, a leftover: in a distributed search every
    conditional hyperparameter sent between chief and workers prints a
    stray line (`se`, the first attention with a ratio). The module's own
    `print` is replaced, so no other output is touched. A KerasTuner without
    the module is left as it is.
    """
    try:
        conditions = importlib.import_module(_CONDITIONS_MODULE)
    except ImportError:
        return
    conditions.print = _discard


def _discard(*args, **kwargs) -> None:
    return None


def ensure_display_knows_trial(oracle, trial_id: str, trial_number: int) -> None:
    """Gives the oracle's display a start time and a number for `trial_id`.

    The display's `on_trial_end` fails for a trial it did not see start.
    Checked against keras-tuner 1.4.8: `Oracle._display.trial_start` (trial
    id to `datetime`) and `Oracle._display.trial_number` (trial id to number).
    """
    display = _attribute(oracle, "_display", "Oracle._display")
    starts = _attribute(display, "trial_start", "Oracle._display.trial_start")
    numbers = _attribute(display, "trial_number", "Oracle._display.trial_number")
    starts.setdefault(trial_id, datetime.now())
    numbers.setdefault(trial_id, trial_number)


def tuner_state_file(tuner, tuner_id: str) -> Path:
    """The file in which the tuner `tuner_id` of `tuner`'s project saves its state.

    KerasTuner keys a project's saved state by tuner id: `tuner0` for one
    process, `chief` for the chief of a distributed search. Checked against
    keras-tuner 1.4.8: `BaseTuner._get_tuner_fname()` is
    `<project_dir>/<tuner.tuner_id>.json`; the tuner's own file vouches for
    the naming before another id's is derived from it.

    Args:
        tuner: a KerasTuner tuner of the project.
        tuner_id: whose file, e.g. `"chief"`.

    Returns:
        The file's path; it may not exist.

    Raises:
        KerasTunerInternalsError: when KerasTuner names the file differently.
    """
    internal = "BaseTuner._get_tuner_fname"
    own = Path(_attribute(tuner, "_get_tuner_fname", internal)())
    if own.name != f"{tuner.tuner_id}.json":
        raise _error(internal, "does not name the file `<tuner_id>.json`")
    return own.with_name(f"{tuner_id}.json")


def mix_into_oracle(oracle, mixin: type) -> None:
    """Makes `oracle` an instance of a subclass of its class, `mixin` first.

    The tuners build their own oracles, so this is how an oracle of any
    search algorithm gets the mixin; `LeasedOracleMixin` on a
    `RandomSearchOracle` makes a `LeasedRandomSearchOracle`. Checked against
    keras-tuner 1.4.8: the oracles are plain classes whose instances' class
    can be reassigned.
    """
    base = type(oracle)
    if issubclass(base, mixin):
        return
    prefix = mixin.__name__.removesuffix("OracleMixin") or mixin.__name__
    try:
        namespace = {"__module__": mixin.__module__}
        oracle.__class__ = type(f"{prefix}{base.__name__}", (mixin, base), namespace)
    except TypeError:
        raise _error(f"{base.__name__}.__class__", "cannot be reassigned") from None


def _sample_oracle():
    return keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)


def _check_servicer() -> None:
    servicer_class, _ = _servicer_parts()
    if servicer_stop_requested(servicer_class(_sample_oracle())):
        raise _error("OracleServicer.stop_triggered", "does not start False")


def _check_worker_stub() -> None:
    client = _from_module(_CLIENT_MODULE, "OracleClient")
    try:
        source = inspect.getsource(client)
    except (OSError, TypeError):
        return  # installed without sources: `worker_stub` still fails clearly
    if "self.stub = " not in source or "self.stub.CreateTrial(" not in source:
        raise _error("OracleClient.stub", "is not what it calls the chief with")


def _check_oracle_state() -> None:
    oracle = _sample_oracle()
    if not isinstance(retry_queue(oracle), list):
        raise _error("Oracle._retry_queue", "is not a list")
    display = _attribute(oracle, "_display", "Oracle._display")
    for name in ("trial_start", "trial_number"):
        internal = f"Oracle._display.{name}"
        if not isinstance(_attribute(display, name, internal), dict):
            raise _error(internal, "is not a dict")
    for name, kind in (
        ("trials", dict),
        ("ongoing_trials", dict),
        ("tuner_ids", set),
        ("end_order", list),
    ):
        if not isinstance(_attribute(oracle, name, f"Oracle.{name}"), kind):
            raise _error(f"Oracle.{name}", f"is not a {kind.__name__}")
    if not isinstance(oracle.get_state().get("ongoing_trials"), dict):
        raise _error('Oracle.get_state()["ongoing_trials"]', "is not a dict")
    if not isinstance(getattr(keras_tuner.Tuner, "project_dir", None), property):
        raise _error("Tuner.project_dir")


def _check_class_swap() -> None:
    class ProbeOracleMixin:
        pass

    oracle = _sample_oracle()
    mix_into_oracle(oracle, ProbeOracleMixin)
    if not isinstance(oracle, ProbeOracleMixin):
        raise _error("Oracle.__class__", "cannot be reassigned")


def check_internals() -> None:
    """Checks that every internal used here is there, with the expected shape.

    `keras_se.tuning.make_tuner` runs it before a distributed search, so a
    KerasTuner release that moved one fails at the start, not mid-search.

    Raises:
        KerasTunerInternalsError: naming the first internal that is missing
            or changed, the installed keras-tuner version and the supported
            range.

    Example:

    >>> from keras_se.tuning.compat import check_internals
    >>> check_internals()
    """
    _check_servicer()
    _check_worker_stub()
    _check_oracle_state()
    _check_class_swap()
