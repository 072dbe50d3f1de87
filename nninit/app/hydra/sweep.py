"""The sweep's jobs before any runs: the job list (:func:`launched_jobs`, the one function that reads
Hydra's internals), each job's config and folder as the launcher will compose them, and the checks on them."""

from __future__ import annotations

import os
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from nninit.app.hydra.job import resuming

HYDRA_PINNED = ("1.3.2", "1.4")
"""The Hydra versions :func:`launched_jobs` is tested with: at least the first, below the second (``pyproject.toml``
pins ``hydra-core>=1.3.2,<1.4``; ``tests/test_locks.py`` fails when the installed Hydra or the pin leaves it)."""
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"

Job = tuple[str, list[str], DictConfig]
"""``(folder, overrides, config)`` of one job of a sweep."""


def launched_jobs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of every job the sweep will launch, in launch order; None when the sweeper
    chooses its jobs as the sweep goes (a plugin such as Optuna or Ax).

    Hydra's basic sweeper launches the product of its ``params`` (``hydra.sweeper.params``, from
    any config) and the command line's overrides. Hydra has no public way to ask for that list;
    this is the one function that reads Hydra's internals for it: the ``BasicSweeper`` class,
    built from ``hydra.sweeper`` as Hydra builds it, and its own expansion
    (``_parse_config`` then ``split_arguments``, as ``BasicSweeper.sweep`` does). Its behaviour
    is pinned by ``tests/test_locks.py``, which compares it with the jobs a real sweep ran, for the
    Hydra versions of :data:`HYDRA_PINNED`.

    Raises
    ------
    RuntimeError
        When the installed Hydra is outside :data:`HYDRA_PINNED` (:func:`check_hydra_version`).
    """
    if OmegaConf.select(config, "hydra.sweeper._target_") != BASIC_SWEEPER:
        return None
    check_hydra_version()
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    settings = OmegaConf.to_container(config.hydra.sweeper, resolve=False)
    sweeper = BasicSweeper(max_batch_size=None, params=settings.get("params"))
    arguments = sweeper._parse_config() + list(config.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    return [list(job) for batch in BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
            for job in batch]


def check_hydra_version(version: str | None = None) -> None:
    """Raise when ``version`` (default: the installed Hydra's) is outside :data:`HYDRA_PINNED`, the range
    :func:`launched_jobs` reads Hydra's internals for; a sweep is then refused before any job runs.

    Raises
    ------
    RuntimeError
        Naming the version, the range, and what to do.
    """
    from hydra import __version__
    from packaging.specifiers import SpecifierSet

    version = version or __version__
    low, high = HYDRA_PINNED
    if not SpecifierSet(f">={low},<{high}").contains(version, prereleases=True):  # as pip reads the pin
        raise RuntimeError(f"Hydra {version} is installed, but the sweep's job list reads Hydra's internals as "
                           f"Hydra >={low},<{high} has them (nninit.app.hydra.sweep.launched_jobs); install "
                           f"hydra-core>={low},<{high}, or check launched_jobs with tests/test_locks.py and "
                           f"move HYDRA_PINNED and pyproject.toml's pin together")


def common(jobs: list[list[str]]) -> list[str]:
    """The overrides every job has (``train.learning_rate=-1`` in all): what a bad shared value comes from."""
    return [item for item in jobs[0] if all(item in job for job in jobs[1:])]


def swept(jobs: list[list[str]] | None, key: str) -> bool:
    """True when ``key`` (or the group it belongs to) differs between the jobs: checked job by job."""
    if not jobs:
        return False
    shared = common(jobs)
    names = {item.split("=", 1)[0].lstrip("+~") for job in jobs for item in job if item not in shared}
    return any(key == name or key.startswith(name + ".") for name in names)


def compose_job(config: DictConfig, overrides: list[str], num: int | None) -> DictConfig:
    """Job ``num``'s config as the launcher will compose it (Hydra's config loader), with
    ``hydra.job.num`` set and the Hydra config pointed at it so that its folder resolves."""
    from hydra.core.global_hydra import GlobalHydra

    job_cfg = GlobalHydra.instance().config_loader().load_sweep_config(config, list(overrides))
    if num is not None:
        with open_dict(job_cfg.hydra.job):
            job_cfg.hydra.job.num = num
            job_cfg.hydra.job.id = str(num)
    return job_cfg


def subdir_of(config: DictConfig) -> str:
    """``hydra.sweep.subdir`` as written (unresolved)."""
    return str(OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir"))


def numbered(config: DictConfig) -> bool:
    """True when job folders start with the job number (unique by construction)."""
    return subdir_of(config).startswith("${hydra.job.num}")


def job_folders(config: DictConfig, jobs: list[list[str]]) -> list[Job]:
    """``(folder, overrides, job config)`` of every job, composed and resolved as the launcher will."""
    previous = HydraConfig.instance().cfg
    folders = []
    try:
        for num, job in enumerate(jobs):
            job_cfg = compose_job(config, job, num)
            HydraConfig.instance().set_config(job_cfg)
            subdir = str(OmegaConf.select(job_cfg, "hydra.sweep.subdir"))
            folders.append((os.path.join(str(config.hydra.sweep.dir), subdir), job, job_cfg))
    finally:
        if previous is not None:
            HydraConfig.instance().set_config(previous)
    return folders


def needs_folders(config: DictConfig, jobs: list[list[str]] | None) -> bool:
    """True when the job folders must be composed before the sweep starts: a ``hydra.sweep.subdir``
    that is not unique by construction, or ``resume=true``.

    Raises
    ------
    ValueError
        When the sweeper chooses its jobs as it goes and the folders are not numbered.
    """
    if jobs is None:
        if not numbered(config):
            raise ValueError(f"hydra.sweeper={config.hydra.sweeper.get('_target_')} chooses its jobs as it goes, "
                             f"so hydra.sweep.subdir={subdir_of(config)} cannot be checked to tell them apart; "
                             f"start it with ${{hydra.job.num}}_")
        return False
    return not numbered(config) or resuming(config)


def shared(folders: list[tuple[str, list[str], Any]]) -> tuple[str, list[str]] | None:
    """The first folder more than one job would write into, and those jobs (``#0 (a=1)``)."""
    names: dict[str, list[str]] = {}
    for num, (folder, job, _) in enumerate(folders):
        names.setdefault(folder, []).append(f"#{num} ({' '.join(job)})")
    return next(((f, n) for f, n in names.items() if len(n) > 1), None)
