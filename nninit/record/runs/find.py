"""Finding run folders under paths, and telling a usable run record from a malformed one; through the run index
(:mod:`~nninit.record.runs.index`) where a path is a folder of runs, so that unchanged runs are not read again."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

from nninit.record import runfolder
from nninit.record.runs.conditions import parse_condition, superset_sql, where
from nninit.record.runs.index import INDEX_NAME, Curves, Index, discard, file_stamp, stamp, thinned, unchanged_folder
from nninit.record.runs.read import NUMBER_FIELDS, IndexedRun, Run, brief, flatten, natural, parse_many

log = logging.getLogger("nninit.record.runs")


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
    runs, _, skipped = _found(paths, index, None)
    return runs, skipped


def find_where(paths: list[str | Path], conditions: list[str] | None, *,
               index: bool = False) -> tuple[list[Run], int, list[tuple[Path, str]]]:
    """The runs under ``paths`` that meet every condition: ``where(find_runs(paths)[0], conditions)``
    (:func:`~nninit.record.runs.where`), with the same answer and errors, but through the run index only the runs
    that may meet them are read (:func:`~nninit.record.runs.conditions.superset_sql`).

    Parameters
    ----------
    paths : list of str or Path
    conditions : list of str, optional
        ``KEY=VALUE`` each; all must hold.
    index : bool, default=False
        As for :func:`find_runs`.

    Returns
    -------
    selected : list of Run
        In natural order of their paths.
    total : int
        How many usable runs are under ``paths`` before the conditions.
    skipped : list of (Path, str)

    Raises
    ------
    FileNotFoundError
        When a path does not exist.
    ValueError
        A malformed condition, or a key no run has (:func:`~nninit.record.runs.where`).
    """
    for condition in conditions or []:
        parse_condition(condition)  # a malformed condition is refused before any folder is read
    narrow = superset_sql(conditions) if index else None
    runs, total, skipped = _found(paths, index, narrow)
    if narrow is not None:
        try:
            selected = where(runs, conditions)
        except ValueError:  # a key none of the runs read has: the runs left unread decide the message
            selected = []
        if selected:  # each condition's key is a key of some run: where() over every run would not refuse
            return selected, total, skipped
        runs, total, skipped = _found(paths, index, None, said=True)  # an index kept in memory was said once
    return where(runs, conditions), total, skipped


def _found(paths: list[str | Path], index: bool, narrow: tuple[str, list] | None,
           said: bool = False) -> tuple[list[Run], int, list[tuple[Path, str]]]:
    """The runs under ``paths`` (those ``narrow`` lets through, for folders read through their index), the number of
    usable runs, and the folders skipped; ``said``: an index kept in memory is logged at debug level, not warned
    of (a second reading in one call)."""
    found: dict[str, Run | str | None] = {}
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
        if p.is_file():
            p = p.parent
        root = p.resolve()
        if index and not _is_run_folder(root):
            made = not (root / INDEX_NAME).exists()
            entries = _indexed(root, narrow, said)
            if made and all(isinstance(e, str) for e in entries.values()):  # no usable run: no index left by this call
                discard(root / INDEX_NAME)
            for path, entry in entries.items():
                found.setdefault(path, entry)
        else:
            for path in _walk(root).values():
                found.setdefault(os.fspath(path), read_folder(path))
    total = sum(not isinstance(v, str) for v in found.values())
    ordered = sorted(((k, v) for k, v in found.items() if v is not None), key=lambda kv: natural(kv[0]))
    runs = [v for _, v in ordered if isinstance(v, Run)]
    skipped = [(Path(k), v) for k, v in ordered if isinstance(v, str)]
    return runs, total, skipped


def _is_run_folder(path: Path) -> bool:
    return (path / runfolder.METRICS).is_file() or (path / ".hydra").is_dir()


def _walk(root: Path) -> dict[str, Path]:
    """Every run folder at or under ``root`` by its path relative to ``root`` (``.`` for ``root`` itself): one
    walk of the tree; ``.hydra`` folders are not entered."""
    return {rel: Path(folder) for rel, (folder, _) in _scan(root, {}, stamps=False).items()}


def _scan(root: Path, known: dict[str, str], *, stamps: bool = True) -> dict[str, tuple[str, str | None]]:
    """Every run folder at or under ``root``: its path relative to ``root`` (``.`` for ``root`` itself) -> (its
    path, its :func:`~nninit.record.runs.index.stamp`, or None with ``stamps=False``).

    One walk of the tree that does not list a folder ``known`` (the index's stamps) holds as an unchanged run folder
    without sub-folders (:func:`~nninit.record.runs.index.unchanged_folder`): its entries are those it had when it
    was indexed, so it is still a run folder and holds no new one; only its files are stamped. ``.hydra`` folders
    and symbolic links to folders are not entered (as ``os.walk`` does not); a folder that cannot be listed is
    passed over (as ``os.walk`` does)."""
    top = os.fspath(root)
    cut = len(top) + 1
    found: dict[str, tuple[str, str | None]] = {}
    stack: list[tuple[str, os.DirEntry | None]] = [(top, None)]
    while stack:
        folder, entry = stack.pop()
        listed = _listing(folder)
        if listed is None:
            continue
        is_run, subfolders = listed
        if is_run:
            found[folder[cut:] or "."] = (folder, _stamp(folder, entry, bool(subfolders)) if stamps else None)
        for sub in subfolders:
            rel, head = sub.path[cut:], None
            if rel in known:
                try:
                    head = unchanged_folder(known[rel], sub.stat(follow_symlinks=False))
                except OSError:
                    continue
            if head is not None:
                found[rel] = (sub.path, head + file_stamp(sub.path))
            else:
                stack.append((sub.path, sub))
    return {rel: value for rel, value in found.items() if not stamps or value[1] is not None}


def _listing(folder: str) -> tuple[bool, list[os.DirEntry]] | None:
    """Whether ``folder`` is a run folder (it holds ``metrics.json`` or a ``.hydra`` folder), and its folders to
    walk into (not ``.hydra``, not symbolic links); None when it cannot be listed."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return None
    is_run, subfolders = False, []
    for e in entries:
        if e.name == ".hydra":
            is_run = is_run or e.is_dir()
        elif e.is_dir():
            if not e.is_symlink():
                subfolders.append(e)
        elif e.name == runfolder.METRICS:
            is_run = True
    return is_run, subfolders


def _stamp(folder: str, entry: os.DirEntry | None, nested: bool) -> str | None:
    """The stamp of a run folder just listed; None when it vanished meanwhile."""
    try:
        return stamp(folder, entry.stat(follow_symlinks=False) if entry is not None else os.stat(folder), nested)
    except OSError:
        return None


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


def _indexed(root: Path, narrow: tuple[str, list] | None = None, said: bool = False) -> dict[str, Run | str | None]:
    """The runs under ``root`` (by folder path) from its index, brought up to date first; an index found unusable
    midway (a damaged file) is rebuilt once. With ``narrow`` (:func:`~nninit.record.runs.conditions.superset_sql`),
    a usable run whose indexed config it rules out is None (not read); a skipped folder is its reason either way."""
    for attempt in (1, 2):
        store = Index(root, said=said)
        try:
            known = store.stamps()
            scanned = _scan(root, known)
            fresh = {rel: _record(rel, Path(folder), now) for rel, (folder, now) in scanned.items()
                     if known.get(rel) != now}
            store.update(list(fresh.values()), [rel for rel in known if rel not in scanned])
            lazy = store.note is None  # a file: curves are read from it when asked for; in memory: kept now
            try:
                rows = {row[0]: row for row in store.rows(curves=not lazy, narrow=narrow)}
                over = {row[0]: row for row in store.passed_over(narrow)} if narrow is not None else {}
            except sqlite3.OperationalError as error:  # an SQLite without its JSON functions: every run is read
                if narrow is None:
                    raise
                log.debug("the run index cannot narrow in SQL (%s): every run is read", error)
                rows, over = {row[0]: row for row in store.rows(curves=not lazy)}, {}
        except sqlite3.DatabaseError as error:
            if attempt == 2 or isinstance(error, sqlite3.OperationalError):
                raise
            store.close()
            discard(root / INDEX_NAME, error)
            continue
        store.close()
        # another writer may have dropped or rewritten a row meanwhile (it walked the tree before or after this
        # call): a row is used only with the stamp seen here, else this call's own reading of the folder
        used: dict[str, tuple | str | None] = {}
        for rel, (folder, now) in scanned.items():
            if rel in fresh:
                used[rel] = fresh[rel]
            elif rel in rows and rows[rel][1] == now:
                used[rel] = rows[rel]
            elif rel in over and over[rel][1] == now:
                used[rel] = over[rel][2]  # ruled out: None, or why the folder is skipped
            else:
                used[rel] = _record(rel, Path(folder), now)
        read = [row for row in used.values() if isinstance(row, tuple) and row[2] is None]
        configs = dict(zip((row[0] for row in read), parse_many([row[4] for row in read]), strict=True))
        curves = Curves(root / INDEX_NAME) if lazy else None
        return {folder: used[rel] if not isinstance(used[rel], tuple) else
                _run(folder, used[rel], configs.get(rel), curves) for rel, (folder, _) in scanned.items()}
    raise AssertionError("unreachable")


def _record(rel: str, folder: Path, now: str) -> tuple:
    """The index row of ``folder`` (:meth:`Index.update`), read after its stamp ``now`` was taken."""
    run = read_folder(folder)
    if isinstance(run, str):
        return (rel, now, run, None, None, None, None, None, None, None, None)
    try:
        history, error = runfolder.read_history(folder / runfolder.HISTORY), None
    except FileNotFoundError:
        history, error = {}, "missing" if run.metrics.get("status") in ("completed", "diverged") else None
    except (OSError, ValueError) as problem:
        history, error = {}, f"unreadable: {problem}"
    last = {k: float(v[-1]) for k, v in history.items() if len(v)}
    # the config as json.dumps writes it by default: conditions.superset_sql searches its text
    return (rel, now, None, json.dumps(run.metrics), json.dumps(run.config, separators=(", ", ": ")), json.dumps(last),
            json.dumps(thinned(history)), error, run.majority("train"), run.majority("test"),
            json.dumps(brief(run.metrics)))


def _run(folder: str, row: tuple, config: dict | None, curves: Curves | None) -> Run | str:
    """A :class:`Run` (or the reason it is skipped) from its index row (:meth:`Index.rows`) and its parsed config; a
    row without its curve reads it from ``curves`` when the history is first asked for (or the folder, when the row
    changed)."""
    rel, now, problem, metrics, _, last, curve, error, train, test, brief_text = row
    if problem is not None:
        return problem
    if curve is None:
        def curve(names=None):
            return curves.get(rel, now, names) or _record(rel, Path(folder), now)[6] or "{}"
    return IndexedRun(folder, metrics, config, brief_text, _curve=curve, _last=last, _stored_error=error,
                      _majority={"train": train, "test": test})


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
