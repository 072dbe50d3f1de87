"""Hydra at the edge: the only part of the package that imports Hydra. The rest takes plain containers.

By job: :mod:`~nninit.app.hydra.naming` (folder names, claiming a folder, quoting an override),
:mod:`~nninit.app.hydra.job` (a job's config and labels), :mod:`~nninit.app.hydra.resume` (what a resumed
run keeps), :mod:`~nninit.app.hydra.sweep` (the sweep's job list: the one function that reads Hydra's
internals, and the sweep's checks), :mod:`~nninit.app.hydra.callbacks` (the checks before a command
starts, the summary after a sweep), :mod:`~nninit.app.hydra.workers` (joblib workers: BLAS threads, stop
signals), :mod:`~nninit.app.hydra.task` (the task function ``run.py`` wraps, and the tracker's call).

Importing the package registers the structured config and the resolvers of ``conf/config.yaml``
(:func:`setup`), so that Hydra's worker processes (joblib, submitit) have them too.
"""

from __future__ import annotations

from omegaconf import OmegaConf

from nninit.app.config import Config, options_help
from nninit.app.control_keys import folder_name_excludes
from nninit.app.hydra.naming import job_dirname, run_name, unique_dir
from nninit.app.hydra.resume import unless_kept


def _control_keys(*, _root_) -> list[str]:
    return folder_name_excludes(_root_)


def register_configs() -> None:
    """Store the schema (:class:`nninit.app.config.Config`) in Hydra's ConfigStore as ``nninit_schema``
    (used by ``conf/config.yaml``).

    Only the schema is stored: the group options are files, which keeps Hydra's start-up (and
    ``--help``, which copies the store once per config group) fast.
    """
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="nninit_schema", node=Config)


RESOLVERS = {"nninit_unique_dir": (unique_dir, True), "nninit_dirname": (job_dirname, False),
             "nninit_run_name": (run_name, False), "nninit_unless_kept": (unless_kept, False),
             "nninit_control_keys": (_control_keys, False),
             "nninit_options": (options_help, False)}
"""The resolvers ``conf/config.yaml`` uses: name -> (function, use_cache)."""


def register_plugins() -> None:
    """Register nninit's sweeper and joblib launcher (``hydra_plugins.nninit_sweeps``) with Hydra. An installed
    wheel has them where Hydra's scan finds them; an editable install maps the package without a folder Hydra's
    scan can list, so they are registered here too (idempotent). The joblib launcher's config is stored as
    ``hydra/launcher=joblib``, in place of Hydra's (its options are the same)."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()  # first: Hydra's scan re-executes the modules it finds, making new classes
    from hydra_plugins.nninit_sweeps.joblib_launcher import NninitJoblibLauncher, NninitJoblibLauncherConf
    from hydra_plugins.nninit_sweeps.sweeper import NninitSweeper

    for plugin in (NninitSweeper, NninitJoblibLauncher):
        plugins.register(plugin)
    ConfigStore.instance().store(group="hydra/launcher", name="joblib", node=NninitJoblibLauncherConf,
                                 provider="nninit")


def setup() -> None:
    """Register the structured config, the plugins and the resolvers of :data:`RESOLVERS` (idempotent)."""
    register_configs()
    register_plugins()
    for name, (function, cached) in RESOLVERS.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function, use_cache=cached)


setup()

from nninit.app.hydra.callbacks import sweep_dir_of_this_process  # noqa: E402  (after setup: run.py's entry points)
from nninit.app.hydra.task import task  # noqa: E402
from nninit.app.hydra.workers import record_stopped_jobs  # noqa: E402

__all__ = ["RESOLVERS", "record_stopped_jobs", "register_configs", "setup", "sweep_dir_of_this_process", "task"]
