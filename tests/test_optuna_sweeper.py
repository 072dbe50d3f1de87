"""Hydra's Optuna sweeper (the optional extra `optuna`, also in the test extra): a job returns the number the
study optimizes, and a search writes its answer into the sweep folder."""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
import yaml
from conftest import run_cli

from nninit.app.hydra.task import OPTUNA_SWEEPER, objective

RESULT = {"status": "completed", "final_cost": 0.25, "test_accuracy": 0.9}


def test_a_job_returns_its_metrics_unless_optuna_sweeps():
    assert objective(RESULT, None) is RESULT
    assert objective(RESULT, {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"}) is RESULT


@pytest.mark.parametrize("direction, expected", [
    ("minimize", 0.25), ("maximize", 0.9), (None, 0.25), (["minimize", "maximize"], [0.25, 0.9]),
])
def test_under_optuna_a_job_returns_the_final_cost_or_the_test_accuracy(direction, expected):
    assert objective(RESULT, {"_target_": OPTUNA_SWEEPER, "direction": direction}) == expected


def test_a_failed_job_is_a_failed_trial():
    assert math.isnan(objective({"status": "failed", "error": "boom"}, {"_target_": OPTUNA_SWEEPER}))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None,
                    reason="Hydra's Optuna sweeper is not installed: pip install -e '.[optuna]'")
def test_a_tiny_study_finds_the_best_scale_and_writes_it_into_the_sweep_folder(tmp_path):
    sweep_dir = tmp_path / "study"
    run_cli(["-m", "hydra/sweeper=optuna", "init=random", "init.scale=interval(0.01,10)",
             "hydra.sweeper.n_trials=4", "hydra.sweeper.sampler.seed=0", "train.num_iterations=30",
             "train.print_every=10", "data.n_train=60", "data.n_test=20", f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path)
    result = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    costs = {}
    for metrics_file in sweep_dir.glob("*/metrics.json"):
        metrics = json.loads(metrics_file.read_text())
        costs[metrics["config"]["init"]["scale"]] = metrics["final_cost"]
    assert len(costs) == 4 and all(0.01 <= scale <= 10 for scale in costs)
    best = min(costs, key=costs.get)
    assert result["best_params"] == {"init.scale": best} and result["best_value"] == costs[best]
    assert (sweep_dir / "summary.md").is_file()
