"""One writer per folder: a run or a sweep owns its folder through an OS lock held by its process.

The lock is ``fcntl.flock`` on :data:`LOCK_FILE` inside the folder. The kernel releases it when
the owning process ends, however it ends (``kill -9`` included), so a lock left behind is
recognised by the lock itself, never by guessing from a process id. The file records the
owner's process id and command line, for the message that refuses a second command. On
release, the owner removes the file while still holding the lock; whoever opened the removed
file before that sees that it is no longer the folder's lock file and opens the new one.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import sys

from nninit.record.signals import signals_held

LOCK_FILE = ".nninit.lock"
"""The lock file inside an owned folder (present only while a command owns the folder, or after one was killed)."""

_CREATED: dict[str, list[str]] = {}
"""Per owned folder, the folders created for it (itself and missing parents, innermost first): removed on
release when still empty, so that a command stopped or refused before it wrote anything leaves nothing."""
_HELD: dict[str, tuple[int, int]] = {}
"""Folders this process owns: their path, the open lock file's descriptor and the owner's process id
(a process forked by the owner inherits this table, not the folders: it never releases them)."""


class FolderBusy(Exception):
    """The folder is owned by another live command.

    Attributes
    ----------
    folder : str
    owner : str
        What the owner recorded: ``pid N: its command line`` (empty while it is starting).
    """

    def __init__(self, folder: str, owner: str):
        self.folder, self.owner = folder, owner
        super().__init__(f"{folder} is in use by another command ({owner or 'one that is starting'}); "
                         f"wait for it to end, or choose another folder")


def lock_folder(folder: str, fresh: bool = False) -> None:
    """Make this process the only writer of ``folder`` (created if missing) until :func:`release`.

    A folder created here (or, with ``fresh``, by the caller just before) is removed on release when
    nothing was written into it, with the parents created for it: a command stopped before its run
    started, or refused, leaves no empty folder.

    Never waits: another owner makes it raise at once. Locking a folder this process already
    owns does nothing.

    Parameters
    ----------
    folder : str
        A run or sweep folder.
    fresh : bool, default=False
        The caller has just created ``folder`` for this command (a default, uniquely named folder).

    Raises
    ------
    FolderBusy
        When a live process owns the folder, or a folder above it (a run into a job folder of a sweep
        that is running).
    """
    folder = os.path.abspath(folder)
    if folder in _HELD:
        return
    above = _owned_above(folder)
    if above is not None:  # e.g. a run into a job folder of a sweep that is running
        raise FolderBusy(*above)
    created = [folder] if fresh else []
    parent = folder
    while not os.path.isdir(parent):  # the folders this call creates, innermost first
        created.append(parent)
        parent = os.path.dirname(parent)
    os.makedirs(folder, exist_ok=True)
    with signals_held():  # an interrupt never leaves a lock file that no one will remove
        _lock(folder)
        _CREATED[folder] = list(dict.fromkeys(created))


def _owned_above(folder: str) -> tuple[str, str] | None:
    """The nearest folder above ``folder`` that another live process owns, with what its owner recorded."""
    parent = os.path.dirname(folder)
    while parent != os.path.dirname(parent):
        try:
            fd = os.open(os.path.join(parent, LOCK_FILE), os.O_RDONLY)
        except OSError:  # no lock file there (the usual case)
            parent = os.path.dirname(parent)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # taken at once when no one owns it
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            return parent, os.read(fd, 4096).decode(errors="replace").strip()
        finally:
            os.close(fd)
        parent = os.path.dirname(parent)
    return None


def _lock(folder: str) -> None:
    path = os.path.join(folder, LOCK_FILE)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # not inherited by exec'd processes
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 4096).decode(errors="replace").strip()
            os.close(fd)
            raise FolderBusy(folder, owner) from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the previous owner removed this file as we opened it: lock the current one
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}: {_command_line()}\n".encode())
    _HELD[folder] = (fd, os.getpid())


def release(folder: str | None = None) -> None:
    """Give up ``folder`` (every folder this process owns when None): its lock file is removed.

    Parameters
    ----------
    folder : str, optional
    """
    for path in [os.path.abspath(folder)] if folder is not None else list(_HELD):
        with signals_held():
            fd, pid = _HELD.pop(path, (None, None))
            if fd is not None and pid == os.getpid():
                with contextlib.suppress(FileNotFoundError):  # while still locked: no one else holds this file
                    os.unlink(os.path.join(path, LOCK_FILE))
                os.close(fd)
                for created in _CREATED.pop(path, []):  # nothing was written: the folders it made go too
                    try:
                        os.rmdir(created)
                    except OSError:  # not empty (a run was recorded), or gone
                        break


def _command_line() -> str:
    """This process's command as typed, e.g. ``python run.py init=he hydra.run.dir=D`` (one line)."""
    program = os.path.basename(sys.executable or "python")
    return " ".join([program, *sys.argv]).replace("\n", " ")


atexit.register(release)
