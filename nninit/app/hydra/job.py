"""A job's configuration and labels, from Hydra's composed config, as plain containers."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from nninit.app.config import ConfigError, tag_list
from nninit.app.control_keys import CONTROL_KEYS


def job_config(cfg: DictConfig) -> dict:
    """The job's configuration without the control keys (:data:`nninit.app.control_keys.CONTROL_KEYS`),
    as plain resolved containers: what is run, and recorded as the run's ``config``."""
    return {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
            for k in cfg if k not in CONTROL_KEYS}


def labels(cfg: DictConfig) -> dict:
    """``name`` and ``tags`` of a run, as plain values (``tags`` a list of strings).

    Raises
    ------
    ConfigError
        When ``name`` is not a string or a tag is not a string or number.
    """
    name = cfg.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError("name", name, "a free label (text) or null")
    tags = cfg.get("tags")
    return {"name": name, "tags": tag_list(OmegaConf.to_container(tags) if OmegaConf.is_config(tags) else tags)}


def resuming(cfg: DictConfig) -> bool:
    """True for ``resume=true``."""
    return bool(cfg.get("resume", False))
