"""Run one nninit experiment, or a sweep with ``-m``. ``python run.py --help`` lists the options."""

import sys

import hydra

from nninit import hydra_app  # registers the configs and resolvers


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    return hydra_app.task(cfg)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("nninit: interrupted; the run folder keeps what was recorded (status 'interrupted')", file=sys.stderr)
        sys.exit(130)
