"""The training experiments of issue 21 (``trainability``, ``optimizers``): their quick runs say they are quick
and decide nothing; their claims, judged as a full run on grids drawn here, decide the way the numbers say."""

import math

import numpy as np
import pytest
from conftest import assert_quick_and_undecided, run_experiment
from test_claims import experiment

from nninit.analysis.claims import VERDICTS, claims_in

trainability = experiment("trainability")
optimizers = experiment("optimizers")


@pytest.mark.slow
def test_trainability_quick(tmp_path):
    out, report = run_experiment("trainability", tmp_path, "--quick")
    assert_quick_and_undecided(report, 3)
    assert (out / "trainability.png").stat().st_size > 10_000
    assert "| 1 | 3.63 | 21.8 | " in report  # xi_c of tanh at (1, 0.05) from the theory, and 6 xi_c
    assert (out / "sweep" / "summary.md").is_file()
    # the same runs judged as a full run: every claim gets one of the three verdicts
    full = claims_in(trainability.report(out, quick=False))
    assert len(full) == 3 and set(full.values()) <= set(VERDICTS), full


@pytest.mark.slow
def test_optimizers_quick(tmp_path):
    out, report = run_experiment("optimizers", tmp_path, "--quick")
    assert_quick_and_undecided(report, 2)
    assert sorted(claims_in(report)) == [f"The gap between He and random ×10 on {data} shrinks under adam"
                                         for data in ("circles", "digits")]  # one claim each, told apart
    assert report.count("This is a reduced (quick) run: it decides nothing and ranks nothing.") == 4
    for data in ("circles", "digits"):
        for optimizer in ("gd", "adam"):
            assert f"## {data}, {optimizer}" in report
            summary = (out / f"{data}_{optimizer}" / "summary.md").read_text()
            assert summary.startswith(f"# {data}, {optimizer}: four inits (quick run: decides nothing)")
    assert (out / "optimizers.png").stat().st_size > 10_000


# ---- the claims, on grids drawn here (fast) -------------------------------------------------------------------
CRITICAL = trainability.WEIGHT_VARIANCES[2]


def _grid(learns_up_to: dict[float, int], seeds=(1, 2, 3, 4), depths=(2, 4, 8, 16, 32, 64)):
    """Test accuracies over (sigma_w^2, depth): 0.9 (+- a little) up to the given depth, 0.1 beyond."""
    rng = np.random.default_rng(0)
    return {(w, d): {(s,): (0.9 if d <= top else 0.1) + 0.01 * rng.standard_normal() for s in seeds}
            for w, top in learns_up_to.items() for d in depths}


def test_trainable_depth_peaks_at_the_critical_weight_variance():
    grid = _grid({1.0: 8, CRITICAL: 64, 4.0: 16})
    assert trainability.trainable_depth(grid, 1.0) == {(s,): 3.0 for s in (1, 2, 3, 4)}
    text, verdict = trainability.peak_claim(grid, [1.0, CRITICAL, 4.0], quick=False)
    assert verdict == "holds" and "σ_w² 1: +3.00 [+3.00, +3.00], n=4" in text
    # the peak elsewhere: at sigma_w^2 = 4 the networks learn deeper than at the critical one
    _, verdict = trainability.peak_claim(_grid({1.0: 8, CRITICAL: 16, 4.0: 64}), [1.0, CRITICAL, 4.0], quick=False)
    assert verdict == "does not hold"
    # a tie is no peak (at least half a step of the depth grid, on average)
    _, verdict = trainability.peak_claim(_grid({1.0: 64, CRITICAL: 64}), [1.0, CRITICAL], quick=False)
    assert verdict == "does not hold"


def test_deep_networks_beyond_six_xi_c_are_judged_by_their_interval():
    grid = _grid({1.0: 16})  # 6 xi_c = 21.8 at sigma_w^2 = 1: depths 32 and 64 are beyond
    beyond, within = trainability.regions(grid)
    assert beyond == [(1.0, 32), (1.0, 64)] and within == [(1.0, 2)]  # xi_c = 3.63
    assert trainability.regions(_grid({CRITICAL: 64}))[0] == []  # xi_c is infinite at the critical point
    _, verdict = trainability.cell_claim(grid, beyond, (0.0, trainability.FAILED), "fail", quick=False)
    assert verdict == "holds"
    grid[(1.0, 64)] = {(s,): 0.9 for s in (1, 2, 3, 4)}  # one cell beyond 6 xi_c learns: the claim fails
    _, verdict = trainability.cell_claim(grid, beyond, (0.0, trainability.FAILED), "fail", quick=False)
    assert verdict == "does not hold"


def test_the_gap_between_inits_shrinks_by_a_paired_difference_of_differences():
    seeds = [(s,) for s in range(1, 11)]
    rng = np.random.default_rng(1)
    under_gd = {s: 0.4 + 0.05 * rng.standard_normal() for s in seeds}  # He 40 points above random under gd
    under_adam = {s: under_gd[s] - 0.3 + 0.02 * rng.standard_normal() for s in seeds}  # 30 points less
    text, verdict = optimizers.shrink_claim("circles", {"gd": under_gd, "adam": under_adam}, "adam", quick=False)
    dd = [under_gd[s] - under_adam[s] for s in seeds]
    assert verdict == "holds" and f"= {100 * np.mean(dd):+.1f} [95 % interval" in text and "n=10" in text
    _, verdict = optimizers.shrink_claim("circles", {"gd": under_adam, "adam": under_gd}, "adam", quick=False)
    assert verdict == "does not hold"
    assert math.isclose(np.mean(dd), 0.3, abs_tol=0.03)
