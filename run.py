"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options.

How this process ends (every interrupt and exit of ``run.py`` is handled here, and only here; a
run's own failures and interrupts are recorded by ``nninit.app.experiment.recorded``):

- Ctrl-C and SIGTERM (``kill``, a scheduler's time limit) stop a run keeping what it recorded, from
  this file's first statement on, even when the run was started with SIGINT ignored. They are held
  while Hydra starts up (released when a job runs: ``nninit.app.hydra.task``), so that a Ctrl-C
  there waits a second instead of landing in Hydra's own code as another error.
- A single run that ends normally exits 0 through :func:`_exit_now`: without the interpreter's
  teardown of numpy, scipy and matplotlib (a few tenths of a second); every file is written and
  closed, the logs flushed, the folder's lock released.
- An interrupted single run exits 130 (:func:`_interrupted`) after one line naming its run folder and
  the status it keeps, also through :func:`_exit_now`: a C extension whose import the interrupt cut
  short can crash the interpreter's teardown.
- An interrupted sweep records the jobs its workers could not, says how to resume it, and exits 130
  through the interpreter's exit (which stops the launcher's workers).
- Any other error is Hydra's: its message and exit code 1.
"""

import sys


def _exit_now(code: int = 0) -> None:
    """End a single run without the interpreter's teardown: every file is written and closed; the
    logs are flushed and the run folder's lock released here."""
    import logging
    import os

    if "nninit.record.folder_lock" in sys.modules:  # an interrupted run gives up its folder's lock too
        sys.modules["nninit.record.folder_lock"].release()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run_folder() -> str | None:
    """This process's run folder: the one its run writes (``nninit.app.experiment``), else the folder
    of Hydra's job log when it holds Hydra's ``.hydra`` (the job started, the run not yet)."""
    import logging
    import os

    experiment = sys.modules.get("nninit.app.experiment")
    written = getattr(experiment, "run_dir_of_this_process", None)  # None: its import was cut short
    if written is not None and written() is not None:
        return str(written())
    for handler in logging.getLogger().handlers:
        folder = os.path.dirname(getattr(handler, "baseFilename", ""))
        if folder and os.path.isdir(os.path.join(folder, ".hydra")):
            return folder
    return None


def _what_the_run_folder_keeps() -> str:
    """What an interrupted single run leaves: its folder named, when there is one, and its status."""
    import json
    import os

    folder = _run_folder()
    if folder is None:
        return "interrupted before the run started; nothing was recorded"
    try:
        with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as file:
            status = json.load(file)["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"interrupted before the run started; its folder {folder} holds no run record (metrics.json)"
    return f"interrupted; the run folder {folder} keeps what was recorded (status '{status}')"


def _interrupted() -> None:
    """Exit 130 after an interrupt, saying what was kept (see the module's docstring)."""
    app = sys.modules.get("nninit.app.hydra")
    sweep = app.sweep_dir_of_this_process() if app is not None else None
    if sweep:
        app.record_stopped_jobs()  # jobs whose worker was ended before recording
        print(f"nninit: interrupted; every job folder keeps what it recorded. To finish the jobs that did not, "
              f"run the same command with: hydra.sweep.dir='{sweep}' resume=true", file=sys.stderr)
        sys.exit(130)
    print(f"nninit: {_what_the_run_folder_keeps()}", file=sys.stderr)
    _exit_now(130)


from nninit.record import signals  # noqa: E402  (tiny: the handlers go in before the slow imports)

try:  # from the moment the handlers are in, an interrupt is an interrupt, not a traceback
    if __name__ == "__main__":
        signals.interrupt_on_ctrl_c()
        signals.interrupt_on_scheduler_signals()
        signals.block_stop_signals()
    import hydra

    from nninit.app import hydra as hydra_app  # registers the configs and resolvers
except BaseException:
    if signals.interrupt_received():  # KeyboardInterrupt, or ImportError when it landed in a C extension
        _interrupted()
    raise


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    return hydra_app.task(cfg)


if __name__ == "__main__":
    try:
        main()
        if hydra_app.sweep_dir_of_this_process() is None:  # a sweep (-m or hydra.mode=MULTIRUN): its
            _exit_now()  # launcher's workers are stopped by the interpreter's exit
    except KeyboardInterrupt:
        _interrupted()
    except Exception:
        if signals.interrupt_received():  # an interrupt that surfaced as another error (inside a C extension)
            _interrupted()
        raise
