"""Resuming (``resume=true``): which folders hold a finished run to keep, and what Hydra may write into them."""

from __future__ import annotations

import json
import os
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nninit.app.config import ConfigError
from nninit.app.hydra.job import job_config


def finished_run(folder: str, cfg: dict) -> dict | None:
    """The ``metrics.json`` of ``folder`` when it records a ``completed`` or ``diverged`` run of
    exactly ``cfg`` (a result to keep when resuming); None when there is none to keep (missing,
    failed, interrupted, still running).

    Raises
    ------
    ConfigError
        When the folder holds a run of another config: resuming never overwrites it.
    """
    from nninit.record.runfolder import METRICS, read_json
    from nninit.record.runs import flatten

    try:
        metrics = read_json(os.path.join(folder, METRICS))
    except (OSError, ValueError):
        return None
    if json.dumps(metrics.get("config"), sort_keys=True) != json.dumps(cfg, sort_keys=True):
        old, new = flatten(metrics.get("config") or {}), flatten(cfg)
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise ConfigError("resume", True, f"{folder} holds a run of another config ("
                          + ", ".join(f"{k}: {old.get(k)} there, {new.get(k)} here" for k in keys[:3])
                          + "); resume only finishes the same runs, it never overwrites another")
    return metrics if metrics.get("status") in ("completed", "diverged") else None


def kept(folder: str, job_cfg: DictConfig) -> bool:
    """True when resuming leaves ``folder`` as it is and does not run its job: it holds a finished
    run of ``job_cfg``, or a run of another config (which the job refuses)."""
    try:
        return finished_run(folder, job_config(job_cfg)) is not None
    except ConfigError:
        return True


def unless_kept(value: Any, replacement: Any, *, _root_: DictConfig) -> Any:
    """``value``, or ``replacement`` in a job that a resumed sweep keeps as it is: its folder holds a
    finished run of its config (skipped) or a run of another config (refused, never overwritten).

    ``conf/config.yaml`` routes Hydra's own writes into a job's folder before the job starts
    through it (``hydra.output_subdir``: ``.hydra/`` or none; the job log: ``run.log`` or
    ``/dev/null``), so that resuming leaves a kept folder byte for byte as it was. Evaluated
    in whichever process runs the job, after Hydra has set ``hydra.runtime.output_dir``.
    """
    if _root_.get("resume") and kept(str(OmegaConf.select(_root_, "hydra.runtime.output_dir")), _root_):
        return replacement
    return value
