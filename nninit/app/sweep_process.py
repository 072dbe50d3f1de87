"""A sweep from Python: ``python run.py -m ...`` in a child process (:func:`run_sweep`), with its output and
progress shown here.

Why a child process and not Hydra's multirun in this one: a sweep's launcher starts worker processes
(joblib's, which stay alive to be reused, or a cluster's), owns the stop signals while the jobs run and ends
them on Ctrl-C (:mod:`nninit.app.hydra.workers`), and Hydra keeps global state for the whole command. In a
child process all of that ends with it, whatever happened, so that a notebook's kernel is left as it was; the
jobs' folders and the summary are then those of ``python run.py -m`` by construction. It costs Hydra's start-up
(about a second). A Ctrl-C here is forwarded to the child, which records what its jobs could and says how to
resume; then it is raised here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from nninit.record import runfolder
from nninit.record.signals import GRACE_S
from nninit.record.sweep_progress import SWEEP_PROGRESS, SWEEP_STATE

RUN_PY = Path(__file__).resolve().parents[2] / "run.py"
"""The checkout's entry point (the package is installed from the checkout: ``pip install -e .``)."""
REFUSAL = "nninit: error: "


class SweepFailed(RuntimeError):
    """The sweep ended without a summary (every job failed, or Hydra stopped it); the message says why."""


QUIET_SHOWS = ("[WARNING]", "[ERROR]", "[CRITICAL]")
"""With a progress bar, the child's log lines still shown (the others are in each job's ``run.log``)."""


def _echo(stream, out, lines: list[str], everything: bool) -> None:
    """Copy the child's ``stream`` to ``out`` line by line (all of them, or those of :data:`QUIET_SHOWS`),
    keeping the lines."""
    for line in iter(stream.readline, ""):
        lines.append(line)
        if everything or any(level in line for level in QUIET_SHOWS):
            out.write(line)
            out.flush()


def _progress_bar(total: int | None):
    """tqdm's bar: a widget in a notebook with ipywidgets (``tqdm.auto``), else text; None without tqdm."""
    import importlib.util

    try:
        if importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.auto import tqdm
        else:  # tqdm.auto would warn that the widget is missing, and print the text bar
            from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="sweep", unit="job")


def _tqdm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("tqdm") is not None


def _done(sweep_dir: Path) -> tuple[int | None, int]:
    """The jobs the sweep runs (None until it says) and how many ended (:mod:`nninit.record.sweep_progress`)."""
    try:
        total = runfolder.read_json(sweep_dir / SWEEP_STATE).get("jobs")
        with open(sweep_dir / SWEEP_PROGRESS, encoding="utf-8") as file:
            return total, sum(1 for _ in file)
    except (OSError, ValueError):
        return None, 0


def _wait(child: subprocess.Popen, sweep_dir: Path, progress: bool) -> int:
    """Wait for ``child``, moving the progress bar (with ``progress``); a Ctrl-C is forwarded to it and raised
    once it ended."""
    bar = None
    try:
        while True:
            try:
                return child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                total, done = _done(sweep_dir)
                if bar is None and total and progress:
                    bar = _progress_bar(total)
                if bar is not None:
                    bar.update(done - bar.n)
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)  # the sweep records what its jobs could and says how to resume
        try:
            child.wait(timeout=3 * GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise
    finally:
        if bar is not None:
            bar.update(_done(sweep_dir)[1] - bar.n)
            bar.close()


def run_sweep(overrides: list[str], sweep_dir: Path, progress: bool = True) -> int:
    """Run ``python run.py -m OVERRIDES hydra.sweep.dir=SWEEP_DIR`` from this working folder, its output
    copied to this process's ``sys.stdout`` and ``sys.stderr`` (a notebook's cell).

    Parameters
    ----------
    overrides : list of str
        Hydra overrides; swept keys hold comma-separated values (``seed=1,2,3``).
    sweep_dir : Path
        The sweep folder (``hydra.sweep.dir``), already quoted into ``overrides`` by the caller.
    progress : bool, default=True
        A progress bar (``tqdm.auto``, when installed) instead of the jobs' log lines (warnings and errors
        still show); False, or without tqdm: the log as ``python run.py -m`` prints it.

    Returns
    -------
    int
        The command's exit code: 0, or 1 when a job failed (the summary is written all the same).

    Raises
    ------
    nninit.app.hydra.compose.Refused
        When the command was refused before it started (exit code 2), with its message.
    SweepFailed
        When it ended otherwise without a summary.
    KeyboardInterrupt
        After the child recorded what its jobs could.
    """
    from nninit.app.hydra.compose import Refused

    command = [sys.executable, str(RUN_PY), "-m", *overrides]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = [], []
    progress = progress and _tqdm_installed()
    readers = [threading.Thread(target=_echo, args=(child.stdout, sys.stdout, out, not progress), daemon=True),
               threading.Thread(target=_echo, args=(child.stderr, sys.stderr, err, True), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        code = _wait(child, sweep_dir, progress)
    finally:
        for reader in readers:
            reader.join(timeout=5)
    if code == 2:
        refusal = [line[len(REFUSAL):].strip() for line in err if line.startswith(REFUSAL)]
        raise Refused(refusal[-1] if refusal else "".join(err[-5:]).strip())
    if code not in (0, 1) or not (sweep_dir / "summary.md").exists():
        raise SweepFailed(f"the sweep {sweep_dir} ended with exit code {code} and no summary: "
                          + ("".join(err[-5:]).strip() or "see its output above"))
    return code
