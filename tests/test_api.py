"""The Python API (nninit.run, load, sweep, compare, runs): the command line's results, from a long-lived process."""

from __future__ import annotations

import importlib.util
import logging
import signal
import sys

import numpy as np
import pytest
from conftest import REPO, run_cli

import nninit
from nninit.app.api import _overrides
from nninit.app.hydra.compose import Refused

TINY = {"train.num_iterations": 100, "train.print_every": 50, "plots.figures": False}
"""A run of a few hundredths of a second (no figures)."""


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _process_state() -> tuple:
    """What a call must leave as it found it in a long-lived kernel."""
    import matplotlib.pyplot as plt
    from hydra.core.global_hydra import GlobalHydra

    from nninit.record.signals import interrupt_received

    return (GlobalHydra.instance().is_initialized(), tuple(plt.get_fignums()), tuple(logging.getLogger().handlers),
            signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM),
            frozenset(signal.pthread_sigmask(signal.SIG_BLOCK, [])), sys.unraisablehook, interrupt_received())


def test_keywords_and_a_list_are_hydra_overrides():
    assert _overrides(["init=he"], {"train.num_iterations": 5000, "model.hidden_dims": [10, 5],
                                    "train.diagnostics": True, "name": None}) == [
        "init=he", "train.num_iterations=5000", "model.hidden_dims=[10,5]", "train.diagnostics=true", "name=null"]
    with pytest.raises(TypeError, match=r"\['init=he'\]"):
        _overrides("init=he", {})


@pytest.mark.slow
def test_a_run_from_python_is_the_command_lines_and_prints_the_notebooks_costs(tmp_path, monkeypatch, capsys,
                                                                               reference):
    """The API's history.csv is run.py's byte for byte; the cost lines show; the He costs are the notebook's."""
    monkeypatch.chdir(tmp_path)
    args = ["init=he", "plots.figures=false"]
    run_cli([*args, f"hydra.run.dir={tmp_path / 'cli'}"], cwd=tmp_path)
    before = _process_state()
    r = nninit.run(args, run_dir=tmp_path / "api")
    printed = capsys.readouterr().out
    assert _process_state() == before
    assert (tmp_path / "api" / "history.csv").read_bytes() == (tmp_path / "cli" / "history.csv").read_bytes()
    for name in ("config.yaml", "overrides.yaml"):
        assert (tmp_path / "api" / ".hydra" / name).read_text() == (tmp_path / "cli" / ".hydra" / name).read_text()
    assert sorted(p.name for p in (tmp_path / "api").iterdir()) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    expected = reference["runs"]["he"]["costs"]
    np.testing.assert_allclose(r.history["cost"][:len(expected)], expected, rtol=1e-9, atol=0)
    assert r.history["iteration"][1] == 1000 and r.status == "completed" and r.config["init"]["name"] == "he"
    assert f"Cost after iteration 1000: {r.history['cost'][1]}" in printed
    assert (tmp_path / "api" / "run.log").read_text().count("Cost after iteration") == len(expected)


@pytest.mark.slow
def test_ten_calls_in_one_process_all_behave(tmp_path, monkeypatch, capsys):
    """run, sweep, and failing calls between them: each does what the command line does, and leaves the process
    (Hydra, logging, signals, figures) as it found it."""
    monkeypatch.chdir(tmp_path)
    before = _process_state()

    def ok_run(k):
        r = nninit.run(seed=k, **TINY)
        assert r.status == "completed" and r.path.parent.parent == tmp_path / "outputs" and r.config["seed"] == k
        return r

    first = ok_run(1)
    with pytest.raises(Refused, match=r"train.learning_rate=-1.0 is not accepted"):
        nninit.run(**{**TINY, "train.learning_rate": -1})
    s = nninit.sweep(init=["zeros", "he"], seed=[1, 2], sweep_dir=tmp_path / "sweep", **TINY)
    assert [r.status for r in s.runs] == ["completed"] * 4 and "No ranking" in s.which_is_best
    ok_run(2)
    with pytest.raises(Exception, match="Could not find 'init/nope'"):
        nninit.run(init="nope")
    with pytest.raises(Refused, match=r"already holds a run"):
        nninit.run(run_dir=first.path, **TINY)
    with pytest.raises(Refused, match=r"train.learning_rate=-1.0 is not accepted"):
        nninit.sweep(seed=[1, 2], sweep_dir=tmp_path / "bad", **{**TINY, "train.learning_rate": -1})
    ok_run(3)
    again = nninit.sweep(init="he", seed=range(1, 4), sweep_dir=tmp_path / "sweep2", **TINY)
    ok_run(4)
    assert _process_state() == before
    assert len(again.runs) == 3 and not (tmp_path / "bad").exists()
    assert isinstance(nninit.load(tmp_path / "sweep"), nninit.Sweep) and nninit.load(first.path).path == first.path
    assert "Cost after iteration 50" in capsys.readouterr().out


@pytest.mark.slow
def test_an_interrupted_run_records_it_and_the_next_call_runs(tmp_path, monkeypatch):
    import nninit.app.experiment as experiment

    def interrupted(*args, **kwargs):  # Ctrl-C in the middle of the training, as the kernel's interrupt sends it
        import os
        import time

        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
        raise AssertionError("SIGINT did not stop the run")

    before = _process_state()
    monkeypatch.setattr(experiment, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nninit.run(run_dir=tmp_path / "stopped", **TINY)
    assert nninit.load(tmp_path / "stopped").status == "interrupted"
    assert _process_state() == before
    monkeypatch.undo()
    assert nninit.run(run_dir=tmp_path / "next", **TINY).status == "completed"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small sweep, run once for the reading tests: 2 inits x 3 seeds (no figures of the jobs, as in any sweep)."""
    root = tmp_path_factory.mktemp("api")
    return nninit.sweep(init=["zeros", "he"], seed=range(1, 4), sweep_dir=root / "sweep",
                        **{"train.num_iterations": 300, "train.print_every": 100})


@pytest.mark.slow
def test_a_run_reads_back_and_draws_without_pyplot(finished):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    r = nninit.load(finished.runs[-1].path)
    h = r.history
    assert list(h["iteration"]) == [0, 100, 200, 300] and h["cost"].dtype == np.float64
    assert r.parameters("init")["W1"].shape == (10, 2) and not np.array_equal(r.parameters("init")["W1"],
                                                                                r.parameters("final")["W1"])
    assert r.data["X_train"].shape == (2, 300)
    with pytest.raises(ValueError, match="which='best' is not accepted: one of init, final"):
        r.parameters("best")
    assert isinstance(r.plot_cost(), Figure)
    _, ax = plt.subplots()
    assert r.plot_decision_boundary(ax=ax) is ax.figure
    plt.close("all")
    assert isinstance(r.plot_decision_boundary(), Figure) and plt.get_fignums() == []
    assert "he" in r._repr_html_() and "| status | completed |" in r._repr_markdown_()
    with pytest.raises(FileNotFoundError, match="no animation"):
        r.animation()


@pytest.mark.slow
def test_history_to_pandas_or_a_clear_import_error(finished, monkeypatch):
    h = finished.runs[0].history
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        h.to_pandas()
    monkeypatch.undo()
    pandas = pytest.importorskip("pandas")
    assert isinstance(h.to_pandas(), pandas.DataFrame) and list(h.to_pandas()["cost"]) == list(h["cost"])


@pytest.mark.slow
def test_compare_and_runs_return_what_the_scripts_print(finished, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _script("compare").main([str(finished.path), "--group-by", "init", "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    c = nninit.compare(finished.path, group_by=["init"], out=tmp_path / "b")
    assert printed.startswith(c.text) and c.which_is_best == finished.which_is_best
    assert sorted(p.name for p in c.written) == sorted(p.name for p in (tmp_path / "a").iterdir())
    assert _script("runs").main([str(finished.path), "--where", "init=he"]) == 0
    listing = nninit.runs(finished.path, where=["init=he"])
    assert str(listing) == capsys.readouterr().out.rstrip("\n") and len(listing) == 3
    assert all(r.config["init"]["name"] == "he" for r in listing)
    with pytest.raises(ValueError):
        nninit.runs(finished.path, where=["init"])


def test_a_number_typed_with_or_without_its_point_is_one_setting(tmp_path, monkeypatch):
    """``init.gain=2`` (Hydra reads an int) and ``init.gain=2.0`` (a float) are one setting, as ``--where`` says: one
    group in a comparison, a repeat when the seed is the same too, and a baseline however it is typed."""
    monkeypatch.chdir(tmp_path)
    for i, (gain, seed) in enumerate((("2.0", 1), ("2.0", 2), ("2", 1), ("3", 1))):
        nninit.run(["init=xavier", f"init.gain={gain}", f"seed={seed}"], run_dir=tmp_path / "runs" / str(i), **TINY)
    recorded = [nninit.load(tmp_path / "runs" / str(i)).config["init"]["gain"] for i in range(4)]
    assert [type(g) for g in recorded] == [float, float, int, int]  # the records keep what was typed
    c = nninit.compare(tmp_path / "runs", baseline="init.gain=2").result
    assert sorted(len(members) for members in c.groups.values()) == [1, 2] and c.keys == ["init.gain"]
    assert [(d.name, k.name) for d, k in c.dropped] == [("0", "2")]  # seed 1 with gain 2.0 and 2: one measurement
    assert sorted(type(r.config["init.gain"]).__name__ for r in c.runs) == ["float", "int", "int"]  # kept: both kinds
    assert c.baseline == next(label for label, members in c.groups.items() if len(members) == 2)
    assert len(nninit.runs(tmp_path / "runs", where="init.gain=2")) == 3


@pytest.mark.slow
def test_a_sweeps_summary_and_figures(finished):
    assert {row["group"] for row in finished.table} == {"init=zeros", "init=he"}
    assert set(finished.figures) == {"cost_curves", "accuracy", "differences", "decision_boundaries"}
    assert finished.figure("accuracy").data[:4] == b"\x89PNG"
    with pytest.raises(KeyError, match="this sweep has cost_curves"):
        finished.figure("nope")


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_is_forwarded_and_raised_once_its_jobs_recorded(tmp_path, request):
    """The sweep's child gets the Ctrl-C, its running job records 'interrupted', the child ends, then the
    KeyboardInterrupt is raised here and the process is as it was."""
    import os
    import threading
    import time

    from nninit.record.signals import child_processes

    # a shell starts a background job (`python -m pytest &`) with Ctrl-C ignored, and Python then keeps it
    # ignored: the Ctrl-C this test sends would be lost and the sweep run on; Python's own handler, as in a terminal
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, inherited))
    before = _process_state()
    sweep_dir = tmp_path / "sweep"

    def interrupt_once_a_job_trains():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any('"running"' in p.read_text() for p in sweep_dir.glob("*/metrics.json")):
                time.sleep(0.3)
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=interrupt_once_a_job_trains, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        nninit.sweep(seed=[1, 2], sweep_dir=sweep_dir, **{"train.num_iterations": 10**7, "train.print_every": 10**6})
    statuses = [nninit.load(p.parent).status for p in sorted(sweep_dir.glob("*/metrics.json"))]
    assert statuses[0] == "interrupted", statuses
    assert not any("run.py" in command for command in child_processes().values())
    assert _process_state() == before


@pytest.mark.slow
def test_a_three_class_run_reads_back_its_chance_level_and_class_figures(tmp_path):
    """iris (3 classes, 40 training examples each after the stratified split): the accuracy panel's chance
    line is the majority class's share, 1/3 (not the binary max(mean, 1 - mean) of the stored class indices,
    which would say 0.5), and the run's confusion matrix is one of its figures."""
    r = nninit.run(data="iris", run_dir=tmp_path / "iris", **{"train.num_iterations": 50, "train.print_every": 25})
    chance_line = r.plot_cost().axes[1].lines[2].get_ydata()
    assert chance_line[0] == pytest.approx(100 / 3)
    assert "confusion_matrix" in r.figures and r.figure("confusion_matrix").data[:4] == b"\x89PNG"
    with pytest.raises(KeyError, match="this run has"):
        r.figure("predictions")
