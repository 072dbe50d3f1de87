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
