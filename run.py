"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options."""

import sys


def _interrupted() -> None:
    sweep = sys.modules["nninit.hydra_app"].sweep_dir_of_this_process() if "nninit.hydra_app" in sys.modules else None
    if sweep:
        print(f"nninit: interrupted; every job folder keeps what it recorded. To finish the jobs that did not, "
              f"run the same command with: hydra.sweep.dir='{sweep}' resume=true", file=sys.stderr)
    else:
        print("nninit: interrupted; the run folder keeps what was recorded (status 'interrupted')", file=sys.stderr)
    sys.exit(130)


from nninit import signals  # noqa: E402  (tiny: the handlers go in before the slow imports)

if __name__ == "__main__":
    # Ctrl-C and SIGTERM (``kill``, a scheduler's time limit) stop a run keeping what it recorded, even
    # when the run was started with SIGINT ignored (a background job of a non-interactive shell, some CI)
    signals.interrupt_on_ctrl_c()
    signals.interrupt_on_scheduler_signals()

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


def _exit_now() -> None:
    """End a finished single run without the interpreter's teardown of scipy, scikit-learn and
    matplotlib (a few tenths of a second): every file is written and closed, the logs are flushed."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
        if not {"-m", "--multirun"} & set(sys.argv[1:]):  # a sweep's launcher cleans up its workers at exit
            _exit_now()
    except KeyboardInterrupt:
        _interrupted()
    except Exception:
        if signals.interrupt_received():  # an interrupt that surfaced as another error (inside a C extension)
            _interrupted()
        raise
