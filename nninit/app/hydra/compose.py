"""One run from Python, through Hydra as ``run.py`` runs it: :func:`run_in_process` (used by :func:`nninit.run`).

Hydra's Compose API (:class:`hydra.initialize_config_dir`) sets Hydra up with the checkout's ``conf/``, and
its :meth:`run` is what ``@hydra.main`` calls for ``python run.py ...``: the same composition, the same
callbacks (:class:`~nninit.app.hydra.callbacks.ValidateBeforeStart`: the checks and their messages, the
folder claimed and locked), the same task (:func:`~nninit.app.hydra.task.task`), the same run folder
(``.hydra/``, ``run.log``, the run's files). What ``run.py`` leaves to the end of its process is undone
here instead, so that a long-lived kernel can call again: Hydra's global state, the root logger's
handlers, the signal handlers and mask, a remembered interrupt and the folder's lock.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from nninit.app.hydra.task import task
from nninit.record import folder_lock, signals

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"
"""The checkout's Hydra configs (the package is installed from the checkout: ``pip install -e .``)."""
REFUSAL = "nninit: error: "
"""How :func:`nninit.app.hydra.callbacks.refuse` starts the line it prints before ending the command."""


class Refused(ValueError):
    """The command was refused before it started (a bad value, a folder that holds a run); the message is
    the line ``python run.py`` prints after ``nninit: error:``."""


class _Refusals:
    """``sys.stderr``, keeping the last line that starts with :data:`REFUSAL` (still printed)."""

    def __init__(self, stream):
        self.stream, self.message = stream, None

    def write(self, text: str) -> int:
        if text.startswith(REFUSAL):
            self.message = text[len(REFUSAL):].strip()
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


@contextlib.contextmanager
def _process_state_kept():
    """Put back, when the block ends, what a run changes in its process: the signal handlers and mask
    (``run.py`` ends its process instead), ``sys.unraisablehook``, the root logger's handlers and level
    (Hydra's ``job_logging`` replaces them; its file handler is closed), and a remembered interrupt."""
    handled = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGUSR2", None)) if s is not None]
    handlers = {s: signal.getsignal(s) for s in handled}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, []) if hasattr(signal, "pthread_sigmask") else None
    hook, root = sys.unraisablehook, logging.getLogger()
    root_handlers, root_level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in root_handlers:
                handler.close()
        root.handlers[:], root.level = root_handlers, root_level
        sys.unraisablehook = hook
        for s, h in handlers.items():
            if h is not None and threading.current_thread() is threading.main_thread():  # (only it may set them)
                signal.signal(s, h)
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signals.forget_interrupt()


def run_in_process(overrides: list[str]) -> dict:
    """Run one job as ``python run.py OVERRIDES`` does, in this process, and return its ``metrics.json``.

    Parameters
    ----------
    overrides : list of str
        Hydra command-line overrides (``init=he``, ``train.num_iterations=5000``, ``hydra.run.dir=...``).

    Returns
    -------
    dict
        The run's ``metrics.json`` (:func:`nninit.app.experiment.run`); ``run_dir`` is its folder.

    Raises
    ------
    Refused
        When the checks before the start refuse the command (``python run.py`` exits 2 with the same message).
    hydra.errors.HydraException
        When Hydra cannot compose the config (an unknown key or option), with Hydra's message.
    KeyboardInterrupt
        After the run folder recorded ``interrupted``.
    Exception
        What the run raised (its folder records ``failed``).
    """
    GlobalHydra.instance().clear()  # whatever an earlier caller left
    refusals = _Refusals(sys.stderr)
    try:
        with _process_state_kept(), contextlib.redirect_stderr(refusals), \
                initialize_config_dir(config_dir=str(CONF_DIR), job_name="run", version_base="1.3"):
            returned = GlobalHydra.instance().hydra.run(config_name="config", task_function=task, overrides=overrides)
        return returned.return_value
    except SystemExit as ended:
        if ended.code == 2 and refusals.message:
            raise Refused(refusals.message) from None
        if ended.code in (0, None):  # resume=true on a finished run: left as it is
            return {}
        raise
    finally:
        folder_lock.release()  # Hydra skips on_run_end when the job was interrupted
        GlobalHydra.instance().clear()
