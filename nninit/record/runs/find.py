"""Finding run folders under paths, and telling a usable run record from a malformed one; through the run index
(:mod:`~nninit.record.runs.index`) where a path is a folder of runs, so that unchanged runs are not read again."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from nninit.record import runfolder
from nninit.record.runs.index import INDEX_NAME, Curves, Index, discard, stamp, thinned
from nninit.record.runs.read import NUMBER_FIELDS, IndexedRun, Run, flatten, interned, natural


def find_runs(paths: list[str | Path], *, index: bool = False) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Every run folder under ``paths`` (searched recursively).

    A run folder holds ``metrics.json`` or Hydra's ``.hydra/``. Folders whose ``metrics.json`` is
    missing or unreadable (a killed run) or malformed (:func:`malformed`: no ``config``, a number
    field that is not a number) are returned in ``skipped`` with the reason, which names the field.

    Parameters
    ----------
    paths : list of str or Path
    index : bool, default=False
        Read a path that is a folder of runs (not itself a run folder) through its run index
        (:mod:`~nninit.record.runs.index`: made or brought up to date from the folders first, so the answer is
        the same as without it; ``scripts/runs.py`` and ``scripts/compare.py`` do). False: read every folder.

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
    found: dict[Path, Run | str] = {}
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
        if p.is_file():
            p = p.parent
        root = p.resolve()
        if index and not _is_run_folder(root):
            for path, entry in _indexed(root).items():
                found.setdefault(path, entry)
        else:
            for path in _walk(root).values():
                found.setdefault(path, read_folder(path))
    runs = [v for _, v in sorted(found.items(), key=lambda kv: natural(kv[0])) if isinstance(v, Run)]
    skipped = [(k, v) for k, v in sorted(found.items(), key=lambda kv: natural(kv[0])) if isinstance(v, str)]
    return runs, skipped


def _is_run_folder(path: Path) -> bool:
    return (path / runfolder.METRICS).is_file() or (path / ".hydra").is_dir()


def _walk(root: Path) -> dict[str, Path]:
    """Every run folder at or under ``root`` by its path relative to ``root`` (``.`` for ``root`` itself): one
    walk of the tree; ``.hydra`` folders are not entered."""
    folders, top = {}, os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(top):
        if runfolder.METRICS in filenames or ".hydra" in dirnames:
            folders[dirpath[len(top) + 1:] or "."] = Path(dirpath)
        if ".hydra" in dirnames:
            dirnames.remove(".hydra")
    return folders


def read_folder(path: Path) -> Run | str:
    """The run in folder ``path``, or why it is skipped."""
    try:
        metrics = runfolder.read_json(path / runfolder.METRICS)
        if "status" not in metrics:
            raise ValueError("no 'status' key")
    except FileNotFoundError:
        return "metrics.json is missing (a killed or still running job?)"
    except (OSError, ValueError) as error:
        return f"metrics.json is unreadable ({error})"
    problem = malformed(metrics)
    if problem:
        return f"metrics.json is malformed: {problem}; the run is left out"
    return Run(path, metrics, flatten(metrics["config"]))


def _indexed(root: Path) -> dict[Path, Run | str]:
    """The runs under ``root`` from its index, brought up to date first; an index found unusable midway
    (a damaged file) is rebuilt once."""
    folders = _walk(root)
    for attempt in (1, 2):
        store = Index(root)
        try:
            known = store.stamps()
            seen = {rel: stamp(folder) for rel, folder in folders.items()}
            fresh = {rel: _record(rel, folders[rel], now) for rel, now in seen.items() if known.get(rel) != now}
            store.update(list(fresh.values()), [rel for rel in known if rel not in folders])
            lazy = store.note is None  # a file: curves are read from it when asked for; in memory: kept now
            rows = {row[0]: row for row in store.rows(curves=not lazy)}
        except sqlite3.DatabaseError as error:
            if attempt == 2 or isinstance(error, sqlite3.OperationalError):
                raise
            store.close()
            discard(root / INDEX_NAME, error)
            continue
        store.close()
        # another writer may have dropped or rewritten a row meanwhile (it walked the tree before or after this
        # call): a row is used only with the stamp seen here, else this call's own reading of the folder
        curves = Curves(root / INDEX_NAME) if lazy else None
        return {folder: _run(folder, fresh.get(rel) or (rows[rel] if rel in rows and rows[rel][1] == seen[rel] else
                                                        _record(rel, folder, seen[rel])), curves)
                for rel, folder in folders.items()}
    raise AssertionError("unreachable")


def _record(rel: str, folder: Path, now: str) -> tuple:
    """The index row of ``folder`` (:meth:`Index.update`), read after its stamp ``now`` was taken."""
    run = read_folder(folder)
    if isinstance(run, str):
        return (rel, now, run, None, None, None, None, None, None, None)
    try:
        history, error = runfolder.read_history(folder / runfolder.HISTORY), None
    except FileNotFoundError:
        history, error = {}, "missing" if run.metrics.get("status") in ("completed", "diverged") else None
    except (OSError, ValueError) as problem:
        history, error = {}, f"unreadable: {problem}"
    last = {k: float(v[-1]) for k, v in history.items() if len(v)}
    return (rel, now, None, json.dumps(run.metrics), json.dumps(run.config), json.dumps(last),
            json.dumps(thinned(history)), error, run.majority("train"), run.majority("test"))


def _run(folder: Path, row: tuple, curves: Curves | None) -> Run | str:
    """A :class:`Run` (or the reason it is skipped) from its index row (:meth:`Index.rows`); a row without its
    curve reads it from ``curves`` when the history is first asked for (or the folder, when the row changed)."""
    rel, now, problem, metrics, config, last, curve, error, train, test = row
    if problem is not None:
        return problem
    if curve is None:
        def curve():
            return curves.get(rel, now) or _record(rel, folder, now)[6] or "{}"
    return IndexedRun(folder, metrics, interned(json.loads(config)), _curve=curve, _last=last,
                      _stored_error=error, _majority={"train": train, "test": test})


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
