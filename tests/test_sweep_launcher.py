"""The sweep's jobs composed once, quickly (nninit.app.hydra.sweep.JobComposer): each job's config is the one
Hydra composes, node for node. (The sweeps run both ways: tests/test_sweep.py.)"""

from __future__ import annotations

import pytest
from conftest import REPO
from omegaconf import OmegaConf


def _sweep_config(overrides):
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    loader = GlobalHydra.instance().config_loader()
    return loader, loader.load_configuration("config", overrides, run_mode=RunMode.MULTIRUN)


@pytest.mark.slow
def test_each_job_config_is_the_one_hydra_composes(tmp_path):
    from hydra import initialize_config_dir

    from nninit.app.hydra.sweep import JobComposer, launched_jobs

    overrides = ["init=zeros,random", "seed=1,2", "data=moons", "train.learning_rate=0.5", "+tags=[a,b]",
                 "model.hidden_dims=[3,3]", "~tracker", f"hydra.sweep.dir={tmp_path}", "hydra/launcher=joblib"]
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        loader, master = _sweep_config(overrides)
        composer = JobComposer(loader, master)
        jobs = launched_jobs(master) + [["init.scale=3", "init=random"], ["hydra.job.name=other", "seed=4"]]
        for job in jobs:
            fast, hydra = composer.compose(job), loader.load_sweep_config(master, job)
            assert OmegaConf.to_yaml(fast) == OmegaConf.to_yaml(hydra), job
            assert OmegaConf.is_struct(fast) and not OmegaConf.is_readonly(fast.hydra)
        assert len(composer.templates) == 3  # one composition per set of group choices; values applied to a copy
        with pytest.raises(Exception, match="no_such_key") as fast_error:
            composer.compose(["train.no_such_key=1"])
        with pytest.raises(type(fast_error.value)):
            loader.load_sweep_config(master, ["train.no_such_key=1"])


class _Return:  # Hydra's JobReturn: return_value re-raises a job's exception
    def __init__(self, value):
        self.value = value

    @property
    def return_value(self):
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def test_the_progress_is_counted_in_memory_each_job_once_kept_jobs_not(tmp_path, caplog):
    from nninit.record.sweep_progress import SWEEP_PROGRESS, SweepProgress, record_sweep

    record_sweep(str(tmp_path), 3)
    progress = SweepProgress.of(str(tmp_path))
    with caplog.at_level("INFO", logger="nninit"):
        for value in ({"status": "completed"}, {"status": "completed", "not_run": True}, RuntimeError("boom"),
                      {"status": "diverged"}):
            progress.job_done(_Return(value))
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(",")[0] for line in lines] == ["job 1/3 done (completed)", "job 2/3 done (failed)",
                                                      "job 3/3 done (diverged)"]
    assert not (tmp_path / SWEEP_PROGRESS).exists()


def test_the_progress_file_of_other_launchers_is_counted_by_its_size(tmp_path, caplog):
    from nninit.record.sweep_progress import log_sweep_progress, record_sweep

    record_sweep(str(tmp_path), None)
    with caplog.at_level("INFO", logger="nninit"):
        for status in ("completed", "interrupted", "failed"):
            log_sweep_progress(str(tmp_path), status)
    assert [r.getMessage() for r in caplog.records] == ["job 1 done (completed)", "job 2 done (interrupted)",
                                                        "job 3 done (failed)"]
