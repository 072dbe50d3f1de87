"""The comparison statistics against their published formulas and hand-computed answers (fast)."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from nninit.analysis import differences, stats


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


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
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


def _wilson_formula(k, n, confidence=0.95):
    """Wilson's score interval, written out (Wilson 1927)."""
    z = sps.norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_interval_is_the_published_formula():
    low, high = stats.wilson_interval(95, 100)
    assert (low, high) == pytest.approx(_wilson_formula(95, 100), rel=1e-12)
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
    rows = stats.compare_groups("test_accuracy", {"a": a, "b": b, "c": {1: 0.8, 2: 0.7, 3: 0.75}},
                                higher_is_better=True)
    assert [r.verdict for r in rows] == ["too_few_runs"] * 3
    assert all(math.isnan(r.p_adjusted) for r in rows)


def test_identical_groups_are_indistinguishable_and_constant_gaps_are_not():
    same = {s: 0.5 for s in range(4)}
    d = stats.compare_two("test_accuracy", "zeros", same, "zeros2", dict(same), higher_is_better=True)
    assert d.verdict == "indistinguishable" and d.p_value == 1.0 and d.seeds_needed is None
    up = {s: 0.6 for s in range(4)}
    assert stats.compare_two("test_accuracy", "a", up, "b", same, higher_is_better=True).verdict == "a_better"


def test_bonferroni_adjustment_is_applied_over_the_pairs():
    rng = np.random.default_rng(3)
    groups = {name: {s: float(v) for s, v in enumerate(rng.normal(mu, 0.02, 6))}
              for name, mu in (("x", 0.90), ("y", 0.91), ("z", 0.5))}
    rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True)
    assert [(r.group_a, r.group_b) for r in rows] == [("x", "y"), ("x", "z"), ("y", "z")]
    assert [r.p_adjusted for r in rows] == [min(1.0, 3 * r.p_value) for r in rows]
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
    """Intervals simultaneous over the pairs and the p-values come from one Bonferroni adjustment: an
    interval excludes 0 exactly when p_adj < 0.05."""
    rng = np.random.default_rng(seed)
    groups = {name: {s: float(v) for s, v in enumerate(rng.normal(0.9 + k * shift, 0.02, n))}
              for k, name in enumerate("xyz")}
    for r in stats.compare_groups("test_accuracy", groups, higher_is_better=True):
        assert (r.ci_low > 0 or r.ci_high < 0) == (r.p_adjusted < 0.05), r
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


@pytest.mark.parametrize("paired", [True, False])
def test_from_30_seeds_a_difference_keeps_the_interval_of_its_test(paired):
    """The interval of a difference is the inversion of its t-test at any n, so that it excludes 0
    exactly when p < 0.05 (a bootstrap interval beside a t-test's p could disagree with it)."""
    rng = np.random.default_rng(12)
    a, b = rng.normal(0.90, 0.02, 40), rng.normal(0.88, 0.03, 40)
    keys_b = range(40) if paired else range(100, 140)
    d = stats.compare_two("test_accuracy", "a", dict(enumerate(a)), "b", dict(zip(keys_b, b)), higher_is_better=True)
    order = sorted(range(40), key=repr) if paired else list(range(40))  # paired values go in the order of their seeds
    test = sps.ttest_rel(a[order], b[order]) if paired else sps.ttest_ind(a, b, equal_var=False)
    assert d.paired is paired and d.p_value == pytest.approx(test.pvalue, rel=1e-12)
    assert (d.ci_low, d.ci_high) == pytest.approx(tuple(test.confidence_interval(0.95)), rel=1e-12)


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


# --- The interval of a mean and describe(): few values, the options, the method used ---------------------

def test_two_values_get_the_t_interval_and_fewer_get_none():
    low, high, used = stats.mean_interval([0.90, 0.94])
    half = sps.t.ppf(0.975, 1) * np.std([0.90, 0.94], ddof=1) / math.sqrt(2)
    assert used == "t" and (low, high) == pytest.approx((0.92 - half, 0.92 + half), rel=1e-12)
    low, high, used = stats.mean_interval([0.9, None, math.inf])
    assert math.isnan(low) and math.isnan(high) and used == "none"
    empty = stats.describe([math.nan])
    assert empty.n == 0 and empty.method == "none" and math.isnan(empty.mean) and math.isnan(empty.iqm)


def test_describe_passes_its_confidence_and_method_on():
    x = np.array([0.91, 0.95, 0.93, 0.97, 0.90])
    e = stats.describe(x, confidence=0.9)
    assert (e.ci_low, e.ci_high) == pytest.approx(sps.t.interval(0.9, 4, loc=x.mean(), scale=sps.sem(x)), rel=1e-12)
    e = stats.describe(x, method="percentile")
    res = sps.bootstrap((x,), np.mean, n_resamples=9999, method="percentile", rng=np.random.default_rng(0))
    assert e.method == "percentile"
    assert (e.ci_low, e.ci_high) == pytest.approx(tuple(res.confidence_interval), rel=1e-12)


def test_the_bootstrap_interval_at_another_confidence_is_scipys():
    x = np.random.default_rng(15).normal(0.5, 0.1, 30)
    res = sps.bootstrap((x,), np.mean, confidence_level=0.8, n_resamples=9999, method="BCa",
                        rng=np.random.default_rng(0))
    low, high, used = stats.mean_interval(x, confidence=0.8)
    assert used == "bca" and (low, high) == pytest.approx(tuple(res.confidence_interval), rel=1e-12)


def test_std_of_two_values_and_one_value_gives_nan_quietly():
    assert stats.describe([1.0, 2.0]).std == pytest.approx(math.sqrt(0.5))  # |1 - 2| / sqrt(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Degrees of freedom <= 0" from numpy
        assert math.isnan(stats.describe([0.7]).std)


def test_single_precision_values_are_summarised_in_double_precision():
    x32 = np.array([0.1, 0.2, 0.7, 0.3], dtype=np.float32)
    x64 = x32.astype(np.float64)  # the same numbers, exactly
    e = stats.describe(x32)
    assert e.mean == x64.mean() and e.std == x64.std(ddof=1)


def test_values_equal_up_to_rounding_have_an_exact_interval_without_a_warning():
    """30 values one ulp apart: scipy's BCa cannot be computed there (NaN, with a 0/0 and a warning), and
    no interval is needed: the values are equal up to rounding (stats.ROUNDING), the mean is exact."""
    x = np.array([0.5] * 29 + [np.nextafter(0.5, 1.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high, used = stats.mean_interval(x)
    assert used == "exact" and low == high and x.min() <= low <= x.max()


# --- Wilson's interval at its edges --------------------------------------------------------------------

@pytest.mark.parametrize("k, n, confidence", [(0, 1, 0.95), (1, 1, 0.95), (0, 10, 0.95), (10, 10, 0.95),
                                                (95, 100, 0.9)])
def test_wilson_interval_at_no_and_all_successes_and_another_confidence(k, n, confidence):
    low, high = stats.wilson_interval(k, n, confidence=confidence)
    assert (low, high) == pytest.approx(_wilson_formula(k, n, confidence), rel=1e-12, abs=1e-15)


def test_wilson_interval_needs_a_trial_and_successes_among_them():
    for k, n in [(0, 0), (-1, 10), (11, 10)]:
        with pytest.raises(ValueError, match="0 <= successes <= trials"):
            stats.wilson_interval(k, n)


# --- Probability of improvement and Holm at their edges ------------------------------------------------

def test_probability_of_improvement_with_one_value_and_with_none():
    assert stats.prob_improvement([1.0], [0.0, 2.0], paired=False) == 0.5
    assert stats.prob_improvement([0.0, 2.0], [1.0], paired=False) == 0.5
    assert stats.prob_improvement([1.0], [0.0], paired=True) == 1.0
    assert math.isnan(stats.prob_improvement([], [1.0, 2.0], paired=False))
    assert math.isnan(stats.prob_improvement([1.0, 2.0], [], paired=False))
    with pytest.raises(ValueError, match="paired values need equal lengths, got 2 and 3"):
        stats.prob_improvement([1.0, 2.0], [1.0, 2.0, 3.0], paired=True)


def test_holm_adjusts_single_precision_p_values_in_double_precision():
    p32 = np.array([0.07, 0.4, 0.1], dtype=np.float32)
    smallest = 3 * float(p32[0])  # 0.07 * 3, which float32 would round
    assert list(stats.holm(p32)) == [smallest, float(p32[1]), smallest]  # 0.1 * 2 is below it


# --- The test and the interval of a difference ---------------------------------------------------------

def test_p_values_are_scipys_paired_and_welch_t_tests():
    a = {s: v for s, v in enumerate([0.81, 0.86, 0.90, 0.95, 0.88, 0.83])}
    b = {s: v for s, v in enumerate([0.80, 0.83, 0.91, 0.90, 0.85, 0.84])}
    paired = stats.compare_two("test_accuracy", "a", a, "b", b, higher_is_better=True)
    assert paired.paired and paired.p_value == pytest.approx(sps.ttest_rel(list(a.values()), list(b.values())).pvalue,
                                                             rel=1e-12)
    # fewer seeds, more spread: Welch differs from Student
    c = {s + 10: v for s, v in enumerate([0.70, 0.95, 0.60, 0.99])}
    welch = stats.compare_two("test_accuracy", "a", a, "c", c, higher_is_better=True)
    expected = sps.ttest_ind(list(a.values()), list(c.values()), equal_var=False)
    assert not welch.paired and welch.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert (welch.ci_low, welch.ci_high) == pytest.approx(tuple(expected.confidence_interval()), rel=1e-12)


def test_a_constant_shift_is_exact_despite_rounding():
    """Train times around 1000 s, b 12.3 s slower on every seed: the per-seed differences vary by 2e-13
    (rounding); the shift is decided exactly, and its interval is the difference itself."""
    a = dict(enumerate([1000.3, 1100.7, 950.2, 1500.9, 2100.4, 980.6]))
    b = {s: v + 12.3 for s, v in a.items()}
    d = stats.compare_two("train_time", "a", a, "b", b, higher_is_better=False)
    assert d.paired and d.p_value == 0.0 and d.verdict == "a_better"
    assert d.ci_low == d.ci_high == d.difference == np.mean(np.array(list(a.values())) - np.array(list(b.values())))


def test_from_30_seeds_a_constant_shift_is_still_exact_and_quiet():
    a = dict(enumerate(np.random.default_rng(16).normal(0.9, 0.02, 40)))
    b = {s: v + 0.1 for s, v in a.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's bootstrap of constant differences would warn twice
        d = stats.compare_two("test_accuracy", "a", a, "b", b, higher_is_better=True)
    assert d.p_value == 0.0 and d.ci_low == d.ci_high == d.difference and d.verdict == "b_better"


def test_constant_groups_with_other_seeds_are_compared_exactly():
    half = {s: 0.5 for s in range(4)}
    more = {s + 10: 0.6 for s in range(4)}
    d = stats.compare_two("test_accuracy", "a", more, "b", half, higher_is_better=True)
    assert not d.paired and d.verdict == "a_better" and d.p_value == 0.0
    assert d.ci_low == d.ci_high == pytest.approx(0.1)
    same = stats.compare_two("test_accuracy", "a", {s + 10: 0.5 for s in range(4)}, "b", half, higher_is_better=True)
    assert same.verdict == "indistinguishable" and same.p_value == 1.0 and same.ci_low == same.ci_high == 0.0


def test_only_rounding_counts_as_no_spread():
    """Differences that spread by at most 1e-12 x the largest magnitude of the values count as
    identical; more is a t-test, whatever the units."""
    for unit in (1.0, 1e-21, 1e21):
        base = {s: unit * v for s, v in enumerate([1.0, 2.0, 3.0])}
        at_tolerance = {s: v + unit * 0.5 + unit * (3e-12 if s == 1 else 0.0) for s, v in base.items()}
        d = stats.compare_two("m", "a", at_tolerance, "b", base, higher_is_better=True)
        assert d.p_value == 0.0 and d.ci_low == d.ci_high and d.verdict == "a_better", unit
        above = {s: v + unit * 0.5 + unit * (4e-12 if s == 1 else 0.0) for s, v in base.items()}
        d = stats.compare_two("m", "a", above, "b", base, higher_is_better=True)
        assert d.p_value > 0.0 and d.ci_low < d.ci_high, unit


def test_a_metric_around_1e_minus_21_is_not_identical_up_to_rounding():
    """Gradient norms of two tiny-init groups, around 1e-21 and spread like any other: a t-test, and
    the same verdict as the same values in other units (it was p = 0, a zero-width interval and a_higher)."""
    a = dict(enumerate([1.0e-21, 1.3e-21, 0.8e-21, 1.1e-21]))
    b = dict(enumerate([0.9e-21, 1.4e-21, 0.9e-21, 1.2e-21]))
    tiny = stats.compare_two("grad_norm_1", "a", a, "b", b, higher_is_better=None)
    large = stats.compare_two("grad_norm_1", "a", {k: v * 1e21 for k, v in a.items()}, "b",
                              {k: v * 1e21 for k, v in b.items()}, higher_is_better=None)
    assert tiny.verdict == large.verdict == "indistinguishable"
    assert tiny.p_value == pytest.approx(large.p_value, rel=1e-9) and tiny.ci_low < tiny.ci_high


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy's, in the reference below
def test_a_constant_group_against_a_varying_one_is_compared_quietly():
    zeros = {s: 0.5 for s in range(5)}  # 50 % on every seed: a network that learned nothing
    other = {s + 10: v for s, v in enumerate([0.88, 0.91, 0.86, 0.93, 0.90])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's "Precision loss occurred" about the constant group
        d = stats.compare_two("test_accuracy", "zeros", zeros, "he", other, higher_is_better=True)
    assert d.p_value == pytest.approx(sps.ttest_ind([0.5] * 5, list(other.values()), equal_var=False).pvalue, rel=1e-9)
    assert d.verdict == "b_better"


# --- Seeds needed ---------------------------------------------------------------------------------------

def _two_sided_power(effect, n, paired, alpha):
    """Power of the two-sided t-test, both tails, from scipy's noncentral t (Colas et al. 2018, section 4)."""
    df = n - 1 if paired else 2 * n - 2
    crit = sps.t.ppf(1 - alpha / 2, df)
    return sps.nct.sf(crit, df, effect * math.sqrt(n)) + sps.nct.cdf(-crit, df, effect * math.sqrt(n))


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("alpha", [0.05, 0.5])
def test_seeds_needed_is_the_smallest_n_with_80_percent_power(paired, alpha):
    z = np.array([-1.2, 0.3, 0.9, -0.4, 0.4])
    z = (z - z.mean()) / z.std(ddof=1)  # mean 0, std 1
    b = np.array([0.8, 0.9, 0.85, 0.95, 0.7])  # paired: the spread is that of a - b, not of a + b
    for effect in (0.5, 1.0, 1.45, 1.7, 2.2):
        if paired:
            a = b + effect + z
        else:
            a, b = effect + z / math.sqrt(2), z[::-1] / math.sqrt(2)  # s_a^2 + s_b^2 = 1
        expected = next(n for n in range(2, 1000) if _two_sided_power(effect, n, paired, alpha) >= 0.8)
        got = stats.seeds_needed(a, b, paired=paired, alpha=alpha)
        assert got == expected and type(got) is int, (effect, got, expected)


def test_seeds_needed_up_to_the_limit_itself():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    b = a - np.array([-0.2, 0.3, 0.0, 0.3])  # differences: mean 0.1, std 0.245, so 50 pairs
    assert stats.seeds_needed(a, b, paired=True) == 50
    assert stats.seeds_needed(a, b, paired=True, limit=60) == 50  # between 32 and 64: found, not given up
    assert stats.seeds_needed(a, b, paired=True, limit=50) == 50
    assert stats.seeds_needed(a, b, paired=True, limit=49) is None


# --- What a comparison records: seeds, pairing, too few runs ------------------------------------------

def test_diverged_runs_are_left_out_of_a_comparison():
    a = {1: 0.80, 2: 0.85, 3: 0.90, 4: math.nan}
    b = {1: 0.70, 2: 0.72, 3: 0.71, 4: None}
    d = stats.compare_two("test_accuracy", "a", a, "b", b, higher_is_better=True)
    assert (d.n_a, d.n_b, d.paired) == (3, 3, True)  # seed 4 diverged in both groups: the other three still pair
    assert d.difference == pytest.approx(np.mean([0.10, 0.13, 0.19]))
    one_sided = stats.compare_two("test_accuracy", "a", a, "b", {**b, 4: 0.73}, higher_is_better=True)
    assert (one_sided.n_a, one_sided.n_b, one_sided.paired) == (3, 4, False)


def test_two_seeds_in_common_pair_but_do_not_rank():
    d = stats.compare_two("test_accuracy", "a", {1: 0.90, 2: 0.94}, "b", {1: 0.80, 2: 0.86}, higher_is_better=True)
    assert d.paired and d.verdict == "too_few_runs"
    half = sps.t.ppf(0.975, 1) * np.std([0.10, 0.08], ddof=1) / math.sqrt(2)
    assert (d.ci_low, d.ci_high) == pytest.approx((0.09 - half, 0.09 + half), rel=1e-9)


def test_a_row_with_too_few_runs_records_everything_it_can():
    d = stats.compare_two("final_cost", "x", {1: 0.2, 2: 0.4}, "y", {5: 0.3, 6: 0.5, 7: 0.1}, higher_is_better=False)
    assert (d.metric, d.group_a, d.group_b, d.paired, d.n_a, d.n_b) == ("final_cost", "x", "y", False, 2, 3)
    assert d.verdict == "too_few_runs" and d.difference == pytest.approx(0.0)
    assert d.prob_improvement == pytest.approx(3 / 6)  # cost of x below y's in 3 of 6 pairs
    one = stats.compare_two("final_cost", "x", {1: 0.2}, "y", {5: 0.3, 6: 0.5, 7: 0.1}, higher_is_better=False)
    assert (one.metric, one.group_a, one.group_b, one.paired, one.n_a, one.n_b) == ("final_cost", "x", "y", False, 1, 3)
    assert one.verdict == "too_few_runs" and one.prob_improvement == pytest.approx(2 / 3)
    assert math.isnan(one.ci_low) and math.isnan(one.ci_high) and math.isnan(one.p_value)


def test_a_group_with_no_finite_value_is_too_few_runs_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice"
        d = stats.compare_two("test_accuracy", "diverged", {1: math.nan, 2: None}, "he", {1: 0.9, 2: 0.91, 3: 0.92},
                              higher_is_better=True)
    assert d.verdict == "too_few_runs" and (d.n_a, d.n_b) == (0, 3)
    assert math.isnan(d.difference) and math.isnan(d.p_value) and math.isnan(d.prob_improvement)


def test_a_metric_without_direction_reports_the_probability_of_being_higher():
    a = {s: v for s, v in enumerate([0.10, 0.12, 0.11, 0.13])}
    b = {s: v + 0.5 for s, v in a.items()}
    assert stats.compare_two("a_std_1", "a", a, "b", b, higher_is_better=None).prob_improvement == 0.0
    assert stats.compare_two("a_std_1", "b", b, "a", a, higher_is_better=None).prob_improvement == 1.0


# --- The verdict rule at its edges ----------------------------------------------------------------------

def _row(p, low, high, n=5):
    return stats.Difference("m", "a", "b", True, n, n, (low + high) / 2, low, high, p, p, 0.5, "")


def test_verdict_needs_p_below_alpha_on_the_side_of_the_difference():
    assert stats.verdict(_row(0.01, 0.1, 0.3), True) == "a_better"
    assert stats.verdict(_row(0.05, 0.1, 0.3), True) == "indistinguishable"  # p = alpha is not below it
    assert stats.verdict(_row(0.01, -0.3, -0.1), True) == "b_better"
    assert stats.verdict(_row(0.01, 0.1, 0.3, n=2), True) == "too_few_runs"


def test_lower_is_better_when_a_is_higher_makes_b_better():
    assert stats.verdict(_row(0.01, 0.1, 0.3), False) == "b_better"
    assert stats.verdict(_row(0.01, -0.3, -0.1), False) == "a_better"
    assert stats.verdict(_row(0.01, 0.1, 0.3), None) == "a_higher"


# --- compare_groups: what each row carries after the adjustment -----------------------------------------

def _groups(seed, means, n=6, sd=0.02, paired=True):
    rng = np.random.default_rng(seed)
    return {name: {(s if paired else 100 * k + s): float(v) for s, v in enumerate(rng.normal(mu, sd, n))}
            for k, (name, mu) in enumerate(means.items())}


def test_every_row_names_its_metric_and_lower_is_better_turns_the_probability():
    groups = _groups(3, {"x": 0.30, "y": 0.31, "z": 0.9})
    rows = stats.compare_groups("final_cost", groups, higher_is_better=False)
    assert all(r.metric == "final_cost" for r in rows)
    by_pair = {(r.group_a, r.group_b): r for r in rows}
    assert by_pair[("x", "z")].verdict == "a_better" and by_pair[("x", "z")].prob_improvement == 1.0


def test_seeds_needed_in_a_group_comparison_are_at_the_bonferroni_level():
    groups = _groups(4, {"x": 0.90, "y": 0.905, "z": 0.5})
    rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True)
    xy = rows[0]
    assert (xy.group_a, xy.group_b, xy.verdict) == ("x", "y", "indistinguishable")
    va, vb = np.array(list(groups["x"].values())), np.array(list(groups["y"].values()))
    assert xy.seeds_needed == stats.seeds_needed(va, vb, paired=True, alpha=0.05 / 3)
    assert xy.seeds_needed != stats.seeds_needed(va, vb, paired=False, alpha=0.05 / 3)
    assert [r.seeds_needed for r in rows[1:]] == [None, None]  # the others are separated
    two = stats.compare_groups("test_accuracy", {"x": groups["x"], "y": groups["y"]}, higher_is_better=True)[0]
    assert two.seeds_needed == stats.seeds_needed(va, vb, paired=True)  # one pair: alpha itself


def test_two_eligible_pairs_get_intervals_at_97_5_percent():
    groups = _groups(5, {"x": 0.90, "y": 0.92, "z": 0.93})
    groups["w"] = {1: 0.5, 2: 0.6}  # too few runs: not one of the m pairs
    rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True, baseline="z")
    assert [r.verdict == "too_few_runs" for r in rows] == [False, False, True]
    for r in rows[:2]:
        d = np.array(list(groups[r.group_a].values())) - np.array(list(groups["z"].values()))
        half = sps.t.ppf(1 - 0.05 / 2 / 2, 5) * d.std(ddof=1) / np.sqrt(6)
        assert (r.ci_low, r.ci_high) == pytest.approx((d.mean() - half, d.mean() + half), rel=1e-9)


def test_a_group_comparison_passes_its_confidence_on():
    one = _groups(6, {"x": 0.90, "y": 0.92})
    r = stats.compare_groups("test_accuracy", one, higher_is_better=True, confidence=0.9)[0]
    d = np.array(list(one["x"].values())) - np.array(list(one["y"].values()))
    half = sps.t.ppf(0.95, 5) * d.std(ddof=1) / np.sqrt(6)
    assert (r.ci_low, r.ci_high) == pytest.approx((d.mean() - half, d.mean() + half), rel=1e-9)
    many = _groups(7, {"x": 0.90, "y": 0.92, "z": 0.91}, n=30)  # 30 seeds: a mean's interval would be bootstrapped
    for m in (1, 3):
        groups = dict(list(many.items())[:m + 1]) if m == 1 else many
        rows = stats.compare_groups("test_accuracy", groups, higher_is_better=True)
        for r in rows:
            d = np.array(list(groups[r.group_a].values())) - np.array(list(groups[r.group_b].values()))
            half = sps.t.ppf(1 - 0.05 / m / 2, 29) * d.std(ddof=1) / np.sqrt(30)
            assert (r.ci_low, r.ci_high) == pytest.approx((d.mean() - half, d.mean() + half), rel=1e-9)


def test_an_unknown_baseline_is_named():
    with pytest.raises(KeyError, match="'w'"):
        stats.compare_groups("test_accuracy", _groups(3, {"x": 0.9, "y": 0.8}), higher_is_better=True, baseline="w")


def test_a_difference_at_rounding_level_is_no_difference():
    """The fresh-eyes review: he = 0.1 on every seed, xavier = 0.1 (1 + 1e-15), lecun = 0.1 + i 1e-17 were
    ranked with p < 0.001. Values equal up to rounding (ROUNDING, relative) have an exact mean, and a
    difference within rounding of 0 is none: p = 1, indistinguishable, and the interval runs from 0 to the observed
    difference (a few 1e-17: both are in it, as the interval of any verdict holds its difference)."""
    he = np.full(5, 0.1)
    for other in (np.full(5, 0.1 * (1 + 1e-15)), 0.1 + np.arange(5) * 1e-17):
        assert stats.mean_interval(other)[2] == "exact"
        for paired in (True, False):
            p, low, high = differences._test_and_interval(he, other, paired, 0.95)
            d = float((he - other).mean()) if paired else float(he.mean() - other.mean())
            assert (p, low, high) == (1.0, min(d, 0.0), max(d, 0.0)) and high - low < 1e-15
    p, low, high = differences._test_and_interval(he, he + 0.01, True, 0.95)  # a real difference, no spread: decided
    assert p == 0.0 and low == high == pytest.approx(-0.01)
