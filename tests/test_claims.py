"""How the named experiments decide a claim: from an interval, never from a point (fast)."""

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "experiments"))
import depth_signal  # noqa: E402


@pytest.mark.parametrize("low, high, verdict", [
    (0.96, 1.04, "holds"),             # the whole interval within 5 % of 1
    (0.90, 0.94, "does not hold"),     # none of it
    (0.93, 1.00, "not decided at n=5"),
    (float("nan"), float("nan"), "not decided at n=5"),
])
def test_a_claim_holds_only_when_its_interval_does(low, high, verdict):
    assert depth_signal.decide(low, high, (0.95, 1.05), 5, quick=False) == verdict


def test_a_quick_run_decides_nothing():
    assert depth_signal.decide(0.99, 1.01, (0.95, 1.05), 3, quick=True) == "not decided (quick run, n=3)"


def _spreads(stds, n, seed=0):
    rng = np.random.default_rng(seed)
    return [(w, rng.normal(0.0, s, n)) for w, s in zip((100, 250, 500), stds)]


def test_the_width_claim_needs_enough_seeds():
    # spreads shrinking by a factor of 2.5 at each step: separated by 20 seeds (power about 96 %), not by 3
    assert depth_signal.spread_claim(_spreads((2.0, 0.8, 0.3), 20), quick=False)[1] == "holds"
    assert depth_signal.spread_claim(_spreads((2.0, 0.8, 0.3), 3), quick=False)[1] == "not decided at n=3"
    assert depth_signal.spread_claim(_spreads((0.3, 0.9, 2.7), 20), quick=False)[1] == "does not hold"
    text, verdict = depth_signal.spread_claim(_spreads((1.5, 0.88, 0.49), 20), quick=True)
    assert verdict == "not decided (quick run, n=20)" and "(n=20)" in text and "Holm-adjusted p" in text


def test_the_ratio_claim_reports_n_and_interval():
    class FakeRun:
        def __init__(self, ratio, depth=10):
            self.history = {f"z_sq_{l}": np.array([ratio ** l]) for l in range(1, depth + 1)}
            self.metrics = {"layers_dims": [2] + [20] * depth + [1]}

    runs = [FakeRun(r) for r in (0.97, 0.99, 1.01, 0.98, 1.00)]
    text, verdict = depth_signal.ratio_claim(runs, 1.0, quick=False)
    logs = np.log([0.97, 0.99, 1.01, 0.98, 1.00])
    assert text.startswith(f"ratio {np.exp(logs.mean()):.4f} [95 % interval ") and text.endswith("n=5")
    assert verdict == "holds"
    assert depth_signal.ratio_claim(runs, 0.5, quick=False)[1] == "does not hold"
