"""How a named experiment decides a claim: from an interval or a test, never from a point.

A claim has one of three verdicts (:data:`VERDICTS`): it **holds** when the whole 95 % interval
supports it (or the test rejects its opposite), **does not hold** when none of the interval does
(or the test finds the opposite), and is **not decided at n=…** otherwise; a quick run decides
nothing. A report writes each claim as ``- **<verdict>**: <claim>: <numbers>``, from which
:func:`claims_in` reads the verdicts back.
"""

from __future__ import annotations

import numpy as np

from nninit.analysis import stats

VERDICTS = ("does not hold", "not decided", "holds")
"""The three verdicts of a claim (a report writes ``- **<verdict>**: <claim>: <numbers>``)."""


def quick_verdict(n: int) -> str:
    """The verdict of every claim of a quick run, which decides nothing: ``not decided (quick run, n=…)``."""
    return f"not decided (quick run, n={n})"


def decide(low: float, high: float, band: tuple[float, float], n: int, quick: bool) -> str:
    """The verdict of a claim that a quantity lies in ``band``, from its interval ``[low, high]``.

    Parameters
    ----------
    low, high : float
        The 95 % interval of the quantity (NaN when it has none).
    band : tuple of float
        ``(lowest, highest)`` value for which the claim holds (either may be infinite).
    n : int
        How many values the interval is drawn from (named in the verdict).
    quick : bool
        A quick run decides nothing.

    Returns
    -------
    str
        ``'holds'`` when the whole interval lies in ``band``, ``'does not hold'`` when none of it
        does, ``'not decided at n=…'`` otherwise (and for an infinite or NaN bound), or
        :func:`quick_verdict`.
    """
    if quick:
        return quick_verdict(n)
    if not np.isfinite([low, high]).all():
        return f"not decided at n={n}"
    if band[0] <= low and high <= band[1]:
        return "holds"
    if high < band[0] or low > band[1]:
        return "does not hold"
    return f"not decided at n={n}"


def verdict_of_test(holds: bool, fails: bool, n: int, quick: bool) -> str:
    """The verdict of a claim decided by a test: ``'holds'`` when the test supports it (``holds``),
    ``'does not hold'`` when the test of its opposite does (``fails``), ``'not decided at n=…'``
    otherwise, or :func:`quick_verdict` for a quick run."""
    if quick:
        return quick_verdict(n)
    if holds:
        return "holds"
    if fails:
        return "does not hold"
    return f"not decided at n={n}"



def verdict_of_all(results: list[str]) -> str:
    """All of several sub-claims: holds if every one holds, does not hold if one does not, else not
    decided (the first sub-claim's verdict for a quick run). ``results`` must not be empty."""
    if any(r.startswith("not decided (quick") for r in results):
        return results[0]
    if all(r == "holds" for r in results):
        return "holds"
    if any(r == "does not hold" for r in results):
        return "does not hold"
    return next(r for r in results if r.startswith("not decided"))


RANKS = {"Better than": "better", "Indistinguishable from": "indistinguishable", "Worse than": "worse"}
"""The lists of "Which is best?" (:func:`nninit.analysis.summary.which_is_best`): each group's place against
the best group (or the baseline)."""


def claims_in(report_text: str) -> dict[str, str]:
    """``{claim: verdict}`` of a report, every verdict it states, so that two reports of the same
    experiment (e.g. under two BLAS kernels) can be compared claim by claim:

    - each line ``- **VERDICT**: CLAIM: NUMBERS`` (the claim is the text before the first ``": "``), the
      verdict reduced to one of :data:`VERDICTS` (``not decided at n=10`` is ``not decided``);
    - each "Which is best?": the best group (claim ``SECTION: best by METRIC``), and every other group's
      place against it (claim ``SECTION: GROUP``; verdict ``better``, ``indistinguishable`` or ``worse``);
    - each row of a table whose last column is ``matches`` (claim ``FIRST CELL: SECOND CELL``).

    ``SECTION`` is the report's last ``## `` heading before the claim (the data set of ``all_inits``).
    """
    found: dict[str, str] = {}
    section, matches_table = "", False
    for line in report_text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[-1] == "matches":  # the header
                matches_table = True
            elif matches_table and not set(cells[0]) <= {"-"}:  # a row, not the line under the header
                found[f"{cells[0]}: {cells[1]}"] = cells[-1]
            continue
        matches_table = False
        found.update(_stated_verdict(line) or _ranked_groups(line, section))
    return found


def _stated_verdict(line: str) -> dict[str, str]:
    """``{claim: verdict}`` of a line ``- **VERDICT**: CLAIM: NUMBERS``, or nothing."""
    if not (line.startswith("- **") and "**: " in line):
        return {}
    verdict, rest = line[4:].split("**: ", 1)
    kind = next((v for v in VERDICTS if verdict.startswith(v)), None)
    return {} if kind is None else {rest.split(": ", 1)[0]: kind}


def _ranked_groups(line: str, section: str) -> dict[str, str]:
    """The verdicts of one line of "Which is best?": ``**Best by METRIC: GROUP**``, or one of its lists
    (``- Worse than it: GROUP (NUMBERS); GROUP (NUMBERS).``)."""
    where = f"{section}: " if section else ""
    if line.startswith("**Best by ") and "**" in line[2:]:
        metric, best = line[len("**Best by "):line.index("**", 2)].split(": ", 1)
        return {f"{where}best by {metric}": best}
    for start, verdict in RANKS.items():
        if line.startswith(f"- {start} ") and ": " in line:
            items = _top_level_items(line.split(": ", 1)[1].rstrip("."))
            return {f"{where}{item.split(' (', 1)[0]}": verdict for item in items if item != "none"}
    return {}


def _top_level_items(text: str) -> list[str]:
    """``text`` split at the ``"; "`` outside parentheses (``a (x; y); b (z)`` is ``a (x; y)``, ``b (z)``)."""
    items, depth, start = [], 0, 0
    for k, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith("; ", k):
            items.append(text[start:k])
            start = k + 2
    return [item.strip() for item in [*items, text[start:]] if item.strip()]


def interval(values, bounds: tuple[float, float] = stats.UNBOUNDED) -> tuple[float, float, float, int]:
    """The mean of the finite ``values``, its 95 % interval and how many values.

    The interval is :func:`nninit.analysis.stats.describe`'s (t below 30 values) clipped to ``bounds``,
    the range the quantity can take (``stats.NON_NEGATIVE`` for costs, norms, standard deviations,
    singular values: their intervals never go below 0). NaN mean and interval for no value, NaN
    interval for one.
    """
    e = stats.describe(values, bounds=bounds)
    return e.mean, e.ci_low, e.ci_high, e.n


def fisher_one_sided(successes_a: int, n_a: int, successes_b: int, n_b: int) -> tuple[float, float]:
    """One-sided p-values of Fisher's exact test (Fisher 1935; ``scipy.stats.fisher_exact``) of the 2 × 2
    table of successes and failures of ``a`` and ``b``: ``(p that a succeeds more often, p that it
    succeeds less often)``."""
    from scipy.stats import fisher_exact

    table = [[successes_a, n_a - successes_a], [successes_b, n_b - successes_b]]
    more, less = (float(fisher_exact(table, alternative=side).pvalue) for side in ("greater", "less"))
    return more, less
