"""Everything that touches Hydra: the config store, the run-folder resolver, the callbacks and
the task function that ``run.py`` wraps. The rest of the package takes plain containers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sys
import threading
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from nninit.config import ConfigError, register_configs, validate

log = logging.getLogger("nninit")


def unique_dir(base: str) -> str:
    """Create and return ``base``, or ``base_1``, ``base_2``, ... if it exists already.

    ``os.makedirs`` with ``exist_ok=False`` is atomic, so two runs started in the same second
    (or on two machines sharing a file system) never share a folder.
    """
    for k in range(100_000):
        path = base if k == 0 else f"{base}_{k}"
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free folder name next to {base}")


def job_dirname(override_dirname: str, max_length: int = 120) -> str:
    """A job's folder name from its overrides: slashes replaced, long names shortened with a hash.

    ``model.hidden_dims=[100,100,...]`` of a 50-layer network would exceed the file system's
    255-byte limit; the full overrides are in the job's ``.hydra/overrides.yaml`` anyway.
    """
    name = override_dirname.replace("/", "_") or "defaults"
    if len(name) <= max_length:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{name[: max_length - 12]}..{digest}"


def setup() -> None:
    """Register the structured configs and the resolvers used by ``conf/config.yaml`` (idempotent).

    Called on import, so that Hydra's worker processes (joblib, submitit) have them too.
    """
    register_configs()
    if not OmegaConf.has_resolver("nninit_unique_dir"):
        OmegaConf.register_new_resolver("nninit_unique_dir", unique_dir, use_cache=True)
    if not OmegaConf.has_resolver("nninit_dirname"):
        OmegaConf.register_new_resolver("nninit_dirname", job_dirname)


def job_config(cfg: DictConfig) -> dict:
    """The job's configuration, without the ``hydra`` node, as plain resolved containers."""
    return {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
            for k in cfg if k != "hydra"}


setup()


def _refuse(message: str) -> None:
    print(f"nninit: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _holds_runs(folder: str) -> bool:
    return os.path.isdir(folder) and any(name == "metrics.json" for _, _, files in os.walk(folder) for name in files)


class ValidateBeforeStart(Callback):
    """Check a run before Hydra creates or writes its folder.

    A bad value ends the command with exit code 2 and one line naming the key, the value and
    what is accepted; nothing is written. A run or sweep folder that already holds a finished
    run (an explicit ``hydra.run.dir`` / ``hydra.sweep.dir``) is refused the same way, so that no
    earlier result is overwritten. (In a sweep, each job validates its own values and a bad job is
    recorded as ``failed`` without stopping the others.)
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            validate(job_config(config))
        except ConfigError as error:
            _refuse(str(error))
        if _holds_runs(str(config.hydra.run.dir)):
            _refuse(f"hydra.run.dir={config.hydra.run.dir} already holds a run (metrics.json); choose a new folder")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _holds_runs(str(config.hydra.sweep.dir)):
            _refuse(f"hydra.sweep.dir={config.hydra.sweep.dir} already holds runs; choose a new folder")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _interrupt_on_signals() -> None:
    """SIGINT and SIGTERM stop the run as Ctrl-C does, in whatever process runs the job (``run.py``
    itself, a joblib worker, a submitit job), so that it records ``interrupted``. Python allows
    signal handlers in the main thread only; elsewhere this does nothing."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def task(cfg: DictConfig) -> dict:
    """Hydra's task function: run one experiment in the job's output folder.

    In a sweep, a job that raises is logged and returned as ``{'status': 'failed'}`` (its
    ``metrics.json`` says so too), so that the other jobs and the sweep summary go on.
    """
    _interrupt_on_signals()
    from nninit.experiment import run

    hydra_cfg = HydraConfig.get()
    try:
        return run(job_config(cfg), hydra_cfg.runtime.output_dir, overrides=list(hydra_cfg.overrides.task))
    except Exception as error:
        if hydra_cfg.mode != RunMode.MULTIRUN:
            raise
        log.error("Job %s failed: %s; the sweep goes on", hydra_cfg.job.num, error, exc_info=not isinstance(error, ConfigError))
        return {"status": "failed", "error": str(error)}


class SummarizeSweep(Callback):
    """At the end of a multirun, write the sweep summary and plots into the sweep folder.

    Every job returns normally (failures are recorded in its ``metrics.json`` by :func:`task`),
    so Hydra reaches ``on_multirun_end``; if something still prevents it, ``scripts/compare.py``
    on the sweep folder writes the same files. The command exits 1 when a job failed.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from nninit.summary import write_summary

        sweep_dir = config.hydra.sweep.dir
        try:
            table, written = write_summary([sweep_dir], sweep_dir, title=f"Sweep {sweep_dir}")
        except LookupError as error:
            log.error("No summary: %s", error)
            raise SystemExit(1) from None
        print(f"\n{table}\n")
        log.info("Sweep summary: %s", ", ".join(str(p) for p in written))
        failed = [p for p in _statuses(sweep_dir) if p[1] in ("failed", "interrupted")]
        if failed:
            log.error("%d job(s) failed: %s", len(failed), ", ".join(str(p[0]) for p in failed))
            raise SystemExit(1)


def _statuses(sweep_dir: str) -> list[tuple[str, str]]:
    from nninit.runs import find_runs

    runs, skipped = find_runs([sweep_dir])
    return [(str(r.path), r.metrics.get("status")) for r in runs] + [(str(p), "failed") for p, _ in skipped]
