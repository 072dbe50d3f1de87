"""How the named experiments decide a claim: from an interval, never from a point (fast)."""

import ast
import importlib.util
import sys

import numpy as np
import pytest
from conftest import REPO

from nninit.analysis import stats
from nninit.analysis.claims import claims_in, decide, fisher_one_sided, interval, verdict_of_all, verdict_of_test
from nninit.app import study


def experiment(name: str):
    """The module of ``experiments/<name>.py`` (the experiments are scripts, not a package), imported
    without running its command."""
    spec = importlib.util.spec_from_file_location(name, REPO / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


depth_signal = experiment("depth_signal")


@pytest.mark.parametrize("low, high, verdict", [
    (0.96, 1.04, "holds"),             # the whole interval within 5 % of 1
    (0.90, 0.94, "does not hold"),     # none of it
    (0.93, 1.00, "not decided at n=5"),
    (float("nan"), float("nan"), "not decided at n=5"),
])
def test_a_claim_holds_only_when_its_interval_does(low, high, verdict):
    assert decide(low, high, (0.95, 1.05), 5, quick=False) == verdict


def test_a_quick_run_decides_nothing():
    assert decide(0.99, 1.01, (0.95, 1.05), 3, quick=True) == "not decided (quick run, n=3)"


def test_a_claim_decided_by_a_test_holds_fails_or_waits_for_more_seeds():
    assert verdict_of_test(True, False, 10, quick=False) == "holds"
    assert verdict_of_test(False, True, 10, quick=False) == "does not hold"
    assert verdict_of_test(False, False, 10, quick=False) == "not decided at n=10"
    assert verdict_of_test(True, False, 2, quick=True) == "not decided (quick run, n=2)"


def test_several_sub_claims_hold_only_together():
    assert verdict_of_all(["holds", "holds"]) == "holds"
    assert verdict_of_all(["holds", "not decided at n=3", "does not hold"]) == "does not hold"
    assert verdict_of_all(["holds", "not decided at n=3"]) == "not decided at n=3"
    assert verdict_of_all(["not decided (quick run, n=2)", "holds"]) == "not decided (quick run, n=2)"


def test_fisher_one_sided_p_values_are_scipys():
    """9 of 10 against 1 of 10 (deep_relu's He and Xavier at 22 layers): p = 0.00055 that the first
    succeeds more often, and the other side near 1."""
    more, less = fisher_one_sided(9, 10, 1, 10)
    assert more == pytest.approx(0.000547, abs=1e-6) and less > 0.99
    assert fisher_one_sided(1, 10, 9, 10) == pytest.approx((less, more))


def test_the_sweeps_run_the_checkouts_run_py():
    """The package is installed from the checkout (``pip install -e .``): its run.py and conf/ are there."""
    assert (study.REPO / "run.py").is_file() and (study.REPO / "conf" / "config.yaml").is_file()


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


# --- Intervals of quantities that cannot be negative ------------------------------------------------------
SKEWED = [0.2, 0.4, 2.5]  # three costs: the t interval of their mean is [-2.1, 4.2]


def test_report_intervals_of_costs_norms_and_accuracies_never_leave_their_range():
    """'cost at init 1.03 [−1.9, 3.97]' and '‖dW1‖ 0.267 [−0.821, 1.35]' were printed: a report clips
    the interval of a non-negative quantity at 0 (and of an accuracy at 100 %)."""
    assert stats.mean_interval(SKEWED)[0] < 0  # what a plain t interval says
    init_scale = experiment("init_scale")
    assert init_scale.cell(SKEWED) == "1.03 [0, 4.2]"
    assert init_scale.cell([0.99, 1.0, 0.9], percent=True).endswith(", 100.0]%")
    mean, low, high, n = interval(SKEWED, stats.NON_NEGATIVE)
    assert low == 0.0 and high > mean and n == 3
    assert interval([-1.0, 1.0, 3.0]) == pytest.approx((1.0, *stats.mean_interval([-1.0, 1.0, 3.0])[:2], 3))


def test_the_correlation_length_of_a_wide_interval_of_chi_is_drawn_from_its_clipped_interval():
    """χ_c ≥ 0, so ξ_c = −1/ln χ_c is in [0, inf]: an interval of χ_c reaching below 0 gave a math domain error."""
    members = [{"chi_c": v} for v in (0.01, 0.02, 0.9)]
    # the mean χ_c 0.31; its interval [0, 1.27]
    assert experiment("edge_of_chaos")._xi_text(members) == "0.854 [0, inf]"


def test_claims_are_read_back_from_a_report_with_their_kind_of_verdict():
    report = "\n".join(["# A report", "", "- **holds**: Depth 30, Xavier stalls: 10 of 10 seeds (72–100 %)",
                        "- **not decided at n=10**: Depth 30, He learns: final cost 0.3750 [0.1351, 0.6149]",
                        "- **does not hold**: Orthogonal tanh near 1: s5 = 0.19", "- Depth 30, He: described only",
                        "- **not decided (quick run, n=2)**: Depth 8, He ends lower: -0.1"])
    assert claims_in(report) == {"Depth 30, Xavier stalls": "holds", "Depth 30, He learns": "not decided",
                                 "Orthogonal tanh near 1": "does not hold", "Depth 8, He ends lower": "not decided"}


def test_the_verdicts_of_which_is_best_and_of_a_matches_table_are_claims_too():
    """init_scale, all_inits and seed_table state their verdicts as "Which is best?" lists and a table
    whose last column is `matches`; a kernel check compares them too (a group's place, the best group,
    each row). A group's numbers hold "; " inside their parentheses: the list is split outside them."""
    report = "\n".join([
        "# All initializers", "## circles", "| init | n | matches |", "|---|---|---|", "| he | 5 | yes |",
        "| random | 5 | no |", "",
        "**Best by test accuracy: init=he**, 95.2 [93.6, 96.8]% (mean [95 % interval], n=5).",
        "- Indistinguishable from it: init=random (−19.2 points [−58.7, 20.3], p = 0.717; about 10 seeds per "
        "group would separate a difference this size); init=lecun (−0.2 points [−7.0, 6.6], p = 1.000).",
        "- Worse than it: none.", "## moons", "**Best by final cost: init=xavier**, 0.1 [0.0, 0.2]",
        "- Better than the baseline: init=lsuv (1 point [0.5, 1.5], p < 0.001).",
        "- Worse than it: init=zeros (−50.0 points [−60.0, −40.0], p < 0.001)."])
    assert claims_in(report) == {
        "he: 5": "yes", "random: 5": "no",
        "circles: best by test accuracy": "init=he", "circles: init=random": "indistinguishable",
        "circles: init=lecun": "indistinguishable", "moons: best by final cost": "init=xavier",
        "moons: init=lsuv": "better", "moons: init=zeros": "worse"}


def test_a_kernel_check_marks_each_claim_kept_or_flipped(tmp_path, monkeypatch):
    """study.check_kernel (reports only, no sweep): a verdict that differs under the other kernel is
    flipped, one the other report lacks is 'not measured'."""
    import argparse

    here = "- **holds**: A: 1\n- **holds**: B: 2\n- **holds**: C: 3\n"
    there = "- **holds**: A: 1.1\n- **not decided at n=10**: B: 0.4\n"
    (tmp_path / "report.md").write_text("# R\n" + here)
    args = argparse.Namespace(report_only=True, overrides=[], launcher="basic")
    assert study.check_kernel("Haswell", tmp_path, here, lambda a: [], lambda out, a: there, args) == 0
    text = (tmp_path / "report.md").read_text()
    assert "| A | holds | holds | kept |" in text and "| B | holds | not decided | **flipped** |" in text
    assert "| C | holds | not measured | **flipped** |" in text and "1 of 3 verdicts kept, 2 flipped" in text


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_a_kernel_openblas_does_not_select_is_refused_before_any_sweep(tmp_path):
    """--check-kernel Bogus: OpenBLAS silently runs its own kernel for an unknown name, so the check
    would compare a kernel with itself; refused (exit 2) naming what runs instead, nothing written."""
    import subprocess

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "deep_relu.py"), "--quick", "--check-kernel",
                           "Bogus", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--check-kernel Bogus: OPENBLAS_CORETYPE=Bogus runs the" in proc.stderr, proc.stderr
    assert not out.exists()


def _imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module


@pytest.mark.parametrize("path", sorted((REPO / "experiments").glob("*.py")) + sorted((REPO / "scripts").glob("*.py")),
                         ids=lambda p: p.name)
def test_experiments_and_scripts_import_only_the_installed_package(path):
    """No ``sys.path`` insert and no experiment imported by another: an experiment imports the standard
    library, numpy, scipy and ``nninit`` (its shared plumbing is ``nninit.app.study``, its deciders
    ``nninit.analysis.claims``)."""
    assert "sys.path" not in path.read_text()
    experiments = {p.stem for p in (REPO / "experiments").glob("*.py")} | {"common"}
    roots = {name.split(".")[0] for name in _imported_modules(path)}
    assert not roots & experiments, roots & experiments
    assert roots <= set(sys.stdlib_module_names) | {"numpy", "scipy", "nninit", "__future__"}, roots
