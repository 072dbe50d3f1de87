"""Faults of a kind, each with the input that showed it: blow-ups, memory, paths, LSUV scales, garbled files."""

import math

import numpy as np
import pytest

from nninit.initializers import initialize_parameters
from nninit.training import BLOWUP_FACTOR, blew_up, train


def test_a_cost_that_blows_up_is_a_divergence(circles):
    """learning_rate=1e6 takes the cost from 0.88 to about 150,000, finite: diverged at that row."""
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    result = train(circles.X_train, circles.Y_train, params, learning_rate=1e6, num_iterations=3000)
    assert result.status == "diverged" and result.diverged_at == 1000
    assert [row["iteration"] for row in result.history] == [0, 1000]
    assert math.isfinite(result.history[-1]["cost"]) and result.history[-1]["cost"] > 1e5


def test_the_blow_up_rule():
    ln2 = math.log(2.0)
    assert BLOWUP_FACTOR == 10.0
    assert not blew_up(10 * ln2 - 1e-9, 0.1) and blew_up(10 * ln2 + 1e-9, 0.1)  # a tiny start counts as ln 2
    assert not blew_up(17_000.0, 1773.6) and blew_up(17_737.0, 1773.6)  # the notebook's random x10 start
    assert not blew_up(float("nan"), 0.7)  # NaN is caught by the finiteness check, not here
