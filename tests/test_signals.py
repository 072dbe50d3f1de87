"""Interrupts that Python cannot raise where they land (a finalizer, a weakref callback) still stop
the run, at its next check, and print nothing (fast)."""

import json
import signal
import sys
import threading

import pytest

from conftest import compose
from nninit import signals
from nninit.experiment import run


@pytest.fixture
def fresh(monkeypatch):
    """A process-wide interrupt flag of this test's own, and nninit's hook for unraisable exceptions."""
    monkeypatch.setattr(signals, "_RECEIVED", threading.Event())
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
    with pytest.raises(KeyboardInterrupt):
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
    """The run writes its final status before it stops its helper process (up to half a second):
    a second Ctrl-C there must not leave the folder saying 'running'."""
    from nninit import plot_worker

    def interrupted_close(self):
        raise KeyboardInterrupt("the second Ctrl-C")

    monkeypatch.setattr(plot_worker.FigureDrawer, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt, match="second"):
        run(compose(["train.num_iterations=200"]), tmp_path, figures=False)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "completed"
