"""`keras-se tune --workers N` supervision, with stand-in processes."""

from __future__ import annotations

import sys
import textwrap

import pytest

from keras_se.tuning.launcher import child_environment, launch_local


def test_dead_worker_is_restarted_and_chief_code_returned(tmp_path, capsys):
    # A worker that dies the first time (as if killed), then finishes; a chief
    # that ends once it has seen the second start of that worker.
    script = tmp_path / "role.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys, time, pathlib
            folder = pathlib.Path({str(tmp_path)!r})
            role = os.environ["KERASTUNER_TUNER_ID"]
            starts = folder / (role + ".starts")
            starts.write_text(starts.read_text() + "x" if starts.exists() else "x")
            if role == "chief":
                deadline = time.time() + 30
                while time.time() < deadline:
                    worker = folder / "worker0.starts"
                    if worker.exists() and len(worker.read_text()) >= 2:
                        sys.exit(7)
                    time.sleep(0.05)
                sys.exit(1)
            if role == "worker0" and len(starts.read_text()) == 1:
                os.kill(os.getpid(), 9)
            time.sleep(0.2)
            """
        )
    )
    code = launch_local(
        [], workers=2, poll_seconds=0.05, command=[sys.executable, str(script)]
    )
    assert code == 7
    assert (tmp_path / "worker0.starts").read_text() == "xx"
    assert (tmp_path / "worker1.starts").read_text() == "x"
    assert "worker0 exited with code -9; restarting it (1/3)" in capsys.readouterr().out


def test_children_get_their_share_of_the_cores():
    environment = child_environment("worker1", 1234, threads=1)
    assert environment["KERASTUNER_TUNER_ID"] == "worker1"
    assert environment["KERASTUNER_ORACLE_IP"] == "127.0.0.1"
    assert environment["KERASTUNER_ORACLE_PORT"] == "1234"
    assert environment["KERAS_SE_THREADS"] == "1"


def test_worker_calls_wait_out_a_chief_restart(monkeypatch):
    import grpc

    from keras_se.tuning import distributed

    class Unavailable(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.UNAVAILABLE

    class Invalid(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.INVALID_ARGUMENT

    calls = []

    class Stub:
        def EndTrial(self, request):  # noqa: N802 (gRPC method name)
            calls.append(request)
            if len(calls) < 3:
                raise Unavailable()
            return "ended"

        def GetTrial(self, request):  # noqa: N802 (gRPC method name)
            raise Invalid()

    monkeypatch.setattr(distributed.time, "sleep", lambda seconds: None)
    stub = distributed.RetryingStub(Stub())
    assert stub.EndTrial("trial 1") == "ended"
    assert calls == ["trial 1"] * 3
    with pytest.raises(Invalid):
        stub.GetTrial("trial 2")
