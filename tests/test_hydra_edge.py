"""Hydra at the edge. The control keys (nninit.app.control_keys.CONTROL_KEYS), declared once: the schema's keys
besides what is run, the recorded config, the recorded overrides, Hydra's folder names and validate's message all
agree with it. Hydra's internals, read by one function (launched_jobs, compared with a real sweep in
test_locks.py), pinned to the versions it was checked for."""

import dataclasses
import re

import pytest
from conftest import REPO, compose

from nninit.app.config import Config, ConfigError, validate
from nninit.app.control_keys import CONTROL_KEYS, OVERRIDES_KEPT, folder_name_excludes, recorded_overrides

WHAT_IS_RUN = ("init", "data", "model", "train", "seed")


def _hydra_config(overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from nninit.app.hydra import setup

    setup()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides, return_hydra_config=True)


def test_the_schema_is_what_is_run_and_the_control_keys():
    assert {f.name for f in dataclasses.fields(Config)} == set(WHAT_IS_RUN) | set(CONTROL_KEYS) - {"hydra"}


def test_a_run_records_none_of_the_control_keys_in_its_config():
    cfg = compose(["name=x", "tags=[a]", "plots.figures=false", "tracker=mlflow", "resume=true"])
    assert set(cfg) == set(WHAT_IS_RUN)


def test_validate_names_every_control_key_as_accepted_besides_the_config():
    cfg = {**compose([]), "unknown_key": 1}
    with pytest.raises(ConfigError) as error:
        validate(cfg)
    assert all(key in error.value.accepted for key in CONTROL_KEYS if key != "hydra")


def test_recorded_overrides_leave_out_how_the_command_ran_and_keep_the_labels():
    overrides = ["init=he", "resume=true", "tracker=mlflow", "tracker.timeout=5", "+tracker.experiment=e", "name=x",
                 "tags=[a,b]", "plots.figures=false", "train.learning_rate=0.5", "seed=2"]
    assert recorded_overrides(overrides) == ["init=he", "name=x", "tags=[a,b]", "plots.figures=false",
                                             "train.learning_rate=0.5", "seed=2"]
    assert recorded_overrides(None) == []
    assert set(OVERRIDES_KEPT) < set(CONTROL_KEYS)


def test_folder_names_leave_out_every_control_key_and_its_sub_keys():
    cfg = _hydra_config(["tracker=mlflow", "tracker.timeout=5", "tracker.experiment=e", "plots.figures=false",
                         "plots.animation=false", "name=x", "tags=[a]", "resume=true", "train.learning_rate=0.5"])
    excluded = list(cfg.hydra.job.config.override_dirname.exclude_keys)
    assert excluded == folder_name_excludes(cfg)
    assert {"resume", "name", "tags", "plots.figures", "plots.animation", "tracker", "tracker.tracking_uri",
            "tracker.experiment", "tracker.max_retries", "tracker.timeout"} <= set(excluded)  # the list written before
    assert cfg.hydra.job.override_dirname == "train.learning_rate=0.5"


def test_folder_name_excludes_lists_each_control_key_then_its_node_keys():
    root = {"hydra": {"run": {}}, "plots": {"figures": None}, "tracker": {"name": "none"}, "seed": 3}
    assert folder_name_excludes(root) == ["hydra", "resume", "name", "tags", "plots", "plots.figures", "tracker",
                                          "tracker.name"]


def test_hydra_stays_in_the_range_launched_jobs_is_pinned_for():
    """launched_jobs reads Hydra's internals: the installed Hydra must be in the range it was checked for
    (the test above), and that range is pyproject.toml's pin; a Hydra or a pin that moves fails here."""
    import hydra

    from nninit.app.hydra.sweep import HYDRA_PINNED, check_hydra_version

    pin = re.search(r'"hydra-core>=([0-9.]+),<([0-9.]+)"', (REPO / "pyproject.toml").read_text())
    assert pin is not None and pin.groups() == HYDRA_PINNED, "move HYDRA_PINNED and pyproject.toml's pin together"
    check_hydra_version()  # the installed Hydra: no error
    assert hydra.__version__.startswith("1.3.")


@pytest.mark.parametrize("version", ["1.4.0", "1.4.0.dev1", "2.0.0", "1.3.1", "1.2.0"])
def test_a_hydra_outside_the_pinned_range_refuses_a_sweep_loudly(version):
    from nninit.app.hydra.sweep import check_hydra_version

    with pytest.raises(RuntimeError, match=rf"Hydra {re.escape(version)} is installed.*launched_jobs"):
        check_hydra_version(version)


def test_only_the_sweep_module_reads_hydras_internals():
    """Hydra's private modules are read in one place (nninit/app/hydra/sweep.py: launched_jobs and JobComposer),
    pinned above, and by the sweeper plugin, which is Hydra's basic sweeper (a subclass: a Hydra plugin must be)."""
    readers = sorted(str(path.relative_to(REPO)) for path in [*(REPO / "nninit").rglob("*.py"), REPO / "run.py"]
                     if "hydra._internal" in path.read_text(encoding="utf-8"))
    assert readers == ["nninit/app/hydra/hydra_plugins/nninit_sweeps/sweeper.py", "nninit/app/hydra/sweep.py"]


def test_every_app_module_but_the_hydra_edge_is_kept_free_of_hydra_by_a_contract():
    """pyproject's import-linter contract names the app modules that must not import Hydra: a new app
    module is in it, or this fails (the contract cannot say "all but nninit.app.hydra" by itself)."""
    import pkgutil

    import nninit.app

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    hydra_free = next(c for c in contracts if c["name"].startswith("Hydra only at the edge"))["source_modules"]
    app_modules = {f"nninit.app.{m.name}" for m in pkgutil.iter_modules(nninit.app.__path__)} - {"nninit.app.hydra"}
    assert app_modules <= set(hydra_free)
