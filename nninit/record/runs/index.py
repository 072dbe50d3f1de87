"""An index of run folders kept beside them: what ``runs.py`` and ``compare.py`` need of each run, read once.

Why SQLite (the standard library's ``sqlite3``): no new dependency; one file; safe with several writers at once
(a SLURM array finishing jobs together, two ``compare.py`` started side by side): the database runs in WAL mode
(readers never block the writer), every writer waits up to :data:`BUSY_TIMEOUT_S` for the lock instead of
failing, and each update is one transaction (``BEGIN IMMEDIATE``), so a reader sees all of an update or none.

The folders stay the source of truth; the index is a cache of them, checked on every use:

- the file is :data:`INDEX_NAME` at the root of the folders it indexes (a folder given to ``runs.py`` or
  ``compare.py`` that is not itself a run folder); ``.gitignore`` ignores it (and its ``-wal``/``-shm``);
- each run's row holds a *stamp* (:func:`stamp`), taken before the files are read: the run folder's own
  ``(mtime_ns, ctime_ns, link count)`` and the ``(mtime_ns, ctime_ns, size)`` of its ``metrics.json``,
  ``history.csv`` and ``data.npz``. A folder whose stamp differs (changed since, or new) is read again; a row whose
  folder is gone is dropped. A run folder whose own times and links are as indexed, and which held no folder but
  ``.hydra``, is not listed again (no entry was made or removed in it; :func:`unchanged_folder`): for 100,000 runs
  that walk costs four ``stat`` calls a run instead of a listing and three;
- a missing file, one that is not a database, or one of another schema version (``PRAGMA user_version`` is
  :data:`SCHEMA_VERSION`) is rebuilt from the folders, never trusted over them;
- where the index cannot be written (a read-only root, a full disk), it is kept in memory for this call only,
  with one warning: the answer is the same, only slower next time.

Each run's history is kept bounded (:func:`thinned`): at most :data:`CURVE_POINTS` + 1 rows, and its last row
beside it, so that final numbers need no parsing and a curve costs the same at any length of training.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
from pathlib import Path

import numpy as np

INDEX_NAME = ".nninit_index.sqlite"
SCHEMA_VERSION = 5
BUSY_TIMEOUT_S = 60.0
"""How long a writer waits for another writer's transaction before giving up (and keeping its index in memory)."""
CURVE_POINTS = 256
"""A run's history is kept at no more than this many rows plus its last (:func:`thinned`)."""
STAMPED = ("metrics.json", "history.csv", "data.npz")
"""The files whose ``(mtime_ns, size)`` make a run's stamp: any of them changed, the run is read again."""

log = logging.getLogger("nninit.record.runs")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    path TEXT PRIMARY KEY,      -- relative to the index's root
    stamp TEXT NOT NULL,        -- (mtime_ns, size) of STAMPED, as taken before reading
    problem TEXT,               -- why the run is skipped (find.py's reasons), or NULL for a usable run
    metrics TEXT,               -- metrics.json as read
    config TEXT,                -- its config flattened (read.flatten), JSON
    last TEXT,                  -- the history's last row, JSON {column: value}
    curve TEXT,                 -- the history thinned (thinned()), JSON {column: [values]}
    history_error TEXT,         -- Run.history_error of the folder
    majority_train REAL,
    majority_test REAL,
    brief TEXT                  -- the fields of metrics.json a listing shows (read.BRIEF_FIELDS), JSON
)
"""


def stamp(folder: str, info: os.stat_result, nested: bool) -> str:
    """A run folder's stamp: :func:`folder_head` of the folder's own ``os.stat`` ``info`` (``nested``: it holds
    folders other than ``.hydra``), then :func:`file_stamp`."""
    return folder_head(info, nested) + file_stamp(folder)


def folder_head(info: os.stat_result, nested: bool) -> str:
    """``'mtime_ns:ctime_ns:links:nested|'`` of a folder. Its mtime changes whenever an entry is made, removed or
    renamed in it, and the harness writes every file of a run by renaming a temporary one into place
    (:func:`nninit.record.runfolder.atomic_write`), so every file it writes changes the folder's head; its ctime
    changes with its permissions too (a folder made unreadable is listed again)."""
    return f"{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_nlink}:{int(nested)}|"


def unchanged_folder(old: str, info: os.stat_result) -> str | None:
    """The head of a folder whose stamp was ``old`` and whose ``os.stat`` is now ``info``, when the folder is
    unchanged and held no folder but ``.hydra`` (its entries are those it had when its stamp was taken: it is still
    a run folder, and no run can have appeared below it); else None (the folder is listed again)."""
    head = folder_head(info, False)
    return head if old.startswith(head) else None


def file_stamp(folder: str) -> str:
    """``'mtime_ns:ctime_ns:size'`` of each of :data:`STAMPED` in ``folder`` (``-`` for a missing or unreachable
    file), joined by ``/``: a file rewritten in place (which leaves the folder's mtime as it was) changes its own
    times, and the ctime, which no program can set back, also changes with a file's permissions or an mtime put
    back by hand (``touch -d``)."""
    parts = []
    for name in STAMPED:
        try:
            st = os.stat(f"{folder}/{name}")  # a string join: a Path per file costs more than the stat
            parts.append(f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}")
        except OSError:
            parts.append("-")
    return "/".join(parts)


def thinned(history: dict[str, np.ndarray], points: int = CURVE_POINTS) -> dict[str, list[float]]:
    """The rows of ``history`` at a fixed grid of row numbers: every ``stride``-th row and the last, where
    ``stride`` is the smallest power of two that leaves at most ``points`` grid rows.

    Runs recorded on the same schedule keep the same iterations, and a run twice as long keeps a subset of
    the shorter run's grid (powers of two nest), so means over runs at common iterations stay possible.

    Parameters
    ----------
    history : dict of str to ndarray, each of shape (rows,)
    points : int, default=CURVE_POINTS

    Returns
    -------
    dict of str to list of float
        At most ``points + 1`` values per column; every row when there are at most ``points``.
    """
    rows = min((len(v) for v in history.values()), default=0)
    if rows == 0:
        return {}
    stride = 1 if rows <= points else 2 ** math.ceil(math.log2(rows / points))
    keep = np.arange(0, rows, stride)
    if keep[-1] != rows - 1:
        keep = np.append(keep, rows - 1)
    return {k: [float(x) for x in np.asarray(v, dtype=float)[keep]] for k, v in history.items()}


class Index:
    """The SQLite index at ``root`` (:data:`INDEX_NAME`), opened (and rebuilt when unusable), or in memory."""

    def __init__(self, root: Path, said: bool = False):
        self.root = root
        self.note: str | None = None
        """Why the index is in memory only, when it is: a warning, or a debug line when ``said`` (already told)."""
        self._level = logging.DEBUG if said else logging.WARNING
        try:
            self.db = self._open(root / INDEX_NAME)
        except sqlite3.Error as error:
            self.note = f"cannot keep the run index at {root / INDEX_NAME} ({error}); it is kept in memory this time"
            log.log(self._level, "%s", self.note)
            self.db = self._open(None)

    @staticmethod
    def _connect(file: Path | None) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:" if file is None else str(file), timeout=BUSY_TIMEOUT_S,
                             isolation_level=None)  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if file is not None:
            db.execute("PRAGMA journal_mode = WAL")
        return db

    def _open(self, file: Path | None) -> sqlite3.Connection:
        """Connect, check the schema version, and make or remake the table; a file that is not a database is
        deleted and made again (its rows would only be copies of the folders)."""
        db = None
        try:
            db = self._connect(file)
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            if file is None or isinstance(error, sqlite3.OperationalError) or not file.exists():
                raise
            if db is not None:
                db.close()
            discard(file, error)
            db = self._connect(file)
            version = 0
        if version != SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:  # no other writer did it meanwhile
                db.execute("DROP TABLE IF EXISTS runs")
                db.execute(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        return db

    def stamps(self) -> dict[str, str]:
        """Each indexed run's relative path and stamp."""
        return dict(self.db.execute("SELECT path, stamp FROM runs"))

    def rows(self, curves: bool = True, narrow: tuple[str, list] | None = None) -> list[tuple]:
        """The rows of the runs, as :meth:`update` takes them: ``(path, stamp, problem, metrics, config, last, curve,
        history_error, majority_train, majority_test, brief)``; ``curves=False``: ``curve`` is None (:class:`Curves`
        reads it when asked for). ``narrow`` (an SQL condition on ``config`` and its parameters,
        :func:`~nninit.record.runs.conditions.superset_sql`): only the rows where it holds (:meth:`passed_over`
        gives the others)."""
        columns = "*" if curves else ("path, stamp, problem, metrics, config, last, NULL, history_error, "
                                      "majority_train, majority_test, brief")
        if narrow is None:
            return self.db.execute(f"SELECT {columns} FROM runs").fetchall()
        return self.db.execute(f"SELECT {columns} FROM runs WHERE coalesce(({narrow[0]}), 0)", narrow[1]).fetchall()

    def passed_over(self, narrow: tuple[str, list]) -> list[tuple[str, str, str | None]]:
        """``(path, stamp, problem)`` of the rows :meth:`rows` leaves out with ``narrow``."""
        return self.db.execute(f"SELECT path, stamp, problem FROM runs WHERE NOT coalesce(({narrow[0]}), 0)",
                               narrow[1]).fetchall()

    def update(self, fresh: list[tuple], gone: list[str]) -> None:
        """In one transaction: write the rows read again (``(path, stamp, problem, metrics, config, last, curve,
        history_error, majority_train, majority_test, brief)``) and drop the runs whose folders are gone. When the file
        cannot be written, the index moves to memory (with :attr:`note`) and the update is made there."""
        if not fresh and not gone:
            return
        try:
            self._write(fresh, gone)
        except sqlite3.OperationalError as error:  # read-only, locked past the timeout, disk full
            if self.note is not None:
                raise
            self.note = (f"cannot write the run index at {self.root / INDEX_NAME} ({error}); it is kept in memory "
                         f"this time")
            log.log(self._level, "%s", self.note)
            old = self.db.execute("SELECT * FROM runs").fetchall()
            self.db.close()
            self.db = self._open(None)
            self.db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", old)
            self._write(fresh, gone)

    def _write(self, fresh: list[tuple], gone: list[str]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", fresh)
            self.db.executemany("DELETE FROM runs WHERE path = ?", [(p,) for p in gone])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()


class Curves:
    """The stored curves of one index file, read one run at a time when a run's history is first asked for (a
    listing or the statistics need none; holding 100,000 of them would cost memory for nothing). One read-only
    connection, opened on first use (again in a forked process)."""

    def __init__(self, file: Path):
        self.file = file
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def get(self, rel: str, run_stamp: str, names: tuple[str, ...] | None = None) -> str | None:
        """The curve JSON of the run at ``rel`` as indexed with ``run_stamp`` (only the columns ``names``, when given:
        SQLite picks them out, so that a figure of two columns over 100,000 runs parses no other; a column the run
        lacks is null); None when the row is gone or was rewritten meanwhile (another writer), or the file cannot be
        read."""
        if names:
            pairs = ", ".join("?, json_extract(curve, ?)" for _ in names)
            query = f"SELECT CASE WHEN json_valid(curve) THEN json_object({pairs}) ELSE curve END FROM runs " \
                    f"WHERE path = ? AND stamp = ?"
            args = [x for name in names for x in (name, "$." + json.dumps(name))]
        else:
            query, args = "SELECT curve FROM runs WHERE path = ? AND stamp = ?", []
        try:
            if self._db is None or self._pid != os.getpid():
                self._db = sqlite3.connect(f"{self.file.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                           check_same_thread=False)
                self._pid = os.getpid()
            found = self._db.execute(query, (*args, rel, run_stamp)).fetchone()
        except sqlite3.Error:
            return None
        return None if found is None else found[0]


def discard(file: Path, error: Exception | None = None) -> None:
    """Delete an index file (and its ``-wal``/``-shm``): an unusable one, saying why (``error``), after which the next
    open makes it anew; or, without ``error``, one this call made and found no run for."""
    if error is not None:
        log.warning("%s is not a usable run index (%s); it is rebuilt from the run folders", file, error)
    for leftover in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
        with contextlib.suppress(OSError):
            leftover.unlink(missing_ok=True)
