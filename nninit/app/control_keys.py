"""The control keys: top-level config keys that say how to run a job or how to label it, not what is run.

Declared once here; everything else derives from :data:`CONTROL_KEYS`: a run's recorded config leaves them
out (:func:`nninit.app.hydra.job.job_config`), Hydra's folder names leave them out (``conf/config.yaml``'s
``exclude_keys``, through the resolver ``nninit_control_keys``), and a run's recorded overrides leave out
those that do not describe the run (:func:`recorded_overrides`). Imports nothing (Hydra-free, for
:mod:`nninit.app.experiment`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

CONTROL_KEYS = ("hydra", "resume", "name", "tags", "plots", "tracker")
"""``hydra`` (Hydra's own settings), ``resume`` (skip what a folder already finished), ``name`` and ``tags``
(labels, recorded beside the config in ``metrics.json``), ``plots`` (what a run draws), ``tracker`` (where
a run is also logged)."""
OVERRIDES_KEPT = ("name", "tags", "plots")
"""Control keys whose command-line overrides a run still records in ``metrics.json``'s ``overrides``: they
describe the run as it was asked for. The others (``resume``, ``tracker``: how this command ran) are left out."""


def _top_key(override: str) -> str:
    """``tracker.timeout=5`` -> ``tracker``; ``+plots.figures=true`` -> ``plots``."""
    return override.split("=", 1)[0].lstrip("+~").split(".", 1)[0]


def recorded_overrides(overrides: Iterable[str] | None) -> list[str]:
    """The command-line overrides a run records: all but those of the control keys outside :data:`OVERRIDES_KEPT`.

    Parameters
    ----------
    overrides : iterable of str, optional
        Hydra's task overrides (``init=he``, ``resume=true``, ``tracker.timeout=5``).

    Returns
    -------
    list of str
        In their order.
    """
    left_out = set(CONTROL_KEYS) - set(OVERRIDES_KEPT)
    return [o for o in overrides or [] if _top_key(str(o)) not in left_out]


def folder_name_excludes(root: Mapping) -> list[str]:
    """The override keys that never name a folder: each control key and each key of its node in ``root``.

    Hydra leaves an override out of ``hydra.job.override_dirname`` when its key is listed exactly
    (``plots.figures``, not ``plots``), so a control key's sub-keys are listed too (``tracker.timeout``).

    Parameters
    ----------
    root : Mapping
        The composed config (``_root_`` of a resolver): its ``plots`` and ``tracker`` nodes are read.

    Returns
    -------
    list of str
        ``['hydra', 'resume', 'name', 'tags', 'plots', 'plots.figures', ...]``.
    """
    keys = []
    for key in CONTROL_KEYS:
        keys.append(key)
        node = root.get(key) if key != "hydra" else None  # Hydra's own overrides never name a folder
        if isinstance(node, Mapping):
            keys += [f"{key}.{sub}" for sub in node]
    return keys
