"""Grouping and summarizing finished runs: real tiny runs for the grouping, written run folders with
known numbers for the statistics and the reports (fast)."""

import csv
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import compose
from hypothesis import given, settings
from hypothesis import strategies as st

from nninit.analysis import stats
from nninit.analysis.compare import resolve_baseline
from nninit.analysis.tables import COMPARISON_COLUMNS, fmt_estimate
from nninit.app.experiment import run
from nninit.app.report import write_summary
from nninit.record import runfolder
from nninit.record.runs import Run, deduplicate, default_group_keys, find_runs, group_runs


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """init.bias null / 0.1 x learning rate 0.01 / 0.05 x seed 1, 2 (8 tiny runs)."""
    root = tmp_path_factory.mktemp("runs")
    k = 0
    for bias in ("null", "0.1"):
        for lr in ("0.01", "0.05"):
            for seed in (1, 2):
                cfg = compose([f"init.bias={bias}", f"train.learning_rate={lr}", f"seed={seed}",
                               "train.num_iterations=20", "train.print_every=10"])
                run(cfg, root / f"{k}", overrides=[f"init.bias={bias}", f"train.learning_rate={lr}", f"seed={seed}"],
                    figures=False)  # a comparison reads the numbers and data.npz, not a run's own figures
                k += 1
    return root


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_null_value_is_a_group_of_its_own(runs_dir):
    runs, skipped = find_runs([runs_dir])
    assert len(runs) == 8 and not skipped
    keys = default_group_keys(runs)
    assert keys == ["init.bias", "train.learning_rate"]
    groups = group_runs(runs, keys)
    assert sorted(groups) == ["init.bias=0.1, train.learning_rate=0.01", "init.bias=0.1, train.learning_rate=0.05",
                              "init.bias=null, train.learning_rate=0.01", "init.bias=null, train.learning_rate=0.05"]
    assert all(len(members) == 2 for members in groups.values())


def test_summary_keeps_every_run_and_says_two_seeds_rank_nothing(runs_dir, tmp_path):
    table, written = write_summary([runs_dir], tmp_path, plots=False)
    assert table.count("| init.bias=") == 4
    assert len(_rows(tmp_path / "runs.csv")) == 8
    assert len(_rows(tmp_path / "summary.csv")) == 4 * 4  # groups x (train, test accuracy, final cost, dead)
    md = (tmp_path / "summary.md").read_text()
    assert "`seed` is pooled within groups (up to 2 values in a group)" in md
    assert "**No ranking**" in md and "Best by" not in md
    assert {r["verdict"] for r in _rows(tmp_path / "comparisons.csv")} == {"too_few_runs"}


@pytest.mark.parametrize("field, value, says", [
    ("config", None, "the field `config` is null"),  # it formed a group init=null
    # left out of the mean, counted in n
    ("test_accuracy", "0.95", 'the field `test_accuracy` is "0.95", not a number'),
    ("final_cost", True, "the field `final_cost` is true, not a number"),
])
def test_a_malformed_run_record_is_left_out_with_one_warning_naming_folder_and_field(runs_dir, tmp_path, caplog,
                                                                                     field, value, says):
    copy = tmp_path / "copy"
    shutil.copytree(runs_dir, copy)
    metrics = json.loads((copy / "0" / "metrics.json").read_text())
    if value is None:
        del metrics[field]
    else:
        metrics[field] = value
    (copy / "0" / "metrics.json").write_text(json.dumps(metrics))
    runs, skipped = find_runs([copy])
    assert len(runs) == 7 and [(p.name, says in reason) for p, reason in skipped] == [("0", True)]
    assert "init.bias=null, train.learning_rate=null" not in group_runs(runs, default_group_keys(runs))
    with caplog.at_level(logging.WARNING):
        write_summary([copy], tmp_path / "out", plots=False)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and says in r.getMessage()]
    assert len(warned) == 1 and str(copy / "0") in warned[0]


def test_unknown_metric_is_an_error(runs_dir, tmp_path):
    with pytest.raises(ValueError, match="no run has this number"):
        write_summary([runs_dir], tmp_path, metrics=("nonexistent_metric",), plots=False)


# ------------------------------------------------------------ written run folders with known numbers

def fake_run(path, init, seed, test_accuracy, *, train_accuracy=None, status="completed", iterations=1000,
             finished_at="2026-11-30T10:00:00+00:00", n_test=100, lr=0.01):
    """A run folder holding only metrics.json, as run.py writes it."""
    path.mkdir(parents=True)
    config = {"init": {"name": init}, "seed": seed, "train": {"num_iterations": iterations, "learning_rate": lr},
              "data": {"name": "circles", "train_seed": 1, "test_seed": 2, "n_test": n_test}}
    runfolder.write_json(path / "metrics.json", {
        "status": status, "config": config, "init": init, "seed": seed, "iterations_run": iterations,
        "test_accuracy": test_accuracy if status == "completed" else None,
        "train_accuracy": ((train_accuracy if train_accuracy is not None else test_accuracy)
                           if status == "completed" else None),
        "final_cost": 0.1 if status == "completed" else None, "finished_at": finished_at})
    return path


HE = [0.95, 0.96, 0.94, 0.97, 0.95, 0.93]
HE_UNIFORM = [0.96, 0.94, 0.95, 0.96, 0.93, 0.95]


@pytest.fixture
def three_inits(tmp_path):
    """zeros (50 % every seed), he and he_uniform (close), seeds 1-6: the issue's sweep in miniature."""
    root = tmp_path / "sweep"
    for init, values in (("zeros", [0.5] * 6), ("he", HE), ("he_uniform", HE_UNIFORM)):
        for seed, v in enumerate(values, 1):
            fake_run(root / f"{init}_{seed}", init, seed, v)
    return root


def test_which_is_best_says_indistinguishable_and_worse_with_the_numbers(three_inits, tmp_path):
    out = tmp_path / "out"
    text, _ = write_summary([three_inits], out, plots=False)
    md = (out / "summary.md").read_text()
    section = md.split("## Which is best?")[1].split("## ")[0]
    he = stats.describe(HE)
    assert f"**Best by test accuracy: init=he**, {fmt_estimate(he, 'test_accuracy')}" in section
    assert "Indistinguishable from it: init=he_uniform (" in section and "seeds per group would separate" in section
    assert "Worse than it: init=zeros (−45.0 points [" in section
    assert "Which is best?" in text and "Best by test accuracy: init=he" in text
    rows = _rows(out / "comparisons.csv")
    assert tuple(rows[0]) == COMPARISON_COLUMNS == (
        "metric", "group_a", "group_b", "paired", "n_a", "n_b", "difference", "ci_low", "ci_high", "p_value",
        "p_adjusted", "prob_improvement", "verdict")
    test = {(r["group_a"], r["group_b"]): r for r in rows if r["metric"] == "test_accuracy"}
    assert test[("init=he", "init=zeros")]["verdict"] == "a_better"  # groups in the order of their folders
    assert test[("init=he", "init=he_uniform")]["verdict"] == "indistinguishable"
    zh = test[("init=he", "init=zeros")]
    assert zh["paired"] == "True" and float(zh["difference"]) == pytest.approx(np.mean(HE) - 0.5)
    d = np.array(HE) - 0.5
    from scipy import stats as sps

    half = sps.t.ppf(1 - 0.05 / 3 / 2, 5) * d.std(ddof=1) / np.sqrt(6)  # simultaneous over 3 pairs (Bonferroni)
    assert float(zh["ci_low"]) == pytest.approx(d.mean() - half)
    assert float(zh["ci_high"]) == pytest.approx(d.mean() + half)
    summary = {(r["group"], r["metric"]): r for r in _rows(out / "summary.csv")}
    row = summary[("init=he", "test_accuracy")]
    assert int(row["n"]) == 6 and float(row["mean"]) == pytest.approx(he.mean)
    assert float(row["ci_low"]) == pytest.approx(he.ci_low) and float(row["iqm"]) == pytest.approx(he.iqm)
    assert "| init=he | 6 | 0 | 0 |" in md


def test_a_copied_run_counts_once_with_a_warning(three_inits, tmp_path, caplog):
    before, _ = write_summary([three_inits], tmp_path / "before", plots=False)
    shutil.copytree(three_inits / "he_3", three_inits / "he_3_copy")
    with caplog.at_level(logging.WARNING):
        after, _ = write_summary([three_inits], tmp_path / "after", plots=False)
    warnings = [r.getMessage() for r in caplog.records if "counted once" in r.getMessage()]
    assert len(warnings) == 1 and "he_3_copy" in warnings[0] or "he_3" in warnings[0]
    assert _rows(tmp_path / "before" / "summary.csv") == _rows(tmp_path / "after" / "summary.csv")
    md = (tmp_path / "after" / "summary.md").read_text()
    assert md.index("> **Warning:** 1 run repeats the config") < md.index("## Which is best?")


def test_the_most_recent_repeat_is_kept(tmp_path):
    old = fake_run(tmp_path / "b_old", "he", 1, 0.90, finished_at="2026-11-30T09:00:00+00:00")
    new = fake_run(tmp_path / "a_new", "he", 1, 0.80, finished_at="2026-11-30T11:00:00+00:00")
    other = fake_run(tmp_path / "c", "he", 2, 0.70)
    runs, _ = find_runs([tmp_path])
    kept, dropped = deduplicate(runs)
    assert sorted(r.path.name for r in kept) == ["a_new", "c"]
    assert dropped == [(old.resolve(), new.resolve())]
    assert other.exists()


def test_mixed_iteration_counts_are_a_warning_at_the_top(tmp_path):
    for seed, iterations in ((1, 1000), (2, 1000), (3, 500)):
        fake_run(tmp_path / "runs" / f"he_{seed}", "he", seed, 0.9, iterations=iterations)
    fake_run(tmp_path / "runs" / "x", "xavier", 1, 0.9, iterations=1000)
    write_summary([tmp_path / "runs"], tmp_path / "out", group_by=["init"], plots=False)
    md = (tmp_path / "out" / "summary.md").read_text()
    warning = next(line for line in md.splitlines() if "mixes runs" in line)
    assert warning.startswith("> **Warning:** group init=he mixes runs of 500, 1000 iterations")
    assert md.index(warning) < md.index("## Which is best?")


def test_data_seeds_are_seeds_too(tmp_path):
    """Runs that differ only in the data seed are distinct measurements (n counts them), never repeats."""
    for k, (seed, train_seed) in enumerate(((1, 1), (1, 2), (2, 1), (2, 2))):
        path = fake_run(tmp_path / "runs" / f"r{k}", "he", seed, 0.90 + k / 100)
        metrics = json.loads((path / "metrics.json").read_text())
        metrics["config"]["data"]["train_seed"] = train_seed
        (path / "metrics.json").write_text(json.dumps(metrics))
    write_summary([tmp_path / "runs"], tmp_path / "out", metrics=("train_accuracy",), plots=False)
    summary = {(r["group"], r["metric"]): r for r in _rows(tmp_path / "out" / "summary.csv")}
    assert int(summary[("all runs", "test_accuracy")]["n"]) == 4  # the primary metric is always reported
    assert float(summary[("all runs", "test_accuracy")]["mean"]) == pytest.approx(0.915)
    assert "`data.train_seed` is pooled within groups" in (tmp_path / "out" / "summary.md").read_text()


def test_baseline_compares_every_group_to_it(three_inits, tmp_path):
    write_summary([three_inits], tmp_path, baseline="init=zeros", plots=False)
    pairs = [(r["group_a"], r["group_b"]) for r in _rows(tmp_path / "comparisons.csv")
             if r["metric"] == "test_accuracy"]
    assert pairs == [("init=he", "init=zeros"), ("init=he_uniform", "init=zeros")]  # (group, baseline)
    md = (tmp_path / "summary.md").read_text()
    assert "Each group against the baseline **init=zeros**" in md
    assert "Better than the baseline: init=he (+45.0 points [" in md
    with pytest.raises(ValueError, match="matches no group; the groups are: init=he, init=he_uniform, init=zeros"):
        write_summary([three_inits], tmp_path / "x", baseline="init=lsuv", plots=False)
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        write_summary([three_inits], tmp_path / "x", baseline="he", plots=False)


def test_lower_is_better_metric_as_primary(three_inits, tmp_path):
    write_summary([three_inits], tmp_path, metrics=("final_cost",), primary="final_cost", plots=False)
    md = (tmp_path / "summary.md").read_text()
    assert "Best by final cost" in md  # every group has cost 0.1: all indistinguishable
    assert "Worse than it: none." in md


def test_a_quick_summary_says_so_first_and_ranks_nothing(three_inits, tmp_path):
    write_summary([three_inits], tmp_path, title="Sweep", quick=True, plots=False)
    lines = (tmp_path / "summary.md").read_text().splitlines()
    assert lines[0] == "# Sweep (quick run: decides nothing)"
    assert lines[2].startswith("**A reduced (quick) run**")
    md = "\n".join(lines)
    assert "Best by" not in md and "Worse than" not in md and "| verdict |" not in md


def test_figures_are_drawn(three_inits, tmp_path):
    _, written = write_summary([three_inits], tmp_path)
    for name in ("accuracy.png", "differences.png", "cost_curves.png", "decision_boundaries.png"):
        assert (tmp_path / name) in written and (tmp_path / name).stat().st_size > 1000


def test_a_completed_run_without_readable_arrays_is_named_in_the_boundary_figure(runs_dir, tmp_path, caplog):
    """A completed run whose data.npz was cut short gets a panel that says so and a warning naming the file; a
    stopped run without arrays (it never wrote them) gets the panel without a warning."""
    for k in ("0", "1", "2"):
        shutil.copytree(runs_dir / k, tmp_path / "runs" / k)
    (tmp_path / "runs" / "0" / "data.npz").write_bytes(b"PK\x03\x04cut short")
    (tmp_path / "runs" / "2" / runfolder.PARAMS_FINAL).unlink()
    metrics = runfolder.read_json(tmp_path / "runs" / "2" / "metrics.json")
    runfolder.write_json(tmp_path / "runs" / "2" / "metrics.json", {**metrics, "status": "interrupted"})
    with caplog.at_level(logging.WARNING, logger="nninit.figures"):
        _, written = write_summary([tmp_path / "runs"], tmp_path / "out", group_by=["init"])
    assert tmp_path / "out" / "decision_boundaries.png" in written
    named = [r.getMessage() for r in caplog.records if "no decision boundary" in r.getMessage()]
    assert len(named) == 1 and str(tmp_path / "runs" / "0" / "data.npz") in named[0]


def test_at_chance_uses_the_majority_class_of_imbalanced_labels(tmp_path):
    Y = np.array([[1] * 80 + [0] * 20], dtype=float)
    path = tmp_path / "run"
    fake_run(path, "he", 1, 0.8)
    runfolder.save_arrays(path / "data.npz", {"X_train": np.zeros((2, 100)), "Y_train": Y,
                                              "X_test": np.zeros((2, 10)), "Y_test": np.ones((1, 10))})
    for acc, expected in ((0.80, True), (0.81, True), (0.83, False)):
        run_ = Run(path, {"train_accuracy": acc, "status": "completed"})
        assert run_.at_chance() is expected, acc
    assert Run(path, {}).majority("test") == 1.0


def test_resolve_baseline_accepts_a_label_and_a_short_key(three_inits):
    runs, _ = find_runs([three_inits])
    groups = group_runs(runs, default_group_keys(runs))
    assert resolve_baseline("init=he", groups, ["init.name"]) == "init=he"
    assert resolve_baseline("init.name=he_uniform", groups, ["init.name"]) == "init=he_uniform"
    assert resolve_baseline(None, groups, ["init.name"]) is None


def test_a_baseline_names_a_list_as_where_does():
    """``--baseline model.hidden_dims=[10,5]``: the comma inside the list is the value's, not a second condition."""
    runs = [Run(Path(f"/r/{k}"), {"status": "completed"},
                {"init.name": "he", "model.hidden_dims": dims, "seed": 1}) for k, dims in enumerate(("[10, 5]", "[4]"))]
    groups = group_runs(runs, ["model.hidden_dims", "init.name"])
    assert resolve_baseline("model.hidden_dims=[10,5]", groups, []) == "model.hidden_dims=[10, 5]"  # init: same
    assert resolve_baseline("model.hidden_dims=[4], init=he", groups, []) == "model.hidden_dims=[4]"


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(list(range(9))))
def test_grouping_does_not_depend_on_the_order_of_the_runs(order):
    runs = [Run(__import__("pathlib").Path(f"/r/{k}"), {"status": "completed"},
                {"init.name": ("he", "zeros", "xavier")[k % 3], "seed": k // 3, "train.learning_rate": 0.01})
            for k in range(9)]
    reference = {label: {r.path for r in members} for label, members in group_runs(runs, ["init.name"]).items()}
    shuffled = [runs[k] for k in order]
    got = {label: {r.path for r in members}
           for label, members in group_runs(shuffled, default_group_keys(shuffled)).items()}
    assert got == reference


def test_a_missing_or_garbled_history_is_said_and_never_counted_as_zero(tmp_path, caplog):
    """A garbled zeros run was reported as 'symmetric 0': its numbers are not known, and the summary says so."""
    header = "iteration,cost,distinct_1,distinct_2,dead_1,dead_2\n"
    good = header + "0,0.69,1,1,1,1\n1000,0.69,1,1,1,1\n"
    for seed in (1, 2, 3):
        path = fake_run(tmp_path / "runs" / f"zeros_{seed}", "zeros", seed, 0.5)
        metrics = json.loads((path / "metrics.json").read_text())
        (path / "metrics.json").write_text(json.dumps({**metrics, "layers_dims": [2, 10, 5, 1]}))
        (path / "history.csv").write_text(good)
    (tmp_path / "runs" / "zeros_2" / "history.csv").write_text(good[:-4])  # cut in the middle of the last row
    (tmp_path / "runs" / "zeros_3" / "history.csv").unlink()
    with caplog.at_level(logging.WARNING):
        write_summary([tmp_path / "runs"], tmp_path / "out", plots=False)
    warnings = [r.getMessage() for r in caplog.records if "history.csv" in r.getMessage()]
    assert len(warnings) == 2
    assert any("zeros_2: history.csv cannot be read (line 3 has 5 fields, the header 6)" in w for w in warnings)
    assert any("zeros_3: history.csv is missing" in w for w in warnings)
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "| all runs | 3 | 0 | 0 | 3 | 1 (2 not known) |" in md
    summary = {r["metric"]: r for r in _rows(tmp_path / "out" / "summary.csv")}
    assert summary["dead"]["n"] == "1" and float(summary["dead"]["mean"]) == 1.0  # one known value, not three


def test_comparison_figures_draw_what_they_say(three_inits, tmp_path, monkeypatch):
    """accuracy.png: a point per seed, the mean with its interval, the chance level; differences.png:
    one difference per other group, coloured by verdict; cost_curves.png is skipped without histories."""
    from nninit.figures import comparison_plots

    figures = {}
    monkeypatch.setattr(comparison_plots, "save_figure", lambda fig, path: figures.setdefault(path.name, fig))
    write_summary([three_inits], tmp_path)
    ax = figures["accuracy.png"].axes[0]
    points = [c for c in ax.collections if c.get_label().endswith("(one per seed)")]
    assert sum(len(c.get_offsets()) for c in points) == 2 * 18  # train and test, 18 runs
    assert sum(1 for c in ax.containers) == 6  # an error bar per group and split
    assert sum(1 for c in ax.collections if c.get_label().startswith("chance")) == 3
    diff = figures["differences.png"].axes[0]
    dots = [line for line in diff.lines if line.get_marker() == "o"]
    assert sorted(line.get_label() for line in dots) == ["indistinguishable", "worse"]
    assert [t.get_text() for t in diff.get_yticklabels()] == ["init=he_uniform (n=6)", "init=zeros (n=6)"]
    assert sorted(round(float(line.get_xdata()[0]), 1) for line in dots) == [-45.0, -0.2]


def test_a_group_that_diverged_on_every_seed_is_said_so(tmp_path):
    for seed in (1, 2, 3):
        fake_run(tmp_path / "runs" / f"ok_{seed}", "he", seed, 0.9 + seed / 100, lr=0.5)
        fake_run(tmp_path / "runs" / f"bad_{seed}", "he", seed, None, status="diverged", lr=1e6)
    write_summary([tmp_path / "runs"], tmp_path / "out", plots=False)
    md = (tmp_path / "out" / "summary.md").read_text()
    assert ("- Diverged on every seed (no number to compare; worse than any group that trains): "
            "train.learning_rate=1000000.0 (3 of 3 runs diverged).") in md


@pytest.mark.parametrize("last, says", [
    (0.5, "no difference observed"),  # the paired differences -0.25, 0.25, -0.25, 0.25: a mean of exactly 0
    (0.5 + 2 ** -10, "more than 100,000 seeds per group would be needed"),  # a mean of -2**-12 in that noise
])
def test_indistinguishable_says_why_no_seed_count_is_given(tmp_path, last, says):
    import inspect

    assert inspect.signature(stats.seeds_needed).parameters["limit"].default == 100_000  # the number the text gives
    for init, values in (("he", [0.5, 0.75, 0.5, 0.75]), ("xavier", [0.75, 0.5, 0.75, last])):
        for seed, v in enumerate(values, 1):
            fake_run(tmp_path / "runs" / f"{init}_{seed}", init, seed, v)
    write_summary([tmp_path / "runs"], tmp_path / "out", plots=False)
    section = (tmp_path / "out" / "summary.md").read_text().split("## Which is best?")[1].split("## ")[0]
    assert "Indistinguishable from it" in section and says in section


def test_a_group_whose_runs_all_have_one_value_is_drawn_and_summarized(tmp_path):
    """Three runs at 0.97: the mean is 0.97 (a floating-point sum gives 0.9700000000000001, outside
    the exact interval (0.97, 0.97)), and the figures draw it instead of failing on a negative error bar."""
    for seed in (1, 2, 3):
        fake_run(tmp_path / "runs" / f"he_{seed}", "he", seed, 0.97)
        fake_run(tmp_path / "runs" / f"xavier_{seed}", "xavier", seed, 0.90 + seed / 100)
    e = stats.describe([0.97, 0.97, 0.97])
    assert e.mean == e.ci_low == e.ci_high == 0.97 and e.method == "exact"
    write_summary([tmp_path / "runs"], tmp_path / "out")
    assert (tmp_path / "out" / "summary.md").is_file() and (tmp_path / "out" / "accuracy.png").is_file()


def test_the_accuracy_figure_never_draws_a_negative_error_bar(tmp_path, monkeypatch):
    """A mean a rounding error outside its clipped interval gets an error bar of 0 on that side."""
    from nninit.analysis.compare import GroupSummary
    from nninit.figures import comparison_plots

    figures = {}
    monkeypatch.setattr(comparison_plots, "save_figure", lambda fig, path: figures.setdefault(path.name, fig))
    e = stats.Estimate(3, 1.0000000000000002, 1.0, 1.0, 0.0, 1.0, 1.0, "exact")
    comparison_plots.plot_accuracy([GroupSummary("g", [], {"test_accuracy": {1: 1.0}}, {"test_accuracy": e}, {})],
                                   tmp_path / "accuracy.png")
    # drawn (it raised "'yerr' must not contain negative values")
    assert len(figures["accuracy.png"].axes[0].containers) == 1


def test_group_by_seed_groups_by_seed_within_each_config(three_inits):
    """--group-by seed pooled he, he_uniform and zeros into one group per seed; now each group is one
    config at one seed, and the label says both."""
    from nninit.analysis.compare import summarize

    c = summarize([three_inits], group_by=["seed"])
    assert c.keys == ["seed", "init.name"] and len(c.groups) == 18
    assert all(len({r.get("init.name") for r in members}) == 1 for members in c.groups.values())
    assert "seed=1, init=zeros" in c.groups


def test_a_sweep_whose_every_job_failed_says_so_and_not_the_metric(tmp_path, capsys):
    """It blamed --metric ('no run has this number')."""
    import importlib.util

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("compare_script", REPO / "scripts" / "compare.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for seed in (1, 2, 3):
        fake_run(tmp_path / "sweep" / str(seed), "he", seed, None, status="failed")
    fake_run(tmp_path / "sweep" / "4", "he", 4, None, status="interrupted")
    assert script.main([str(tmp_path / "sweep"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "no run completed under" in err and "3 of 4 runs failed, 1 interrupted" in err and "--metric" not in err


def test_runs_from_two_blas_kernels_are_flagged_filtered_and_grouped(runs_dir, tmp_path):
    """Issue 23: the same runs made under two BLAS kernels. By default they are repeats (counted once) and
    the summary warns, naming both; `where` selects a kernel; `--group-by blas_kernel` keeps both and
    compares them."""
    from nninit.record.runs import where

    for kernel in ("Haswell", "SkylakeX"):
        shutil.copytree(runs_dir, tmp_path / kernel)
        for metrics_file in (tmp_path / kernel).glob("*/metrics.json"):
            metrics = json.loads(metrics_file.read_text())
            metrics["environment"].update(blas=f"openblas 0.3.31 {kernel}", blas_kernel=kernel)
            metrics_file.write_text(json.dumps(metrics))
    folders = [tmp_path / "Haswell", tmp_path / "SkylakeX"]
    table, _ = write_summary(folders, tmp_path / "out", plots=False)
    assert "runs were made with different `blas`" in table
    assert "openblas 0.3.31 Haswell, openblas 0.3.31 SkylakeX" in table
    assert "8 runs repeat the config and seeds of another and count once" in table
    runs, _ = find_runs(folders)
    assert len(where(runs, ["blas_kernel=Haswell"])) == 8
    write_summary(folders, tmp_path / "by_kernel", group_by=["blas_kernel"], plots=False)
    rows = _rows(tmp_path / "by_kernel" / "summary.csv")
    assert {r["group"] for r in rows} == {"blas_kernel=Haswell", "blas_kernel=SkylakeX"}
    assert all(r["n"] == "2" for r in rows if r["metric"] == "test_accuracy")  # seeds 1, 2 under each kernel


def test_an_interrupted_summary_leaves_the_folder_as_it_was(runs_dir, tmp_path, monkeypatch):
    """Ctrl-C while the figures are drawn: no tables without their summary.md, no temporary folder; the
    summary written before stays whole."""
    from nninit.figures import comparison_plots

    out = tmp_path / "out"
    write_summary([runs_dir], out, plots=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(comparison_plots, "plot_accuracy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_summary([runs_dir], out, plots=True, title="a second summary")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_grouping_key_that_all_runs_share_is_said_to_be_shared(runs_dir, tmp_path):
    """--group-by name on runs without a name: one group; the summary said "`name` differs between groups: None"."""
    table, _ = write_summary([runs_dir], tmp_path, group_by=["name"], plots=False)
    assert "differs between groups" not in table and "`name` is null in every run" in table


def test_varying_keys_tell_values_apart_as_settings_do():
    """A key varies when the runs' values are different settings: 1 and 1.0 (Hydra reads ``2`` as an int), and 0.0
    and -0.0, are one; 1 and True, None and "null", 2 and "2" are two."""
    from nninit.record.runs import Run
    from nninit.record.runs.groups import varying_keys

    def runs(*values):
        return [Run(Path(f"r{i}"), {}, {"k": v, "same": "x"}) for i, v in enumerate(values)]
    assert varying_keys(runs(0.0, -0.0)) == [] and varying_keys(runs(1, 1.0, 1)) == [] and varying_keys(runs(2.0)) == []
    assert varying_keys(runs(1, True)) == ["k"] and varying_keys(runs(2, "2")) == ["k"]
    assert varying_keys(runs(1.0, 1.5)) == ["k"] and varying_keys(runs(True, False)) == ["k"]
    assert varying_keys(runs(0.5, 0.5, None)) == ["k"] and varying_keys(runs(None, "null")) == ["k"]
    assert varying_keys(runs(0.5, 0.5, 0.5)) == [] and varying_keys(runs(float("nan"), float("nan"))) == []
    lacking = Run(Path("r9"), {}, {"same": "x"})  # a missing key counts as None, wherever the run lacking it stands
    assert varying_keys([lacking, *runs(None, None)]) == [] and varying_keys([*runs(None), lacking]) == []
    assert varying_keys([lacking, *runs(None, 2)]) == ["k"] and varying_keys([*runs(2), lacking]) == ["k"]


def test_a_name_with_a_line_break_keeps_every_table_row_on_one_line(tmp_path, capsys):
    """Hand-edited names "a<newline>b" and "a\\nb" (a backslash and an n): two groups, two labels, and every row of
    summary.md's tables, and of runs.py's listing, one line."""
    import importlib.util

    from conftest import REPO

    for folder, name, seed in (("a", "a\nb", 1), ("b", "a\\nb", 1), ("c", "a\nb", 2), ("d", "tab\there", 1)):
        fake_run(tmp_path / "runs" / folder, "he", seed, 0.9)
        metrics = runfolder.read_json(tmp_path / "runs" / folder / "metrics.json")
        runfolder.write_json(tmp_path / "runs" / folder / "metrics.json", {**metrics, "name": name})
    write_summary([tmp_path / "runs"], tmp_path / "out", group_by=["name"], plots=False)
    assert {r["group"] for r in _rows(tmp_path / "out" / "summary.csv")} == {
        'name="a\\nb"', "name=a\\nb", 'name="tab\\there"'}
    rows = [line for line in (tmp_path / "out" / "summary.md").read_text().splitlines() if line.startswith("|")]
    assert sum("name=" in line for line in rows) >= 3 and all(line.endswith("|") for line in rows)
    differs = [line for line in (tmp_path / "out" / "summary.md").read_text().splitlines() if "differs betw" in line]
    assert differs == ['- `name` differs between groups: "a\\nb", a\\nb, "tab\\there"']  # as the labels show them
    spec = importlib.util.spec_from_file_location("runs_script", REPO / "scripts" / "runs.py")
    runs_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runs_script)
    for fmt, header in (("table", 1), ("md", 2)):
        assert runs_script.main([str(tmp_path / "runs"), "--format", fmt]) == 0
        listing = capsys.readouterr().out.rstrip("\n").splitlines()
        assert len(listing) == header + 4, listing
        assert sum("a\\nb" in line for line in listing) == 3 and sum("tab\\there" in line for line in listing) == 1


def test_labels_that_read_alike_stay_two_groups_and_named_runs_are_not_repeats(tmp_path):
    """A name null and a name "null", a learning rate 0.01 and a text "0.01" (hand-edited records) are two groups
    with two labels, not a crash; grouped by name, runs of one config and seed with other names are not repeats."""
    for folder, name, lr in (("a", None, 0.01), ("b", "null", 0.01), ("c", "x", "0.01"), ("d", "y", 0.01)):
        fake_run(tmp_path / "runs" / folder, "he", 1, 0.9, lr=lr)
        metrics = runfolder.read_json(tmp_path / "runs" / folder / "metrics.json")
        runfolder.write_json(tmp_path / "runs" / folder / "metrics.json", {**metrics, "name": name})
    table, _ = write_summary([tmp_path / "runs"], tmp_path / "by_name", group_by=["name"], plots=False)
    assert {r["group"] for r in _rows(tmp_path / "by_name" / "summary.csv")} == {
        "name=null", 'name="null"', "name=x", "name=y"}
    assert "repeats the config" not in table
    write_summary([tmp_path / "runs"], tmp_path / "by_lr", group_by=["train.learning_rate"], plots=False)
    assert {r["group"] for r in _rows(tmp_path / "by_lr" / "summary.csv")} == {
        "train.learning_rate=0.01", 'train.learning_rate="0.01"'}


def test_one_repeat_is_said_in_the_singular(three_inits, tmp_path):
    shutil.copytree(three_inits / "he_3", three_inits / "he_3_copy")
    table, _ = write_summary([three_inits], tmp_path, plots=False)
    assert "1 run repeats the config and seeds of another and counts once" in table
