"""The KerasTuner internals in keras_se.tuning.compat, and the pinned version range."""

from __future__ import annotations

import importlib.metadata
import sys
from concurrent import futures

import grpc
import keras_tuner
import pytest
from packaging.requirements import Requirement  # pytest depends on packaging
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from keras_se.errors import KerasSEError, KerasTunerInternalsError
from keras_se.tuning import compat, make_tuner
from keras_se.tuning.compat import check_internals
from tests.conftest import REPO_ROOT
from tests.tuning.toy import Toy


def pinned_keras_tuner() -> Requirement:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    (pinned,) = [r for r in requirements if r.name == "keras-tuner"]
    return pinned


def test_check_internals_passes_on_the_installed_version():
    check_internals()


def test_installed_version_is_inside_the_pinned_range():
    installed = Version(importlib.metadata.version("keras-tuner"))
    specifier = pinned_keras_tuner().specifier
    assert installed in specifier, f"keras-tuner {installed} is outside {specifier}"
    assert str(installed) == keras_tuner.__version__
    # An upper bound: a new minor version has to pass these tests first.
    assert any(spec.operator == "<" for spec in specifier)


def test_the_error_quotes_the_pinned_range():
    assert SpecifierSet(compat.SUPPORTED_KERAS_TUNER) == pinned_keras_tuner().specifier


def _without_attribute(monkeypatch, owner, name):
    monkeypatch.delattr(owner, name)


def _oracle_init_dropping(monkeypatch, drop):
    original = keras_tuner.Oracle.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        drop(self)

    monkeypatch.setattr(keras_tuner.Oracle, "__init__", init)


def drop_servicer(monkeypatch):
    from keras_tuner.src.distribute import oracle_chief

    _without_attribute(monkeypatch, oracle_chief, "OracleServicer")


def drop_protos(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras_tuner.src.protos", None)


def drop_retry_queue(monkeypatch):
    _oracle_init_dropping(monkeypatch, lambda oracle: delattr(oracle, "_retry_queue"))


def rename_display_starts(monkeypatch):
    def rename(oracle):
        oracle._display.start_times = oracle._display.__dict__.pop("trial_start")

    _oracle_init_dropping(monkeypatch, rename)


def set_tuner_ids_to_a_list(monkeypatch):
    _oracle_init_dropping(monkeypatch, lambda oracle: setattr(oracle, "tuner_ids", []))


def client_without_stub(monkeypatch):
    monkeypatch.setattr(compat.inspect, "getsource", lambda _: "class OracleClient:")


def servicer_without_stop_flag(monkeypatch):
    from keras_tuner.src.distribute import oracle_chief

    original = oracle_chief.OracleServicer.__init__

    def init(self, oracle):
        original(self, oracle)
        del self.stop_triggered

    monkeypatch.setattr(oracle_chief.OracleServicer, "__init__", init)


@pytest.mark.parametrize(
    ("change", "internal"),
    [
        (drop_servicer, "keras_tuner.src.distribute.oracle_chief.OracleServicer"),
        (drop_protos, "keras_tuner.src.protos.get_service_grpc"),
        (servicer_without_stop_flag, "OracleServicer.stop_triggered"),
        (client_without_stub, "OracleClient.stub"),
        (drop_retry_queue, "Oracle._retry_queue"),
        (rename_display_starts, "Oracle._display.trial_start"),
        (set_tuner_ids_to_a_list, "Oracle.tuner_ids"),
    ],
)
def test_a_changed_internal_is_named_with_the_versions(change, internal, monkeypatch):
    change(monkeypatch)
    with pytest.raises(KerasTunerInternalsError) as raised:
        check_internals()
    message = str(raised.value)
    assert raised.value.internal == internal
    assert f"`{internal}`" in message
    assert f"keras-tuner {keras_tuner.__version__}" in message
    assert "keras-tuner>=1.4.8,<1.5" in message
    assert isinstance(raised.value, KerasSEError)
    assert isinstance(raised.value, RuntimeError)


def test_the_message_reads_whole(monkeypatch):
    drop_retry_queue(monkeypatch)
    monkeypatch.setattr(keras_tuner, "__version__", "1.5.0")
    with pytest.raises(KerasTunerInternalsError) as raised:
        check_internals()
    assert str(raised.value) == (
        "keras_se's distributed search needs KerasTuner's `Oracle._retry_queue`, "
        "which is missing in the installed keras-tuner 1.5.0. keras_se supports "
        "keras-tuner>=1.4.8,<1.5: pip install 'keras-tuner>=1.4.8,<1.5'."
    )


def test_a_distributed_search_checks_before_it_builds(monkeypatch, tmp_path):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    drop_retry_queue(monkeypatch)

    def tuner_class(*args, **kwargs):
        raise AssertionError("the tuner was built before the check")

    with pytest.raises(KerasTunerInternalsError, match=r"Oracle\._retry_queue"):
        make_tuner(tuner_class, None, directory=tmp_path, project_name="search")


def sample_oracle():
    return keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=3)


def test_retry_queue_is_the_oracles_own_list():
    oracle = sample_oracle()
    compat.retry_queue(oracle).append("1")
    assert oracle.get_state()["retry_queue"] == ["1"]


def test_the_display_learns_a_trial_once():
    oracle = sample_oracle()
    compat.ensure_display_knows_trial(oracle, "1", 2)
    first = oracle.get_state()["display"]
    compat.ensure_display_knows_trial(oracle, "1", 5)
    assert oracle.get_state()["display"] == first
    assert first["trial_number"] == {"1": 2}


def test_a_condition_sent_over_grpc_prints_nothing(capsys, monkeypatch):
    from keras_tuner.src.engine import conditions
    from keras_tuner.src.engine.conditions import Parent

    # The module's own `print` is put back after the test.
    monkeypatch.setattr(conditions, "print", print, raising=False)
    compat.silence_condition_prints()
    proto = Parent("attention", ["se", "cbam"]).to_proto()
    assert [v.string_value for v in proto.parent.values] == ["se", "cbam"]
    assert capsys.readouterr().out == ""
    print("still printed")
    assert capsys.readouterr().out == "still printed\n"


def test_mixing_into_an_oracle_keeps_its_algorithm():
    class LeasedOracleMixin:
        def extra(self):
            return self.max_trials

    oracle = sample_oracle()
    compat.mix_into_oracle(oracle, LeasedOracleMixin)
    compat.mix_into_oracle(oracle, LeasedOracleMixin)
    assert type(oracle).__name__ == "LeasedRandomSearchOracle"
    assert type(oracle).__mro__[1:3] == (
        LeasedOracleMixin,
        keras_tuner.oracles.RandomSearchOracle,
    )
    assert oracle.extra() == 3


def test_the_servicer_serves_the_oracle():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = compat.add_oracle_servicer(server, sample_oracle())
    assert servicer.oracle.max_trials == 3
    assert compat.servicer_stop_requested(servicer) is False
    server.stop(grace=None)


def test_a_worker_stub_is_replaced_and_a_missing_one_named():
    class Client:
        stub = "the stub"

    client = Client()
    compat.set_worker_stub(client, f"wrapped {compat.worker_stub(client)}")
    assert client.stub == "wrapped the stub"
    with pytest.raises(KerasTunerInternalsError, match=r"`OracleClient\.stub`"):
        compat.set_worker_stub(object(), "stub")


def test_the_chiefs_state_file_is_named_like_the_tuners_own(tmp_path, monkeypatch):
    tuner = keras_tuner.RandomSearch(
        Toy(), objective="val_accuracy", max_trials=1, directory=tmp_path
    )
    project = tmp_path / "untitled_project"
    assert compat.tuner_state_file(tuner, tuner.tuner_id) == project / "tuner0.json"
    tuner.save()
    assert compat.tuner_state_file(tuner, "tuner0").exists()
    assert compat.tuner_state_file(tuner, "chief") == project / "chief.json"
    monkeypatch.setattr(tuner, "_get_tuner_fname", lambda: str(project / "t.json"))
    with pytest.raises(
        KerasTunerInternalsError, match=r"`BaseTuner\._get_tuner_fname`, which does"
    ):
        compat.tuner_state_file(tuner, "chief")
