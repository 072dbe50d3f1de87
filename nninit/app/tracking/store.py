"""The MLflow store of the tracker: its URI resolved against the launch folder, a lock while it is used, a new
sqlite store created all at once, and the working folder MLflow reads its defaults in."""

from __future__ import annotations

import os
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path


def resolve_store(uri: str, launch_dir: Path) -> tuple[str, Path | None]:
    """A tracking URI with its relative local path made absolute against ``launch_dir``.

    Parameters
    ----------
    uri : str
        An MLflow tracking URI: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, a path or a
        ``file:`` URI (a file store), or a server (``http://...``, ``databricks``, ...).
    launch_dir : Path
        The absolute folder a relative path is read against.

    Returns
    -------
    (str, Path or None)
        The URI to give MLflow, and the path of the local store (the database file, or the folder
        of a file store); None for a server or an in-memory database.
    """
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme.split("+")[0] == "sqlite":
        from sqlalchemy.engine import make_url  # the installed SQLAlchemy decodes and encodes its own paths

        url = make_url(uri)
        if url.database in (None, "", ":memory:") or url.database.startswith("file:"):
            return uri, None
        store = launch_dir / url.database  # an absolute database path stays itself
        return url.set(database=str(store)).render_as_string(hide_password=False), store
    if scheme in ("", "file") and uri != "databricks":  # MLflow's one name of a server without a scheme
        store = launch_dir / local_path(uri)
        return str(store), store
    return uri, None


def local_path(uri: str) -> str:
    """The path of a plain path or a ``file:`` URI (percent-decoded)."""
    return urllib.request.url2pathname(urllib.parse.urlsplit(uri).path) if uri.startswith("file:") else uri


def refuse_inside(path: Path, run_dir: Path, what: str, instead: str) -> None:
    """Raise when ``path`` is ``run_dir`` or lies inside it: the tracker never writes into a run folder."""
    if path.resolve().is_relative_to(run_dir):
        raise ValueError(f"the MLflow {what} {path} is inside the run folder {run_dir}, which the tracker never "
                         f"writes into; {instead}")


@contextmanager
def store_lock(store: Path | None, timeout: float = 300.0):
    """Hold an exclusive lock on a local store while it is used, so that jobs logging to it at the
    same time (a parallel sweep, runs started together from different folders) never create or
    migrate its database at once (MLflow creates its tables on first use; two processes doing so
    together break it).

    The lock is ``<store>.nninit-lock`` beside the store, an OS lock (``fcntl.flock``) released when
    its holder ends, even by ``kill -9``; its holder removes the file, so nothing is left behind. A
    server (``store`` None) needs no lock; neither does a system without ``fcntl``.

    Raises
    ------
    TimeoutError
        When another process holds the lock for more than ``timeout`` seconds.
    OSError
        When the lock file cannot be created beside the store.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        fcntl = None
    if fcntl is None or store is None:
        yield
        return
    path = store.with_name(store.name + ".nninit-lock")
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the MLflow store {store} was locked by another job for {timeout:.0f} s") \
                            from None
                    time.sleep(0.05)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # its holder removed this file after we opened it: lock the file that is there now
    try:
        yield
    finally:
        os.unlink(path)  # removed while held: a process waiting on this file sees it gone and retries
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def create_sqlite_store(uri: str, store: Path) -> None:
    """Create a new sqlite MLflow store all at once: MLflow builds its schema (tens of migrations) in a
    temporary database beside ``store``, which is then renamed into place. A Ctrl-C in the middle left
    a half-migrated database that MLflow could never open again ("table ... already exists"); now it
    leaves nothing. Call it holding :func:`store_lock`.

    Parameters
    ----------
    uri : str
        The store's ``sqlite:///`` URI (absolute, :func:`resolve_store`).
    store : Path
        Its database file, which does not exist yet.
    """
    from mlflow.tracking import MlflowClient
    from sqlalchemy.engine import make_url

    store.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{store.name}.", suffix=".creating", dir=store.parent)
    os.close(fd)
    os.unlink(tmp)  # a name only: MLflow creates the database
    try:
        MlflowClient(make_url(uri).set(database=tmp).render_as_string(hide_password=False)).search_experiments(
            max_results=1)  # builds the schema
        os.replace(tmp, store)
    finally:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            with suppress(FileNotFoundError):
                os.unlink(leftover)


@contextmanager
def working_folder(folder: Path):
    """``folder`` as the working folder for the time of the block (``contextlib.chdir`` of Python 3.11)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
