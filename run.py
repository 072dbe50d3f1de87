"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options."""

import signal
import sys


def _stop(signum, frame):
    """SIGTERM (``kill``, a scheduler's time limit) stops a run as Ctrl-C does, keeping what it recorded."""
    raise KeyboardInterrupt


def _interrupted() -> None:
    print("nninit: interrupted; the run folder keeps what was recorded (status 'interrupted')", file=sys.stderr)
    sys.exit(130)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    # Ctrl-C raises KeyboardInterrupt even when the run was started with SIGINT ignored (a background
    # job of a non-interactive shell, some CI runners), so that an interrupt is always recorded
    signal.signal(signal.SIGINT, signal.default_int_handler)

try:  # an interrupt while importing is an interrupt too, not a traceback
    import hydra

    from nninit import hydra_app  # registers the configs and resolvers
except KeyboardInterrupt:
    _interrupted()


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    return hydra_app.task(cfg)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        _interrupted()
