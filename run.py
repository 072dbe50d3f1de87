"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options."""

import signal
import sys

import hydra

from nninit import hydra_app  # registers the configs and resolvers


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    return hydra_app.task(cfg)


def _stop(signum, frame):
    """SIGTERM (``kill``, a scheduler's time limit) stops a run as Ctrl-C does, keeping what it recorded."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    # Ctrl-C raises KeyboardInterrupt even when the run was started with SIGINT ignored (a background
    # job of a non-interactive shell, some CI runners), so that an interrupt is always recorded
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        main()
    except KeyboardInterrupt:
        print("nninit: interrupted; the run folder keeps what was recorded (status 'interrupted')", file=sys.stderr)
        sys.exit(130)
