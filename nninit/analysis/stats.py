"""How sure a comparison is: intervals, paired differences, tests, verdicts, seeds needed.

One import for all of it, gathered from :mod:`nninit.analysis.intervals` (intervals of means and
proportions), :mod:`nninit.analysis.differences` (tests, Bonferroni, verdicts) and
:mod:`nninit.analysis.power` (seeds needed). Everything takes plain numbers (one value per seed)
and returns plain numbers; the distributions, the bootstrap and the tests are scipy's. Formulas
and their sources:

- the interval of a mean: Student's t (exact for normal data at any n) below
  :data:`BOOTSTRAP_MIN_N` values, scipy's BCa bootstrap (Efron 1987) from there on, t again from
  :data:`BOOTSTRAP_MAX_N` values (accurate there, and linear in the values). The bootstrap
  under-covers with few values (measured on normal data: 74 % at n=3, 85 % at n=5, 92 % at
  n=10 for a nominal 95 %), which is the usual number of seeds; see ``tests/test_stats.py``;
- a binomial proportion (accuracy on a finite test set): Wilson's score interval (Wilson 1927);
- a difference of groups: paired by seed when both groups have the same seeds (the mean and
  interval of the per-seed differences, and the paired t-test), unpaired otherwise (Welch's
  interval and t-test); the interval is always the inversion of that test, so that the interval
  excludes 0 exactly when p < 1 - confidence;
- m pairs at once: one family-wise procedure, Bonferroni's (Dunn 1961): p-values multiplied by m
  (capped at 1) and intervals at level ``1 - (1 - confidence) / m``, so that an adjusted p below
  0.05, an interval that excludes 0 and a verdict better/worse always go together (Holm's
  step-down p-values, :func:`holm`, are sharper but have no intervals that agree with them);
- a scale-free notion of "identical up to rounding": a spread of at most :data:`ROUNDING` times the
  largest magnitude of the values, so that changing the units changes no verdict;
- probability of improvement P(X > Y) with ties counted half (Agarwal et al. 2021);
- seeds needed to separate an observed difference: the power of the same t-test from the
  noncentral t distribution, 80 % power at a two-sided 5 % level (Colas et al. 2018), searched from the
  normal-approximation closed form so that it costs a few evaluations a pair.
"""

from nninit.analysis.differences import (
    MIN_RUNS,
    VERDICTS,
    Difference,
    compare_groups,
    compare_two,
    holm,
    prob_improvement,
    verdict,
)
from nninit.analysis.intervals import (
    ALPHA,
    BOOTSTRAP_MAX_N,
    BOOTSTRAP_MIN_N,
    CONFIDENCE,
    FRACTION,
    METHODS,
    N_RESAMPLES,
    NON_NEGATIVE,
    RANDOM_STATE,
    ROUNDING,
    UNBOUNDED,
    Estimate,
    clip_interval,
    describe,
    mean_interval,
    wilson_interval,
)
from nninit.analysis.power import seeds_needed

__all__ = [
    "ALPHA", "BOOTSTRAP_MAX_N", "BOOTSTRAP_MIN_N", "CONFIDENCE", "FRACTION", "METHODS", "MIN_RUNS", "N_RESAMPLES",
    "NON_NEGATIVE",
    "RANDOM_STATE", "ROUNDING", "UNBOUNDED", "VERDICTS", "Difference", "Estimate", "clip_interval", "compare_groups",
    "compare_two", "describe", "holm", "mean_interval", "prob_improvement", "seeds_needed", "verdict",
    "wilson_interval",
]
