"""Statistics whose cost grows with the seeds and pairs only: Wilson's formula pinned to scipy, seeds_needed
equal to the full noncentral-t search, each pair's test computed once, the bootstrap bounded at large n."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from nninit.analysis import differences, intervals, power, stats
from nninit.analysis.pair_tests import pair_tests


@pytest.mark.parametrize("k, n, confidence", [(0, 1, 0.95), (1, 1, 0.95), (95, 100, 0.95), (3, 7, 0.9),
                                              (500, 1000, 0.99), (0, 200, 0.95), (199, 200, 0.95), (1, 3, 0.5)])
def test_wilson_interval_is_scipys_binomtest_wilson(k, n, confidence):
    """Both evaluate one closed form; 1e-12 relative allows their different order of operations."""
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert stats.wilson_interval(k, n, confidence=confidence) == pytest.approx((ci.low, ci.high), rel=1e-12, abs=1e-15)


def _full_search(a, b, *, paired, alpha=0.05, power=0.8, limit=100_000):
    """The search seeds_needed did before (doubling then bisection over the exact noncentral-t power), with the
    wrong-side tail that scipy underflows to NaN taken as 0 (before, a NaN power counted as reached)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    delta = float(np.mean(a - b)) if paired else float(a.mean() - b.mean())
    spread = float(np.std(a - b, ddof=1)) if paired else math.sqrt(a.var(ddof=1) + b.var(ddof=1))

    def achieved(n):
        df = n - 1 if paired else 2 * n - 2
        nc = abs(delta) / (spread / math.sqrt(n))
        crit = sps.t.ppf(1 - alpha / 2, df)
        return float(sps.nct.sf(crit, df, nc) + np.nan_to_num(sps.nct.cdf(-crit, df, nc), nan=0.0))

    low, high = 1, 2
    while achieved(high) < power:
        if high >= limit:
            return None
        low, high = high, min(high * 2, limit)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if achieved(mid) < power else (low, mid)
    return high


@pytest.mark.parametrize("seed", range(12))
def test_seeds_needed_is_the_exact_search_from_a_closed_form_start(seed):
    """The same exact answer (equality, no tolerance: both return the smallest n whose exact power reaches 80 %,
    and power grows with n), over effects from tiny (hundreds of seeds, or the limit) to huge (2 seeds)."""
    rng = np.random.default_rng(seed)
    n, shift = int(rng.integers(3, 12)), float(10 ** rng.uniform(-2, 0.7))
    a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    for paired in (True, False):
        for alpha in (0.05, 0.05 / 45):
            for limit in (100_000, 300):
                got = stats.seeds_needed(a + shift, b, paired=paired, alpha=alpha, limit=limit)
                assert got == _full_search(a + shift, b, paired=paired, alpha=alpha, limit=limit)


def test_seeds_needed_never_takes_an_underflowed_power_for_enough():
    """At alpha 0.05/45 and n = 5 scipy's nct.cdf(-crit) is NaN; the power there is 0.737 < 0.8, so 5 is too few."""
    rng = np.random.default_rng(1)
    n, shift = int(rng.integers(3, 12)), float(10 ** rng.uniform(-2, 0.7))
    a, b = rng.normal(0, 1, n) + shift, rng.normal(0, 1, n)
    assert stats.seeds_needed(a, b, paired=True, alpha=0.05 / 45) == 6


def test_seeds_needed_evaluates_the_power_a_few_times():
    calls = []
    real = sps.nct.sf

    def counted(*args):
        calls.append(np.size(args[1]))
        return real(*args)
    a = np.random.default_rng(0).normal(0, 1, 10)
    expected = _full_search(a + 0.3, a[::-1], paired=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(power.stats.nct, "sf", counted)
        assert stats.seeds_needed(a + 0.3, a[::-1], paired=False) == expected
    assert len(calls) == 1  # one vectorized call over the window, where the full search made ~15


def test_each_pair_is_tested_once_and_the_bonferroni_level_derived(monkeypatch):
    calls, real = [], differences.pair_tests
    monkeypatch.setattr(differences, "pair_tests", lambda pairs: calls.append(len(pairs)) or real(pairs))
    rng = np.random.default_rng(1)
    groups = {f"g{i}": {s: float(rng.normal(i * 0.1, 1)) for s in range(5)} for i in range(6)}
    rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True)
    assert len(rows) == 15 and calls == [15]  # every pair tested once, all in one call
    for r in rows:  # the adjusted interval is the same test inverted at level 1 - 0.05 / 15
        a, b = groups[r.group_a], groups[r.group_b]
        p, low, high = differences._test_and_interval(np.array(list(a.values())), np.array(list(b.values())),
                                                      True, 1 - 0.05 / 15)
        assert (r.p_value, r.ci_low, r.ci_high, r.p_adjusted) == (p, low, high, min(1.0, 15 * p))
        expected = stats.seeds_needed(list(a.values()), list(b.values()), paired=True, alpha=0.05 / 15)
        assert r.seeds_needed == (expected if r.verdict == "indistinguishable" else None)
    assert any(r.seeds_needed for r in rows)


def test_stacked_paired_tests_are_the_single_tests():
    """Equality, not closeness: each stacked row goes through scipy's arithmetic as one call would."""
    rng = np.random.default_rng(3)
    pairs = [(rng.normal(0, 1, n), rng.normal(0.3, 1, n), paired) for n in (3, 3, 5, 10, 10) for paired in (1, 0)]
    for (a, b, paired), test in zip(pairs, pair_tests([(a, b, bool(p)) for a, b, p in pairs]), strict=True):
        one = sps.ttest_1samp(a - b, 0.0) if paired else sps.ttest_ind(a, b, equal_var=False)
        for level in (0.95, 1 - 0.05 / 45):
            ci = one.confidence_interval(level)
            assert (test.p_value, *test.interval(level)) == (one.pvalue, ci.low, ci.high)


def test_compare_two_alone_is_unchanged_by_the_sharing():
    a, b = {1: 0.5, 2: 0.7, 3: 0.6}, {1: 0.4, 2: 0.65, 3: 0.58}
    d = stats.compare_two("test_accuracy", "a", a, "b", b, higher_is_better=True)
    p, low, high = differences._test_and_interval(np.array([0.5, 0.7, 0.6]), np.array([0.4, 0.65, 0.58]), True, 0.95)
    assert (d.p_value, d.ci_low, d.ci_high, d.p_adjusted) == (p, low, high, p)


def test_auto_interval_is_t_past_the_bootstrap_range_and_bca_within():
    v = np.random.default_rng(2).normal(0, 1, intervals.BOOTSTRAP_MAX_N)
    low, high, method = stats.mean_interval(v)
    t = sps.ttest_1samp(v, 0.0).confidence_interval(0.95)
    assert method == "t" and (low, high) == (float(t.low), float(t.high))
    assert stats.mean_interval(v[:intervals.BOOTSTRAP_MIN_N])[2] == "bca"
    assert intervals._batch(1000) is None  # within auto's range nothing is batched: numbers of one draw
    assert intervals._batch(20_000) * 20_000 <= intervals.BOOTSTRAP_BATCH_VALUES


@pytest.mark.slow
def test_many_groups_are_paged_in_summary_md_and_capped_in_the_figures(tmp_path, monkeypatch):
    """12 groups: 66 pairs, of which summary.md lists 45 (the best group's 11 first); the figures draw at most
    MAX_GROUPS_DRAWN groups (11 here) and decision_boundaries.png 10; comparisons.csv keeps all 66."""
    from test_index import write_run

    from nninit.analysis import tables
    from nninit.app.report import write_summary
    from nninit.figures import comparison_plots as cp

    for g in range(12):
        for s in range(3):
            write_run(tmp_path / "runs" / f"g{g}s{s}", init=f"init{g:02d}", seed=s + 1,
                      accuracy=0.5 + 0.03 * g + 0.01 * s)
    drawn = {}
    monkeypatch.setattr(tables, "MAX_GROUPS_DRAWN", 11)
    for name in ("plot_cost_curves", "plot_decision_boundaries"):
        monkeypatch.setattr(cp, name, lambda groups, path, name=name: drawn.__setitem__(name, list(groups)))
    write_summary([tmp_path / "runs"], tmp_path / "out", plots=True)
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "45 of the 66 pairs are shown" in md and md.count("| init=init11 |") + md.count("| init=init11 ") >= 11
    assert len((tmp_path / "out" / "comparisons.csv").read_text().splitlines()) == 1 + 66 * 4  # 4 metrics: dead too
    assert len(drawn["plot_cost_curves"]) == 11 and len(drawn["plot_decision_boundaries"]) == 10
    assert "init=init11" in drawn["plot_decision_boundaries"]  # the best group is always drawn
