"""``hydra/launcher=joblib``: Hydra's joblib launcher (hydra-joblib-launcher: the same options, loky worker
processes), with each job's config composed once, in the sweep's process, and the sweep's progress counted
there, in memory."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from omegaconf import open_dict

from nninit.record.sweep_progress import SweepProgress

log = logging.getLogger(__name__)


@dataclass
class NninitJoblibLauncherConf(JobLibLauncherConf):
    """``hydra/launcher=joblib``: the options of Hydra's joblib launcher, for :class:`NninitJoblibLauncher`."""

    _target_: str = "hydra_plugins.nninit_sweeps.joblib_launcher.NninitJoblibLauncher"


def _numbered(cfg, num: int):
    """The job's config numbered as Hydra's joblib launcher numbers it."""
    with open_dict(cfg.hydra.job):
        cfg.hydra.job.id = f"{cfg.hydra.job.name}_{num}"
        cfg.hydra.job.num = num
    return cfg


def _boot() -> None:
    """In a worker, before its first job: import what a job needs (nninit's Hydra task and experiment, numpy),
    while the sweep's process composes the jobs' configs."""
    import nninit.app.experiment  # noqa: F401
    import nninit.app.hydra  # noqa: F401


def _execute(k: int, composed: bytes, hydra_context, task_function, singleton_state) -> tuple[int, JobReturn]:
    """In a worker: job ``k`` from its composed config (pickled), as Hydra's joblib launcher runs it after
    composing it (``hydra_joblib_launcher._core.execute_job``), except that the worker keeps the plugins it
    found once (importing ``nninit.app.hydra`` for run.py's task): the state never has them (Hydra's
    ``Singleton.get_state`` leaves them out), and ``Singleton.set_state`` then scans every installed plugin again,
    re-executing their modules, for every job (0.1-0.2 s a job: a tenth of a default job's training).
    The scan would find the same plugins each time; the job's config and results are the same."""
    setup_globals()
    found = Singleton._instances.get(Plugins)  # the worker's, from importing nninit.app.hydra (run.py's task)
    if found is not None:
        singleton_state["instances"][Plugins] = found  # this job's state (unpickled for it alone)
    Singleton.set_state(singleton_state)
    config = pickle.loads(composed)  # run_job sets it as the HydraConfig
    return k, run_job(hydra_context=hydra_context, config=config, task_function=task_function,
                      job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")


class NninitJoblibLauncher(JoblibLauncher):
    """Hydra's :class:`~hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher`, each job composed
    once, while the workers start.

    Hydra's launcher sends every worker the sweep's config and the job's overrides, and the worker composes
    the job's config from scratch (after the sweeper has composed it once to check it). This one composes every
    job's config in this process, before any job runs (a job whose overrides do not compose fails the sweep
    before it starts, as Hydra's check does), with :class:`nninit.app.hydra.sweep.JobComposer`, and sends each
    worker its config; the worker runs it with Hydra's ``run_job`` (the same folder, ``.hydra/`` files, log and
    callbacks). The workers start, and import what a job needs, while this process composes (the 30-job sweep's
    efficiency on two cores: 0.71 against 0.69, means of four alternated runs). Results come back as jobs end, and
    this process logs the sweep's progress (:class:`nninit.record.sweep_progress.SweepProgress`).
    """

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from joblib import Parallel, delayed, effective_n_jobs

        from nninit.app.hydra.sweep import JobComposer  # here: nninit.app.hydra registers this module
        from nninit.app.hydra.workers import jobs_launched

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        options = dict(self.joblib, backend="loky", return_as="generator_unordered")
        process_joblib_cfg(options)
        with Parallel(**options) as parallel:
            # the workers start, and import what a job needs, while the configs are composed here
            booting = parallel(delayed(_boot)() for _ in range(effective_n_jobs(options.get("n_jobs"))))
            composer = JobComposer(self.hydra_context.config_loader, self.config)
            composed = [pickle.dumps(_numbered(composer.compose(list(job)), initial_job_idx + k))
                        for k, job in enumerate(job_overrides)]
            for _ in booting:
                pass
            jobs_launched()  # a Ctrl-C that came while composing is passed on to the workers from now on
            log.info("Joblib.Parallel(%s) is launching %d jobs",
                     ",".join(f"{k}={v}" for k, v in self.joblib.items()), len(job_overrides))
            log.info("Launching jobs, sweep output dir : %s", sweep_dir)
            for k, job in enumerate(job_overrides):
                log.info("\t#%d : %s", initial_job_idx + k, " ".join(filter_overrides(job)))
            state = Singleton.get_state()
            progress = SweepProgress.of(str(sweep_dir))
            runs: list[JobReturn | None] = [None] * len(composed)
            for k, ret in parallel(delayed(_execute)(k, job, self.hydra_context, self.task_function, state)
                                   for k, job in enumerate(composed)):
                runs[k] = ret
                progress.job_done(ret)
        return runs
