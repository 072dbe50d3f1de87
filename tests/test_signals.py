"""Interrupts that Python cannot raise where they land (a finalizer, a weakref callback) still stop
the run, at its next check, and print nothing (fast)."""

import json
import signal
import sys
import threading

import pytest
from conftest import compose

from nninit.app.experiment import run
from nninit.record import signals


@pytest.fixture
def fresh(monkeypatch):
    """A process-wide interrupt flag of this test's own, and nninit's hook for unraisable exceptions."""
    monkeypatch.setattr(signals, "_RECEIVED", threading.Event())
    monkeypatch.setattr(signals, "_NAMES", [])
    monkeypatch.setattr(sys, "unraisablehook", signals._unraisable)
    reported = []
    monkeypatch.setattr(signals, "_default_unraisablehook", reported.append)
    return reported


class _Finalized:
    def __init__(self, action):
        self.action = action

    def __del__(self):
        self.action()


def test_an_interrupt_inside_a_finalizer_is_kept_for_the_next_check(fresh):
    _Finalized(lambda: signals._interrupt(signal.SIGINT, None))  # raised in __del__: Python cannot propagate it
    _Finalized(lambda: 1 / 0)  # after an interrupt: the failure of an object it left half-built
    assert signals.interrupt_received() and fresh == []  # remembered, not printed
    with pytest.raises(KeyboardInterrupt, match="^stopped by SIGINT$"):  # the run records which signal stopped it
        signals.stop_if_interrupted()


def test_other_unraisable_errors_are_still_reported(fresh):
    signals.stop_if_interrupted()  # nothing came: no interrupt
    _Finalized(lambda: 1 / 0)
    _Finalized(lambda: (_ for _ in ()).throw(KeyboardInterrupt))  # not a signal of ours
    assert [u.exc_type for u in fresh] == [ZeroDivisionError, KeyboardInterrupt]


def test_a_run_stops_at_its_next_check_after_an_interrupt_that_was_swallowed(fresh, tmp_path):
    signals._RECEIVED.set()  # as if an interrupt had landed in a finalizer and been swallowed
    with pytest.raises(KeyboardInterrupt):
        run(compose(["train.num_iterations=3000"]), tmp_path, figures=False)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["iterations_run"] == 0


def test_a_second_interrupt_while_the_helper_stops_leaves_the_final_status(fresh, tmp_path, monkeypatch):
    """The run writes its final status before it stops its drawing backend (a helper process: up to
    half a second): a second Ctrl-C there must not leave the folder saying 'running'."""
    from nninit.figures import drawing, helper_process

    def interrupted_close(self):
        raise KeyboardInterrupt("the second Ctrl-C")

    monkeypatch.setattr(drawing.InProcess, "close", interrupted_close)
    monkeypatch.setattr(helper_process.ForkedDrawing, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt, match="second"):
        run(compose(["train.num_iterations=200"]), tmp_path, figures=False)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "completed"


def test_a_signal_while_the_final_status_is_written_is_remembered_not_raised(fresh):
    """signals.deferred: the second Ctrl-C (or a sweep's forwarded copy) cannot cut the status write short."""
    with signals.deferred():
        signals._interrupt(signal.SIGTERM, None)  # returns: nothing raised inside the block
        assert signals.interrupt_received()
    with pytest.raises(KeyboardInterrupt, match="^stopped by SIGTERM$"):  # the next check names it (CI once saw
        signals.stop_if_interrupted()  # a job's record say "an interrupt that came earlier" for a SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="^stopped by SIGINT$"):  # outside it, a signal raises as before
        signals._interrupt(signal.SIGINT, None)
    signals.forget_interrupt()
    signals._RECEIVED.set()  # one whose signal is not known (none of nninit's handlers took it)
    with pytest.raises(KeyboardInterrupt, match="came earlier"):
        signals.stop_if_interrupted()


def test_a_second_ctrl_c_while_an_interrupted_run_records_it_leaves_interrupted(fresh, tmp_path, monkeypatch):
    """The run's final metrics.json is written inside signals.deferred: a Ctrl-C that lands in that
    write (here: raised by the write itself, as the signal handler would) does not leave 'running'."""
    from nninit.record import runfolder

    real_write = runfolder.write_json
    calls = []

    def write_with_a_second_ctrl_c(path, data):
        calls.append(data["status"])
        if data["status"] == "interrupted":
            signals._interrupt(signal.SIGINT, None)  # the second Ctrl-C, just as the status is written
        real_write(path, data)

    monkeypatch.setattr(runfolder, "write_json", write_with_a_second_ctrl_c)
    signals._RECEIVED.set()  # the first interrupt: the run stops at its first check
    with pytest.raises(KeyboardInterrupt):
        run(compose(["train.num_iterations=3000"]), tmp_path, figures=False)
    assert calls[-1] == "interrupted"
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "interrupted"


def test_wait_until_returns_the_condition_or_false_at_its_timeout():
    ticks = iter(range(100))
    assert signals.wait_until(lambda: next(ticks) >= 3, timeout_s=5, poll_s=0.001)
    assert not signals.wait_until(lambda: False, timeout_s=0.05, poll_s=0.01)
