"""Grouping and summarizing finished runs (in-process, on small runs)."""

import json

import pytest

from conftest import compose
from nninit.compare import find_runs, group_runs, default_group_keys, write_summary
from nninit.experiment import run


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
                run(cfg, root / f"{k}", overrides=[f"init.bias={bias}", f"train.learning_rate={lr}", f"seed={seed}"])
                k += 1
    return root


def test_a_null_value_is_a_group_of_its_own(runs_dir):
    runs, skipped = find_runs([runs_dir])
    assert len(runs) == 8 and not skipped
    keys = default_group_keys(runs)
    assert keys == ["init.bias", "train.learning_rate"]
    groups = group_runs(runs, keys)
    assert sorted(groups) == ["init.bias=0.1, train.learning_rate=0.01", "init.bias=0.1, train.learning_rate=0.05",
                              "init.bias=null, train.learning_rate=0.01", "init.bias=null, train.learning_rate=0.05"]
    assert all(len(members) == 2 for members in groups.values())


def test_summary_keeps_every_run(runs_dir, tmp_path):
    table, written = write_summary([runs_dir], tmp_path, plots=False)
    assert table.count("| init.bias=") == 4
    assert len((tmp_path / "summary.csv").read_text().splitlines()) == 1 + 8
    assert "`seed` is pooled within groups (up to 2 values in a group)" in table


def test_a_run_without_config_does_not_swallow_the_others(runs_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(runs_dir, copy)
    metrics = json.loads((copy / "0" / "metrics.json").read_text())
    del metrics["config"]
    (copy / "0" / "metrics.json").write_text(json.dumps(metrics))
    runs, _ = find_runs([copy])
    groups = group_runs(runs, default_group_keys(runs))
    assert sum(len(members) for members in groups.values()) == 8


def test_unknown_metric_is_an_error(runs_dir, tmp_path):
    with pytest.raises(ValueError, match="no run has this number"):
        write_summary([runs_dir], tmp_path, metrics=("nonexistent_metric",), plots=False)


def test_number_formats():
    from nninit.compare import _fmt

    assert _fmt(1.234e-6, 2.1e-7, "grad_norm_1") == "1.234e-06 ± 2.1e-07"  # tiny numbers keep their digits
    assert _fmt(0.6931, 0.0012, "final_cost") == "0.6931 ± 0.0012"
    assert _fmt(0.9933333, 0.01, "train_accuracy") == "99.3 ± 1.0%"
    assert _fmt(0.5, float("nan"), "test_accuracy") == "50.0%"
