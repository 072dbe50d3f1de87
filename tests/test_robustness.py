"""Faults of a kind, each with the input that showed it: blow-ups, memory, paths, LSUV scales, garbled files."""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nninit.numerics.initializers import initialize_parameters
from nninit.numerics.training import BLOWUP_FACTOR, TrainSettings, blew_up, train


def test_a_cost_that_blows_up_is_a_divergence(circles):
    """learning_rate=1e6 takes the cost from 0.88 to about 150,000, finite: diverged at that row."""
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    result = train(circles.X_train, circles.Y_train, params, TrainSettings(1e6, 3000))
    assert result.status == "diverged" and result.diverged_at == 1000
    assert [row["iteration"] for row in result.history] == [0, 1000]
    assert math.isfinite(result.history[-1]["cost"]) and result.history[-1]["cost"] > 1e5


def test_the_blow_up_rule():
    ln2 = math.log(2.0)
    assert BLOWUP_FACTOR == 10.0
    assert not blew_up(10 * ln2 - 1e-9, 0.1) and blew_up(10 * ln2 + 1e-9, 0.1)  # a tiny start counts as ln 2
    assert not blew_up(17_000.0, 1773.6) and blew_up(17_737.0, 1773.6)  # the notebook's random x10 start
    assert not blew_up(float("nan"), 0.7)  # NaN is caught by the finiteness check, not here


# ------------------------------------------------------------ commands (subprocesses: slow)

READ_ONLY = ["--help", "--hydra-help", "--info", "--info all", "--cfg job", "--cfg hydra", "--cfg all",
             "--cfg job --resolve", "--cfg hydra --resolve", "--cfg all --resolve",
             "--shell-completion install=bash", "init=xavier --cfg hydra --resolve"]


@pytest.mark.slow
@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_commands_write_nothing(command, tmp_path):
    from conftest import run_cli

    proc = run_cli(command.split(), cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_jobs_that_would_share_a_folder_are_refused_before_any_runs(tmp_path):
    from conftest import run_cli

    proc = run_cli(["-m", "init=he", "init.gain=1,2", "hydra.sweep.subdir=${init.name}", "train.num_iterations=10"],
                   cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert ("jobs #0 (init=he init.gain=1 train.num_iterations=10) and #1 (init=he init.gain=2 "
            "train.num_iterations=10) would write into the same folder he") in proc.stderr
    assert list(tmp_path.iterdir()) == []
    ok = run_cli(["-m", "init=he", "init.gain=1,2", "hydra.sweep.subdir=gain_${init.gain}", "train.num_iterations=10",
                  f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path)
    assert ok.returncode == 0
    assert sorted(p.name for p in (tmp_path / "sweep").glob("gain_*")) == ["gain_1", "gain_2"]


@pytest.mark.slow
def test_resume_skips_finished_jobs_and_reruns_the_others(tmp_path):
    import json

    from conftest import run_cli

    sweep = tmp_path / "sweep"
    args = ["-m", "init=zeros,he", "seed=1,2", "train.num_iterations=200", "train.print_every=100",
            f"hydra.sweep.dir={sweep}"]
    run_cli(args, cwd=tmp_path)
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(jobs) == 4
    (jobs[0] / "metrics.json").unlink()  # a job killed before it wrote anything
    metrics = json.loads((jobs[1] / "metrics.json").read_text())
    (jobs[1] / "metrics.json").write_text(json.dumps({**metrics, "status": "interrupted"}))
    kept = {job: (job / "params_final.npz").stat().st_mtime_ns for job in jobs[2:]}

    refused = run_cli(args, cwd=tmp_path, check=False)
    assert refused.returncode == 2 and "resume=true" in refused.stderr

    resumed = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert resumed.stdout.count("already holds a completed run of this config; skipped") + \
        resumed.stderr.count("already holds a completed run of this config; skipped") == 2
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["status"] == "completed"
        assert "resume" not in json.loads((job / "metrics.json").read_text())["config"]
    assert all((job / "params_final.npz").stat().st_mtime_ns == mtime for job, mtime in kept.items())
    assert "| init=zeros | 2 |" in resumed.stdout and "| init=he | 2 |" in resumed.stdout


def test_resolving_a_folder_name_creates_nothing_and_claiming_is_exclusive(tmp_path):
    from nninit.app.hydra.naming import claim_dir, unique_dir

    base = str(tmp_path / "outputs" / "run")
    assert unique_dir(base) == base and not (tmp_path / "outputs").exists()
    assert claim_dir(base) and not claim_dir(base)  # a second claim of the same name fails
    assert unique_dir(base) == base + "_1" and not (tmp_path / "outputs" / "run_1").exists()


# ------------------------------------------------------------ memory

def _cgroup_tree(tmp_path, v2_limits=None, v1_limit=None):
    """A fake /proc/self/cgroup and /sys/fs/cgroup: v2 limits along a path, or a v1 memory limit."""
    root = tmp_path / "cgroup"
    if v2_limits is not None:
        folder = root
        for name, limit in v2_limits:
            folder = folder / name if name else folder
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "memory.max").write_text(f"{limit}\n")
        proc = "0::/" + "/".join(n for n, _ in v2_limits if n) + "\n"
    else:
        (root / "memory" / "job").mkdir(parents=True)
        (root / "memory" / "job" / "memory.limit_in_bytes").write_text(f"{v1_limit}\n")
        proc = "4:memory:/job\n0::/\n"
    (tmp_path / "proc_cgroup").write_text(proc)
    return tmp_path / "proc_cgroup", root


def test_memory_limit_is_the_smallest_of_physical_cgroup_and_slurm(tmp_path):
    from nninit.record.memory import memory_limit

    proc, root = _cgroup_tree(tmp_path, v2_limits=[("", "max"), ("user", 3 * 2**30), ("job", "max")])
    assert memory_limit(env={}, proc_cgroup=proc, cgroup_root=root) == (3 * 2**30, "the cgroup memory limit")
    assert memory_limit(env={"SLURM_MEM_PER_NODE": "2048"}, proc_cgroup=proc, cgroup_root=root) == \
        (2 * 2**30, "the SLURM allocation")
    assert memory_limit(env={"SLURM_MEM_PER_CPU": "512", "SLURM_CPUS_PER_TASK": "2"}, proc_cgroup=proc,
                        cgroup_root=root) == (2**30, "the SLURM allocation")
    v1 = tmp_path / "v1"
    v1.mkdir()
    proc1, root1 = _cgroup_tree(v1, v1_limit=1536 * 2**20)
    assert memory_limit(env={}, proc_cgroup=proc1, cgroup_root=root1) == (1536 * 2**20, "the cgroup memory limit")
    proc0, root0 = _cgroup_tree(tmp_path / "none", v1_limit=9223372036854771712)  # v1's 'unlimited'
    physical = memory_limit(env={}, proc_cgroup=proc0, cgroup_root=root0)
    assert physical[1] == "physical memory" and physical[0] > 2**30


def test_a_run_too_big_for_its_allocation_is_refused_naming_the_key(monkeypatch):
    from conftest import compose

    from nninit.app.config import ConfigError, validate

    monkeypatch.setenv("SLURM_MEM_PER_NODE", "2048")  # the slurm launcher's mem_gb: 2
    big_data = compose(["data.n_train=25000000", "model.hidden_dims=[]", "train.num_iterations=5"])
    with pytest.raises(ConfigError, match=r"^data.n_train=25000000 is not accepted: .* more than the SLURM "
                                          r"allocation allows here \(2.0 GiB\); at most about [\d,]+ examples fit"):
        validate(big_data)
    with pytest.raises(ConfigError, match=r"^data.n_train=1000000000 is not accepted"):
        validate(compose(["data.n_train=1000000000"]))
    with pytest.raises(ConfigError, match=r"^model.hidden_dims=\[30000, 30000\] is not accepted: its parameters"):
        validate(compose(["model.hidden_dims=[30000,30000]"]))
    validate(compose(["data.n_train=1000000", "model.hidden_dims=[]"]))  # fits in 2 GiB


def test_a_network_too_big_for_any_data_blames_the_network(monkeypatch):
    """model.hidden_dims=[1000000000] was refused blaming data.n_train=300 ('at most about 0 examples fit')."""
    from conftest import compose

    from nninit.app.config import ConfigError, validate

    monkeypatch.setenv("SLURM_MEM_PER_NODE", "2048")
    with pytest.raises(ConfigError, match=r"^model.hidden_dims=\[1000000000\] is not accepted: its parameters .* "
                                          r"and the smallest data .* more than the SLURM allocation allows here"):
        validate(compose(["model.hidden_dims=[1000000000]"]))
    # a network whose parameters fit but whose activations leave room for only a few hundred examples
    with pytest.raises(ConfigError,
                       match=r"^data.n_train=300 is not accepted: .*at most about [1-9][\d,]* examples fit"):
        validate(compose(["model.hidden_dims=[600000]"]))
    with pytest.raises(ConfigError, match=r"^data.n_test=100000000 is not accepted: .* per test example\).*"
                                          r"at most about [1-9][\d,]* examples fit"):
        validate(compose(["data.n_test=100000000"]))


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [
    ["train.num_iterations=200"],
    ["data.n_train=1000000", "train.num_iterations=5"],
    ["data.n_train=2000000", "model.hidden_dims=[]", "train.num_iterations=5"],
])
def test_the_estimate_is_above_the_measured_peak(overrides, tmp_path):
    import subprocess
    import sys

    from conftest import REPO, compose

    from nninit.record.memory import estimated_bytes

    probe = ("import resource, subprocess, sys; "
             "p = subprocess.run(sys.argv[1:], capture_output=True); assert p.returncode == 0, p.stderr[-2000:]; "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    proc = subprocess.run([sys.executable, "-c", probe, sys.executable, str(REPO / "run.py"), *overrides,
                           f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stdout.split()[-1]) * 1024  # ru_maxrss is in KiB on Linux
    estimate = estimated_bytes(compose(overrides))[0]
    assert peak < estimate < 2 * peak + 300 * 2**20, (peak / 2**20, estimate / 2**20)


# ------------------------------------------------------------ paths are data

@pytest.mark.parametrize("value", ["runs/exp_lr=0.1", "a,b", "x[1]", "it's", "sp ace", "$HOME/x", "d${x}y",
                                   "back\\slash", "end\\", "q\\'x"])
def test_a_quoted_override_gives_back_the_value(value):
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from nninit.app.hydra.naming import override

    parsed = OverridesParser.create().parse_override(override("hydra.sweep.dir", value))
    assert parsed.key_or_group == "hydra.sweep.dir"
    assert OmegaConf.create({"k": parsed.value()}).k == value  # after OmegaConf's own unescaping


@pytest.mark.slow
def test_an_experiment_folder_with_grammar_characters(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    out = "runs/exp_lr=0.1,a[1]'s $x"
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "seed_table.py"), "--quick", "--out", out],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / out / "report.md").read_text().startswith("# Seed table")
    assert len(list((tmp_path / out / "sweep").glob("*/metrics.json"))) == 3


@pytest.mark.slow
def test_an_experiment_with_a_misspelt_override_leaves_nothing(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "seed_table.py"), "--out", "exp",
                           "train.num_iteration=5"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Key 'num_iteration' not in 'TrainConfig'" in proc.stderr
    # (the echoed command holds the checkout's path, which may itself contain 'error')
    assert "no report" not in proc.stderr and "error" not in proc.stdout.replace(str(REPO), "").lower()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ LSUV at any finite scale

@pytest.mark.parametrize("gain", [1e-200, 1e-300, 1e200, 1e300])
def test_lsuv_from_any_finite_scale(circles, gain):
    """A tiny live layer is not a dead one, a huge one does not overflow, and no warning escapes:
    every layer ends with its output variance within tol of 1, as from an ordinary scale."""
    import warnings

    from nninit.numerics.activations import RELU, activate
    from nninit.numerics.lsuv import lsuv

    start = initialize_parameters([2, 10, 5, 1], "orthogonal", np.random.RandomState(3))
    scaled = {k: v * gain if k.startswith("W") else v for k, v in start.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params, passes = lsuv(scaled, circles.X_train, tol=0.1)
    A = circles.X_train
    for l in (1, 2, 3):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        assert abs(Z.var() - 1.0) < 0.1, (l, Z.var())
        A = np.empty_like(Z)
        activate(Z, A, RELU)
    assert all(p <= 2 for p in passes)


def test_lsuv_still_says_when_a_layer_is_dead(circles, caplog):
    from nninit.numerics.lsuv import lsuv

    params = initialize_parameters([2, 10, 5, 1], "orthogonal", np.random.RandomState(3))
    params["W2"][...] = 0.0
    _, passes = lsuv(params, circles.X_train)
    assert passes[1] == 0 and "layer 2's output has variance 0.0" in caplog.text


@pytest.mark.slow
def test_listing_into_a_closed_pipe_is_not_an_error(tmp_path):
    """``scripts/runs.py ... | head -1``: the reader stops early; no BrokenPipeError traceback."""
    import subprocess
    import sys

    from conftest import REPO

    folder = tmp_path / "runs"
    for k in range(40):  # enough lines to outlast the pipe's buffer after the reader has gone
        (folder / f"r{k}").mkdir(parents=True)
        (folder / f"r{k}" / "metrics.json").write_text('{"status": "completed", "config": {"seed": %d}}' % k)
    read, write = __import__("os").pipe()
    __import__("os").close(read)  # the reader is gone before anything is written
    runs = subprocess.run([sys.executable, str(REPO / "scripts" / "runs.py"), str(folder), "--format", "csv"],
                          stdout=write, stderr=subprocess.PIPE, timeout=60)
    __import__("os").close(write)
    stderr = runs.stderr.decode()
    assert runs.returncode == 0 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


# ------------------------------------------------------------ errors named for what they are

def _run_py(args, cwd, **env):
    """``python run.py ARGS`` with ``env`` added to this environment (run_cli sets MPLBACKEND=Agg)."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HYDRA_FULL_ERROR": "0", **env})


@pytest.mark.slow
def test_an_invalid_mplbackend_draws_with_agg_and_says_so_once(tmp_path):
    """MPLBACKEND=inline outside Jupyter stopped matplotlib's import: a sweep whose jobs all completed
    said 'no job completed' and wrote no summary.md. (An invented name: 'inline' is a valid backend
    where matplotlib-inline is installed.)"""
    bad = {"MPLBACKEND": "nninit_no_such_backend"}
    warning = "MPLBACKEND=nninit_no_such_backend is not a matplotlib backend; nninit draws its figures with Agg"
    run = _run_py(["train.num_iterations=10", f"hydra.run.dir={tmp_path / 'run'}"], tmp_path, **bad)
    assert run.returncode == 0, run.stderr
    drawn = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"cost.png", "decision_boundary.png", "signal_propagation.png"} <= drawn
    assert (run.stdout + run.stderr).count(warning) == 1
    sweep = _run_py(["-m", "seed=1,2", "train.num_iterations=10", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                    tmp_path, **bad)
    assert sweep.returncode == 0, sweep.stderr
    assert (tmp_path / "sweep" / "summary.md").is_file() and (tmp_path / "sweep" / "cost_curves.png").is_file()
    assert (sweep.stdout + sweep.stderr).count(warning) == 1


# any code point, and lone surrogates (undecodable command-line bytes); lengths up to 300 characters
NAMES = st.integers(0, 300).flatmap(lambda n: st.text(
    st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)), min_size=n, max_size=n))


@given(NAMES)
def test_a_folder_name_fits_in_255_bytes_of_valid_utf8(text):
    from nninit.app.hydra.naming import job_dirname, run_name

    for name in (job_dirname(text), run_name("he", text, text or None)):
        encoded = name.encode("utf-8")  # raises on a lone surrogate: not valid UTF-8
        assert 0 < len(encoded) <= 120 and "/" not in name
        # with the time before it and a _k after it, the folder's name stays within 255 bytes
        assert len(b"23-59-59_" + encoded + b"_99999") <= 255


def test_a_long_name_is_cut_on_a_character_boundary_and_keeps_its_hash():
    from nninit.app.hydra.naming import job_dirname

    cjk = "実" * 120  # 360 bytes: Errno 36 when the limit counted characters
    name = job_dirname(cjk)
    assert name.startswith("実" * 36) and re.fullmatch(r"実{36}\.\.[0-9a-f]{10}", name)
    assert job_dirname("実" * 119 + "x") != name  # the hash tells long names apart
    assert job_dirname("a" * 120) == "a" * 120
    assert job_dirname("a" * 121) == "a" * 108 + ".." + job_dirname("a" * 121)[-10:]


@pytest.mark.slow
def test_a_run_named_in_cjk_characters_gets_a_folder(tmp_path):
    proc = _run_py([f"name='{'実' * 120}'", "train.num_iterations=10", "plots.figures=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "outputs").glob("*/*")
    assert (run_dir / "metrics.json").is_file() and len(run_dir.name.encode()) <= 255
    assert json.loads((run_dir / "metrics.json").read_text())["name"] == "実" * 120  # the label is kept whole


def test_the_expected_duration_is_below_what_runs_take():
    from nninit.app.long_runs import LONG_RUN_S, expected_seconds

    # the notebook's run takes 0.55 s on an idle machine (README's benchmark): the estimate stays below
    assert expected_seconds([2, 10, 5, 1], 300, 15000) < 0.55
    assert expected_seconds([2, 10, 5, 1], 300, 10**11) > 20 * 86400  # its progress line said 195,036 minutes
    assert expected_seconds([2, 10, 5, 1], 300, 0) == 0
    # linear in the iterations, growing with the examples and the layers
    assert expected_seconds([2, 10, 5, 1], 300, 2000) == pytest.approx(2 * expected_seconds([2, 10, 5, 1], 300, 1000))
    assert expected_seconds([2, 10, 5, 1], 600, 10) > expected_seconds([2, 10, 5, 1], 300, 10)
    assert expected_seconds([2, 1000, 1000, 1], 300, 10**6) > LONG_RUN_S


@pytest.mark.parametrize("iterations, warned", [(15000, False), (10**11, True)])
def test_a_run_expected_to_take_hours_says_so_before_it_trains(iterations, warned, tmp_path, monkeypatch, caplog):
    """train.num_iterations=1e11 started without a word; its progress line then said 195,036 minutes left."""
    import logging

    from conftest import compose

    from nninit.app import experiment

    def stopped_at_once(*args, **kwargs):  # the long loop is not run: the warning must be there already
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "train", stopped_at_once)
    cfg = compose([f"train.num_iterations={iterations}"])
    with caplog.at_level(logging.WARNING, logger="nninit"), pytest.raises(KeyboardInterrupt):
        experiment.run(cfg, tmp_path / "run", figures=False)
    said = [r.getMessage() for r in caplog.records if "expected to take" in r.getMessage()]
    if warned:
        (message,) = said
        assert re.fullmatch(r"This run is expected to take at least [\d,]+ days \(train.num_iterations=100000000000, "
                            r"model.hidden_dims=\[10, 5\], data.n_train=300\); Ctrl-C stops it keeping what was "
                            r"recorded", message)
    else:
        assert said == []


@pytest.mark.parametrize("value", [1e11, 1.5, "100"])
def test_an_integer_key_given_a_float_is_refused_naming_it(value):
    """Hydra refuses train.num_iterations=1e11 on the command line (its schema says int); the Python API too."""
    from conftest import compose

    from nninit.app.config import ConfigError, validate

    cfg = compose()
    cfg["train"]["num_iterations"] = value
    rule = r"must be an integer from 0 to 9007199254740992$"  # 2**53: config.MAX_COUNT
    with pytest.raises(ConfigError, match=r"^train.num_iterations=.* is not accepted: " + rule):
        validate(cfg)
