"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options."""

import sys


def _exit_now(code: int = 0) -> None:
    """End a single run without the interpreter's teardown of scipy, scikit-learn and matplotlib
    (a few tenths of a second): every file is written and closed, the logs are flushed."""
    import logging
    import os

    if "nninit.plot_worker" in sys.modules:  # a helper no run used (e.g. a completed run resumed)
        sys.modules["nninit.plot_worker"].stop_early()
    if "nninit.folder_lock" in sys.modules:  # an interrupted run gives up its folder's lock too
        sys.modules["nninit.folder_lock"].release()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _interrupted() -> None:
    sweep = sys.modules["nninit.hydra_app"].sweep_dir_of_this_process() if "nninit.hydra_app" in sys.modules else None
    if sweep:
        print(f"nninit: interrupted; every job folder keeps what it recorded. To finish the jobs that did not, "
              f"run the same command with: hydra.sweep.dir='{sweep}' resume=true", file=sys.stderr)
        sys.exit(130)  # the launcher's workers are stopped by the interpreter's exit
    print("nninit: interrupted; the run folder keeps what was recorded (status 'interrupted')", file=sys.stderr)
    # without the interpreter's teardown: a C extension whose import the interrupt cut short can
    # crash it (SIGABRT, "Fatal Python error" while finalizing); every file is written and closed
    _exit_now(130)


from nninit import signals  # noqa: E402  (tiny: the handlers go in before the slow imports)

if __name__ == "__main__":
    # Ctrl-C and SIGTERM (``kill``, a scheduler's time limit) stop a run keeping what it recorded, even
    # when the run was started with SIGINT ignored (a background job of a non-interactive shell, some CI)
    signals.interrupt_on_ctrl_c()
    signals.interrupt_on_scheduler_signals()
    if not {"-m", "--multirun", "-h", "--help", "--hydra-help", "-c", "--cfg", "-i", "--info", "--version",
            "-sc", "--shell-completion"} & set(sys.argv[1:]):
        # a single run: a second process imports scikit-learn and draws the data while this one
        # imports Hydra and composes the config, then draws half the figures (nninit.plot_worker)
        from nninit import plot_worker

        plot_worker.start_early()

try:  # an interrupt while importing is an interrupt too, not a traceback
    import hydra

    from nninit import hydra_app  # registers the configs and resolvers
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
