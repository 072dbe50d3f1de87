"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options."""

import sys


def _exit_now(code: int = 0) -> None:
    """End a single run without the interpreter's teardown of scipy, scikit-learn and matplotlib
    (a few tenths of a second): every file is written and closed, the logs are flushed."""
    import logging
    import os

    if "nninit.figures.plot_worker" in sys.modules:  # a helper no run used (e.g. a completed run resumed)
        sys.modules["nninit.figures.plot_worker"].stop_early()
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

    written = getattr(sys.modules.get("nninit.app.experiment"), "run_dir_of_this_process", None)  # None: its import cut short
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
    sweep = sys.modules["nninit.app.hydra"].sweep_dir_of_this_process() if "nninit.app.hydra" in sys.modules else None
    if sweep:
        sys.modules["nninit.app.hydra"].record_stopped_jobs()  # jobs whose worker was ended before recording
        print(f"nninit: interrupted; every job folder keeps what it recorded. To finish the jobs that did not, "
              f"run the same command with: hydra.sweep.dir='{sweep}' resume=true", file=sys.stderr)
        sys.exit(130)  # the launcher's workers are stopped by the interpreter's exit
    print(f"nninit: {_what_the_run_folder_keeps()}", file=sys.stderr)
    # without the interpreter's teardown: a C extension whose import the interrupt cut short can
    # crash it (SIGABRT, "Fatal Python error" while finalizing); every file is written and closed
    _exit_now(130)


from nninit.record import signals  # noqa: E402  (tiny: the handlers go in before the slow imports)

try:  # from the moment the handlers are in, an interrupt is an interrupt, not a traceback
    if __name__ == "__main__":
        # Ctrl-C and SIGTERM (``kill``, a scheduler's time limit) stop a run keeping what it recorded, even
        # when the run was started with SIGINT ignored (a background job of a non-interactive shell, some CI)
        signals.interrupt_on_ctrl_c()
        signals.interrupt_on_scheduler_signals()
        # held until a job runs (nninit.app.hydra.task): a Ctrl-C while Hydra starts up would otherwise land
        # in Hydra's own code and come out as another error (exit 1, a traceback); it waits a second instead
        signals.block_stop_signals()
    if __name__ == "__main__" and not {"-m", "--multirun", "-h", "--help", "--hydra-help", "-c", "--cfg", "-i",
                                       "--info", "--version", "-sc", "--shell-completion"} & set(sys.argv[1:]):
        # a single run: a second process imports scikit-learn and draws the data while this one
        # imports Hydra and composes the config, then draws half the figures (nninit.figures.plot_worker)
        from nninit.figures import plot_worker

        plot_worker.start_early()
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
