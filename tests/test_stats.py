"""The comparison statistics against their published formulas and hand-computed answers (fast)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from nninit import stats


@pytest.mark.parametrize("n, method", [(3, "auto"), (5, "auto"), (10, "t")])
def test_interval_of_the_mean_covers_the_true_mean_95_percent_of_the_time(n, method):
    rng = np.random.default_rng(2026)
    hits = 0
    for _ in range(1000):
        x = rng.normal(3.0, 2.0, n)
        low, high, used = stats.mean_interval(x, method=method)
        hits += low <= 3.0 <= high
    assert used == "t"
    assert 0.93 <= hits / 1000 <= 0.97


def test_bootstrap_interval_coverage_where_auto_uses_it():
    """From BOOTSTRAP_MIN_N values on, auto uses scipy's BCa bootstrap; it is calibrated there."""
    rng = np.random.default_rng(7)
    n, hits = stats.BOOTSTRAP_MIN_N + 10, 0
    for _ in range(1000):
        x = rng.normal(0.0, 1.0, n)
        low, high, used = stats.mean_interval(x)
        hits += low <= 0.0 <= high
    assert used == "bca"
    assert 0.93 <= hits / 1000 <= 0.97


def test_small_bootstrap_under_covers_which_is_why_auto_does_not_use_it():
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(400):
        low, high, _ = stats.mean_interval(rng.normal(0.0, 1.0, 3), method="percentile")
        hits += low <= 0.0 <= high
    assert hits / 400 < 0.85


def test_t_interval_is_the_textbook_formula():
    x = np.array([0.91, 0.95, 0.93, 0.97])
    low, high, used = stats.mean_interval(x)
    half = sps.t.ppf(0.975, 3) * x.std(ddof=1) / 2.0
    assert used == "t"
    assert low == pytest.approx(x.mean() - half, rel=1e-12) and high == pytest.approx(x.mean() + half, rel=1e-12)


def test_bootstrap_summary_is_byte_identical_when_rerun():
    x = np.random.default_rng(0).normal(size=12)
    assert stats.mean_interval(x, method="bca") == stats.mean_interval(x, method="bca")
    assert stats.mean_interval(x, method="bca") != stats.mean_interval(x, method="percentile")


def test_describe_median_iqm_std_and_edge_cases():
    e = stats.describe([1.0, 2.0, 3.0, 4.0, 100.0, None, math.nan])
    assert e.n == 5 and e.mean == pytest.approx(22.0) and e.median == 3.0
    assert e.iqm == pytest.approx(3.0)  # trim 25 % each side of 5 values: the middle 3
    assert e.std == pytest.approx(np.std([1, 2, 3, 4, 100], ddof=1))
    one = stats.describe([0.7])
    assert one.n == 1 and one.mean == 0.7 and math.isnan(one.ci_low) and math.isnan(one.std)
    same = stats.describe([0.5, 0.5, 0.5])
    assert (same.ci_low, same.ci_high, same.method) == (0.5, 0.5, "exact")
    assert stats.describe([]).n == 0
    with pytest.raises(ValueError, match="accepted are auto, t, bca, percentile"):
        stats.mean_interval([1.0, 2.0], method="wald")


def test_wilson_interval_is_the_published_formula():
    k, n, z = 95, 100, sps.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = stats.wilson_interval(k, n)
    assert low == pytest.approx(centre - half, rel=1e-12) and high == pytest.approx(centre + half, rel=1e-12)
    assert stats.wilson_interval(95, 100) == pytest.approx((0.8882, 0.9785), abs=1e-4)
    with pytest.raises(ValueError, match="0 <= successes <= trials"):
        stats.wilson_interval(5, 4)


def test_probability_of_improvement_by_hand():
    a, b = [1.0, 2.0, 3.0], [2.0, 2.0, 0.0]
    # unpaired: of 9 pairs, a wins 5 and ties 2: (5 + 2/2) / 9
    assert stats.prob_improvement(a, b, paired=False) == pytest.approx(6 / 9)
    # paired: seed 1 loses, seed 2 ties, seed 3 wins: (0 + 0.5 + 1) / 3
    assert stats.prob_improvement(a, b, paired=True) == pytest.approx(0.5)
    assert stats.prob_improvement(b, a, paired=False) == pytest.approx(3 / 9)


def test_holm_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04) = 0.06
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    with_nan = stats.holm([0.02, math.nan, 0.04])
    assert with_nan[0] == pytest.approx(0.04) and math.isnan(with_nan[1]) and with_nan[2] == pytest.approx(0.04)
    assert stats.holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


A = [0.80, 0.85, 0.90, 0.95, 0.88, 0.83]


def test_paired_by_seed_separates_a_constant_shift_that_unpaired_cannot():
    a = {seed: v for seed, v in enumerate(A)}
    b = {seed: v + 0.01 for seed, v in a.items()}
    paired = stats.compare_two("test_accuracy", "a", a, "b", b, higher_is_better=True)
    assert paired.paired and paired.verdict == "b_better"
    assert paired.difference == pytest.approx(-0.01) and paired.ci_high - paired.ci_low < 1e-9
    assert paired.prob_improvement == 0.0
    other_seeds = {seed + 100: v for seed, v in b.items()}
    unpaired = stats.compare_two("test_accuracy", "a", a, "b", other_seeds, higher_is_better=True)
    assert not unpaired.paired and unpaired.verdict == "indistinguishable"
    assert unpaired.ci_low < 0 < unpaired.ci_high
    assert unpaired.seeds_needed > 6


def test_lower_is_better_flips_the_verdict_and_the_probability():
    a = {s: v for s, v in enumerate([0.10, 0.12, 0.11, 0.13])}
    b = {s: v + 0.5 for s, v in a.items()}
    d = stats.compare_two("final_cost", "a", a, "b", b, higher_is_better=False)
    assert d.verdict == "a_better" and d.prob_improvement == 1.0 and d.difference == pytest.approx(-0.5)
    undirected = stats.compare_two("a_std_1", "a", a, "b", b, higher_is_better=None)
    assert undirected.verdict == "b_higher"


def test_too_few_runs_is_a_verdict_never_a_ranking():
    a = {1: 0.9, 2: 0.91}
    b = {1: 0.5, 2: 0.5}
    rows = stats.compare_groups("test_accuracy", {"a": a, "b": b, "c": {1: 0.8, 2: 0.7, 3: 0.75}}, higher_is_better=True)
    assert [r.verdict for r in rows] == ["too_few_runs"] * 3
    assert all(math.isnan(r.p_adjusted) for r in rows)


def test_identical_groups_are_indistinguishable_and_constant_gaps_are_not():
    same = {s: 0.5 for s in range(4)}
    d = stats.compare_two("test_accuracy", "zeros", same, "zeros2", dict(same), higher_is_better=True)
    assert d.verdict == "indistinguishable" and d.p_value == 1.0 and d.seeds_needed is None
    up = {s: 0.6 for s in range(4)}
    assert stats.compare_two("test_accuracy", "a", up, "b", same, higher_is_better=True).verdict == "a_better"


def test_holm_adjustment_is_applied_over_the_pairs():
    rng = np.random.default_rng(3)
    groups = {name: {s: float(v) for s, v in enumerate(rng.normal(mu, 0.02, 6))}
              for name, mu in (("x", 0.90), ("y", 0.91), ("z", 0.5))}
    rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True)
    assert [(r.group_a, r.group_b) for r in rows] == [("x", "y"), ("x", "z"), ("y", "z")]
    assert [r.p_adjusted for r in rows] == pytest.approx(list(stats.holm([r.p_value for r in rows])))
    by_pair = {(r.group_a, r.group_b): r.verdict for r in rows}
    assert by_pair[("x", "z")] == by_pair[("y", "z")] == "a_better"
    base = stats.compare_groups("test_accuracy", groups, higher_is_better=True, baseline="z")
    assert [(r.group_a, r.group_b) for r in base] == [("x", "z"), ("y", "z")]
    with pytest.raises(KeyError):
        stats.compare_groups("test_accuracy", groups, higher_is_better=True, baseline="w")


def test_seeds_needed_matches_the_textbook_power_tables():
    # effect size 1 at 80 % power, two-sided 5 %: 10 pairs (one-sample/paired t), 17 per group (two-sample t)
    d = np.array([0.0, 2.0, 1.0 - math.sqrt(2.0) / 2, 1.0 + math.sqrt(2.0) / 2])  # mean 1, any spread; rescale:
    d = 1.0 + (d - d.mean()) / d.std(ddof=1)
    assert stats.seeds_needed(d, np.zeros_like(d), paired=True) == 10
    a = np.array([-1.0, 1.0, 0.0]) / 1.0
    a = (a - a.mean()) / a.std(ddof=1)
    assert stats.seeds_needed(a + 1.0, a, paired=False) == 17
    assert stats.seeds_needed(d + 1.0, np.zeros_like(d), paired=True) == 5  # effect size 2
    assert stats.seeds_needed(a + 2.0, a, paired=False) == 6
    assert stats.seeds_needed([1.0, 2.0], [1.0, 2.0], paired=True) is None  # no difference observed


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(3, 8), shift=st.floats(0.0, 0.05))
def test_an_interval_that_excludes_zero_never_contradicts_the_adjusted_test(seed, n, shift):
    """Intervals simultaneous over the pairs (Bonferroni) and Holm's p agree: excluding 0 implies p_adj < 0.05."""
    rng = np.random.default_rng(seed)
    groups = {name: {s: float(v) for s, v in enumerate(rng.normal(0.9 + k * shift, 0.02, n))}
              for k, name in enumerate("xyz")}
    for r in stats.compare_groups("test_accuracy", groups, higher_is_better=True):
        if r.ci_low > 0 or r.ci_high < 0:
            assert r.p_adjusted < 0.05, r
        assert (r.verdict == "indistinguishable") == (r.ci_low <= 0 <= r.ci_high), r


def test_three_pairs_get_simultaneous_intervals():
    rng = np.random.default_rng(5)
    groups = {name: {s: float(v) for s, v in enumerate(rng.normal(mu, 0.02, 6))} for name, mu in
              (("x", 0.90), ("y", 0.92), ("z", 0.93))}
    rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True)
    for r in rows:
        d = np.array(list(groups[r.group_a].values())) - np.array(list(groups[r.group_b].values()))
        half = sps.t.ppf(1 - 0.05 / 3 / 2, 5) * d.std(ddof=1) / np.sqrt(6)
        assert r.ci_low == pytest.approx(d.mean() - half, rel=1e-9) and r.ci_high == pytest.approx(d.mean() + half)
    one = stats.compare_groups("test_accuracy", {"x": groups["x"], "y": groups["y"]}, higher_is_better=True)[0]
    d = np.array(list(groups["x"].values())) - np.array(list(groups["y"].values()))
    assert one.ci_high - one.ci_low == pytest.approx(2 * sps.t.ppf(0.975, 5) * d.std(ddof=1) / np.sqrt(6))


def _bootstrap_reference(a, b, paired, method, confidence=0.95):
    """scipy's bootstrap called directly, as the module documents it (fixed seed 0, 9999 resamples)."""
    if paired:
        data, statistic = (a - b,), np.mean
    else:
        data, statistic = (a, b), (lambda x, y, axis=-1: x.mean(axis) - y.mean(axis))
    res = sps.bootstrap(data, statistic, confidence_level=confidence, n_resamples=9999, method=method,
                        rng=np.random.default_rng(0))
    return res.confidence_interval.low, res.confidence_interval.high


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("method, scipy_method", [("auto", "BCa"), ("bca", "BCa"), ("percentile", "percentile")])
def test_from_30_seeds_a_difference_gets_scipys_bootstrap_interval(paired, method, scipy_method):
    rng = np.random.default_rng(12)
    a, b = rng.normal(0.90, 0.02, 40), rng.normal(0.88, 0.03, 40)
    keys_b = range(40) if paired else range(100, 140)
    d = stats.compare_two("test_accuracy", "a", dict(enumerate(a)), "b", dict(zip(keys_b, b)),
                          higher_is_better=True, method=method)
    assert d.paired is paired
    order = sorted(range(40), key=repr) if paired else list(range(40))  # paired values go in the order of their seeds
    low, high = _bootstrap_reference(a[order], b[order], paired, scipy_method)
    assert (d.ci_low, d.ci_high) == pytest.approx((low, high), rel=1e-12)
    t_only = stats.compare_two("test_accuracy", "a", dict(enumerate(a)), "b", dict(zip(keys_b, b)),
                               higher_is_better=True, method="t")
    assert (t_only.ci_low, t_only.ci_high) != (d.ci_low, d.ci_high)
    assert d.p_value == t_only.p_value  # the test is the t-test whatever the interval


def test_below_30_seeds_auto_keeps_the_t_interval_of_a_difference():
    rng = np.random.default_rng(13)
    a, b = rng.normal(0.90, 0.02, 29), rng.normal(0.88, 0.03, 29)
    auto = stats.compare_two("m", "a", dict(enumerate(a)), "b", dict(enumerate(b)), higher_is_better=True)
    d = a - b
    half = sps.t.ppf(0.975, 28) * d.std(ddof=1) / np.sqrt(29)
    assert (auto.ci_low, auto.ci_high) == pytest.approx((d.mean() - half, d.mean() + half), rel=1e-12)


def test_the_interval_of_the_mean_is_scipys_bootstrap_from_30_values():
    x = np.random.default_rng(14).normal(0.5, 0.1, 30)
    res = sps.bootstrap((x,), np.mean, n_resamples=9999, method="BCa", rng=np.random.default_rng(0))
    low, high, used = stats.mean_interval(x)
    assert used == "bca" and (low, high) == pytest.approx(tuple(res.confidence_interval), rel=1e-12)
    low, high, used = stats.mean_interval(x, method="percentile")
    res = sps.bootstrap((x,), np.mean, n_resamples=9999, method="percentile", rng=np.random.default_rng(0))
    assert used == "percentile" and (low, high) == pytest.approx(tuple(res.confidence_interval), rel=1e-12)
    low, high, used = stats.mean_interval(x[:29])
    assert used == "t"


def test_seeds_needed_gives_up_past_its_limit_and_needs_two_values():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    assert stats.seeds_needed(a + 1e-4, a + np.array([0.3, -0.2, 0.1, -0.2]), paired=True, limit=1000) is None
    assert stats.seeds_needed([1.0], [2.0, 3.0], paired=False) is None
    assert stats.seeds_needed([1.0, 1.0], [2.0, 2.0], paired=False) == 2  # no spread: separated at once
    smaller_alpha = stats.seeds_needed(a + 1.0, a, paired=False, alpha=0.05 / 3)
    assert smaller_alpha > stats.seeds_needed(a + 1.0, a, paired=False)


def test_a_comparison_records_what_it_compared():
    """Names, sizes, the probability for a lower-is-better metric, seeds needed with the pairing used."""
    a, b = {1: 0.1, 2: 0.3, 3: 0.5}, {11: 0.2, 12: 0.4, 13: 0.6}
    d = stats.compare_two("final_cost", "x", a, "y", b, higher_is_better=False)
    assert (d.metric, d.group_a, d.group_b, d.paired, d.n_a, d.n_b) == ("final_cost", "x", "y", False, 3, 3)
    assert d.prob_improvement == pytest.approx(6 / 9)  # P(cost of x < cost of y), by hand
    assert d.verdict == "indistinguishable" and d.verdict in stats.VERDICTS
    assert d.seeds_needed == stats.seeds_needed([0.1, 0.3, 0.5], [0.2, 0.4, 0.6], paired=False)
    paired_a = {1: 0.50, 2: 0.62, 3: 0.71, 4: 0.55}
    paired_b = {1: 0.52, 2: 0.61, 3: 0.74, 4: 0.56}
    p = stats.compare_two("test_accuracy", "x", paired_a, "y", paired_b, higher_is_better=True)
    assert p.paired and p.verdict == "indistinguishable"
    va, vb = np.array(list(paired_a.values())), np.array(list(paired_b.values()))
    assert p.seeds_needed == stats.seeds_needed(va, vb, paired=True) != stats.seeds_needed(va, vb, paired=False)


@pytest.mark.parametrize("n_a, n_b, interval", [(1, 3, False), (3, 1, False), (2, 2, True), (2, 3, True), (3, 2, True)])
def test_two_values_give_an_interval_but_never_a_ranking(n_a, n_b, interval):
    a = {k: 0.9 + 0.01 * k for k in range(n_a)}
    b = {k + 10: 0.5 + 0.01 * k for k in range(n_b)}
    d = stats.compare_two("test_accuracy", "a", a, "b", b, higher_is_better=True)
    assert d.verdict == "too_few_runs" and math.isnan(d.p_adjusted)
    assert math.isfinite(d.ci_low) is interval and math.isfinite(d.p_value) is interval
    assert d.difference == pytest.approx(np.mean(list(a.values())) - np.mean(list(b.values())))
