"""Finding run folders under paths, and telling a usable run record from a malformed one."""

from __future__ import annotations

import json
from pathlib import Path

from nninit.record import runfolder
from nninit.record.runs.read import NUMBER_FIELDS, Run, flatten, natural


def find_runs(paths: list[str | Path]) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Every run folder under ``paths`` (searched recursively).

    A run folder holds ``metrics.json`` or Hydra's ``.hydra/``. Folders whose ``metrics.json`` is
    missing or unreadable (a killed run) or malformed (:func:`malformed`: no ``config``, a number
    field that is not a number) are returned in ``skipped`` with the reason, which names the field.

    Returns
    -------
    runs : list of Run
        In natural order of their paths (job 2 before job 10).
    skipped : list of (Path, str)

    Raises
    ------
    FileNotFoundError
        When a path does not exist.
    """
    candidates: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
        if p.is_file():
            p = p.parent
        if (p / runfolder.METRICS).is_file() or (p / ".hydra").is_dir():
            candidates.add(p.resolve())
        candidates.update(m.parent.resolve() for m in p.rglob(runfolder.METRICS))
        candidates.update(h.parent.resolve() for h in p.rglob(".hydra") if h.is_dir())
    runs, skipped = [], []
    for path in sorted(candidates, key=natural):
        try:
            metrics = runfolder.read_json(path / runfolder.METRICS)
            if "status" not in metrics:
                raise ValueError("no 'status' key")
        except FileNotFoundError:
            skipped.append((path, "metrics.json is missing (a killed or still running job?)"))
            continue
        except (OSError, ValueError) as error:
            skipped.append((path, f"metrics.json is unreadable ({error})"))
            continue
        problem = malformed(metrics)
        if problem:
            skipped.append((path, f"metrics.json is malformed: {problem}; the run is left out"))
            continue
        runs.append(Run(path, metrics, flatten(metrics["config"])))
    return runs, skipped


def malformed(metrics: dict) -> str | None:
    """What makes a run record unusable, naming the field: no ``config`` (a group ``init=null`` would be
    made of it), or a field of :data:`NUMBER_FIELDS` that is neither a number nor null (its value would
    be missing from the mean while ``n`` counted the run). None for a usable record."""
    if not isinstance(metrics.get("config"), dict) or not metrics["config"]:
        return f"the field `config` is {json.dumps(metrics.get('config'))}, not the run's settings"
    for key in NUMBER_FIELDS:
        value = metrics.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"the field `{key}` is {json.dumps(value)}, not a number"
    return None
