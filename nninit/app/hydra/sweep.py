"""The sweep's jobs before any runs: the job list (:func:`launched_jobs`, the one function that reads
Hydra's internals), each job's config and folder as the launcher will compose them, and the checks on them."""

from __future__ import annotations

import os
import pickle
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nninit.app.hydra.job import resuming

HYDRA_PINNED = ("1.3.2", "1.4")
"""The Hydra versions :func:`launched_jobs` is tested with: at least the first, below the second (``pyproject.toml``
pins ``hydra-core>=1.3.2,<1.4``; ``tests/test_locks.py`` fails when the installed Hydra or the pin leaves it)."""
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BASIC_SWEEPERS = (BASIC_SWEEPER, "hydra_plugins.nninit_sweeps.sweeper.NninitSweeper")
"""Hydra's basic sweeper and nninit's (``hydra/sweeper=nninit``, the default), which launches the same jobs."""

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
    if OmegaConf.select(config, "hydra.sweeper._target_") not in BASIC_SWEEPERS:
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


class JobComposer:
    """Each job's config exactly as Hydra's ``load_sweep_config`` composes it, at a fraction of the cost.

    Hydra composes a job from scratch (search path, defaults tree, every YAML file loaded and merged:
    0.1–0.25 s a job on a busy core, more than a 1,000-iteration job trains). A sweep's jobs differ in a few
    overrides, most of them values: this composes the config of each distinct set of *group* choices once
    with Hydra (:meth:`template`), then gives each job a copy of it with its value overrides applied by
    Hydra's own function, in Hydra's order, and the fields Hydra derives from the overrides
    (``hydra.overrides.task``, ``hydra.job.override_dirname``) set as Hydra sets them. An override is a group
    choice by Hydra's own rule (``Overrides`` in ``hydra/_internal/defaults_list.py``: its key names a config
    group and its value is not a dict). A job with a Hydra override (``hydra.*``, ``hydra/*``) is composed by
    Hydra itself. ``tests/test_sweep_launcher.py`` checks that every job's config is Hydra's, node for node.

    Parameters
    ----------
    config_loader : hydra.core.config_loader.ConfigLoader
        The sweep's (``hydra_context.config_loader``).
    master : DictConfig
        The sweep's config (its ``hydra.overrides.hydra`` are every job's first overrides).
    """

    def __init__(self, config_loader, master: DictConfig):
        from hydra.core.override_parser.overrides_parser import OverridesParser

        self.loader, self.master = config_loader, master
        self.parser = OverridesParser.create()
        self.parsed: dict[str, Any] = {}
        self.groups: dict[str, bool] = {}
        self.templates: dict[tuple[str, ...], bytes] = {}
        self.repo = None

    def _override(self, line: str):
        if line not in self.parsed:
            self.parsed[line] = self.parser.parse_overrides([line])[0]
        return self.parsed[line]

    def _is_group(self, override) -> bool:
        """Hydra's rule: a group choice when the key names a config group and the value is not a dict."""
        key = override.key_or_group
        if key not in self.groups:
            if self.repo is None:  # the master's search path, once
                hydra_overrides = list(OmegaConf.to_container(self.master.hydra.overrides.hydra))
                _, self.repo = self.loader._parse_overrides_and_create_caching_repo(
                    self.master.hydra.job.config_name, hydra_overrides)
            self.groups[key] = self.repo.group_exists(key)
        return self.groups[key] and not isinstance(override.value(), dict)

    def template(self, groups: tuple[str, ...]) -> DictConfig:
        """A fresh copy of the config Hydra composes for the group choices ``groups`` alone (composed once,
        then kept pickled: unpickling is several times faster than ``copy.deepcopy``)."""
        if groups not in self.templates:
            self.templates[groups] = pickle.dumps(self.loader.load_sweep_config(self.master, list(groups)))
        return pickle.loads(self.templates[groups])

    def compose(self, overrides: list[str]) -> DictConfig:
        """Job ``overrides``' config, as ``config_loader.load_sweep_config(master, overrides)`` returns it.

        Raises
        ------
        hydra.errors.ConfigCompositionException, omegaconf.errors.OmegaConfBaseException
            Whatever Hydra raises for these overrides (a group option or key that does not exist, a
            value of the wrong type).
        """
        from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname

        parsed = [self._override(line) for line in overrides]
        if any(o.is_hydra_override() or o.is_sweep_override() for o in parsed):
            return self.loader.load_sweep_config(self.master, list(overrides))
        is_group = [self._is_group(o) for o in parsed]
        cfg = (self.template(tuple(o.input_line for o, g in zip(parsed, is_group) if g)))
        ConfigLoaderImpl._apply_overrides_to_config([o for o, g in zip(parsed, is_group) if not g], cfg)
        naming = cfg.hydra.job.config.override_dirname
        with read_write(cfg.hydra), open_dict(cfg.hydra):
            cfg.hydra.overrides.task = [o.input_line for o in parsed]
            cfg.hydra.job.override_dirname = get_overrides_dirname(
                overrides=parsed, kv_sep=naming.kv_sep, item_sep=naming.item_sep, exclude_keys=naming.exclude_keys)
        OmegaConf.copy_cache(from_config=self.master, to_config=cfg)
        return cfg


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
