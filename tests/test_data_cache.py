"""The data sets' cache on disk (nninit.data.cache): the same bytes as drawing, a second run without
scikit-learn, and an entry that cannot be trusted drawn again (fast, but for the runs as processes)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, compose

from nninit.data import cache, make_dataset


@pytest.fixture
def data_cfg():
    return compose(["data=moons", "data.n_train=50", "data.train_seed=7"])["data"]


@pytest.fixture
def draws(monkeypatch):
    """The data sets the cache draws (make_dataset calls), counted."""
    calls = []

    def counted(data_cfg):
        calls.append(data_cfg)
        return make_dataset(data_cfg)

    monkeypatch.setattr(cache, "make_dataset", counted)
    return calls


def _same(got, expected):
    for key, value in vars(expected).items():
        array = getattr(got, key)
        assert array.dtype == value.dtype and array.shape == value.shape and array.tobytes() == value.tobytes()
        assert array.flags.writeable and array.flags.c_contiguous


def test_a_data_set_is_drawn_once_and_read_back_byte_for_byte(data_cfg, draws, tmp_path):
    expected = make_dataset(data_cfg)
    for _ in range(3):
        _same(cache.cached_dataset(data_cfg, tmp_path), expected)
    assert len(draws) == 1
    assert [p.name for p in (tmp_path / "datasets").iterdir()] == [cache.entry_path(data_cfg, tmp_path).name]
    cache.cached_dataset({**data_cfg, "train_seed": 8}, tmp_path)  # another config: another entry
    assert len(draws) == 2 and len(list((tmp_path / "datasets").iterdir())) == 2


def test_the_key_holds_the_config_and_scikit_learns_version(data_cfg, monkeypatch, tmp_path):
    from importlib import metadata

    path = cache.entry_path(data_cfg, tmp_path)
    assert cache.entry_path(dict(reversed(data_cfg.items())), tmp_path) == path  # key order does not matter
    assert metadata.version("scikit-learn") in cache.cache_key(data_cfg)
    monkeypatch.setattr(cache, "_drawer_version", lambda: "0.0.1")
    assert cache.entry_path(data_cfg, tmp_path) != path


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped byte", "other key", "empty"])
def test_an_entry_that_cannot_be_trusted_is_drawn_again(data_cfg, draws, tmp_path, damage):
    cache.cached_dataset(data_cfg, tmp_path)
    path = cache.entry_path(data_cfg, tmp_path)
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an npz file")
    elif damage == "flipped byte":  # inside an array's data, where zip's own check may not look
        with np.load(path) as entry:
            arrays = {k: entry[k] for k in entry.files}
        arrays["X_train"] = arrays["X_train"].copy()
        arrays["X_train"][0, 0] += 1.0
        np.savez(path, **arrays)
    elif damage == "other key":
        with np.load(path) as entry:
            arrays = {k: entry[k] for k in entry.files}
        np.savez(path, **{**arrays, "key": np.array("something else")})
    else:
        path.write_bytes(b"")
    _same(cache.cached_dataset(data_cfg, tmp_path), make_dataset(data_cfg))
    assert len(draws) == 2  # drawn again, and rewritten whole
    _same(cache.cached_dataset(data_cfg, tmp_path), make_dataset(data_cfg))
    assert len(draws) == 2


def test_a_folder_that_cannot_be_written_leaves_the_data_drawn(data_cfg, draws, tmp_path):
    blocked = tmp_path / "a_file"
    blocked.write_text("the cache folder cannot be made under a file")
    _same(cache.cached_dataset(data_cfg, blocked / "cache"), make_dataset(data_cfg))
    assert len(draws) == 1 and not list(tmp_path.glob("**/*.tmp"))


def test_the_folder_follows_nninit_cache_then_xdg_cache_home(tmp_path):
    home = os.path.expanduser("~")
    assert cache.cache_dir({"NNINIT_CACHE": str(tmp_path)}) == tmp_path
    assert cache.cache_dir({"NNINIT_CACHE": ""}) is None  # off: drawn every time
    assert cache.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "nninit"
    assert str(cache.cache_dir({})) == os.path.join(home, ".cache", "nninit")


def test_large_data_sets_are_drawn_not_kept(data_cfg, draws, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE_MAX_VALUES", 10)
    cache.cached_dataset(data_cfg, tmp_path)
    assert not (tmp_path / "datasets").exists() or not list((tmp_path / "datasets").iterdir())


SECOND_RUN = """
import sys
sys.path.insert(0, {tests!r})
from conftest import compose
from nninit.app.experiment import run
metrics = run(compose(["train.num_iterations=10"]), {folder!r}, figures={figures})
print(metrics["status"], "sklearn" in sys.modules, "matplotlib" in sys.modules)
"""


@pytest.mark.slow  # three processes: out of the fast subset
def test_a_second_run_imports_no_scikit_learn(tmp_path):
    """The data set of the first run is read from the cache by the second, which then imports no
    scikit-learn (the first run's process did); with figures drawn by a forked helper, the run's
    own process imports no matplotlib either."""
    env = {**os.environ, "NNINIT_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}

    def second_run(k, figures):
        script = SECOND_RUN.format(tests=str(REPO / "tests"), folder=str(tmp_path / f"run_{k}"), figures=figures)
        done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.split()[-3:]

    assert second_run(0, False) == ["completed", "True", "False"]  # drawn: scikit-learn imported
    assert second_run(1, False) == ["completed", "False", "False"]
    with np.load(tmp_path / "run_0" / "data.npz") as drawn, np.load(tmp_path / "run_1" / "data.npz") as read:
        assert all(drawn[k].tobytes() == read[k].tobytes() for k in ("X_train", "Y_train", "X_test", "Y_test"))
    from nninit.figures import helper_process

    if helper_process.cores() >= 2:
        assert second_run(2, True) == ["completed", "False", "False"]
        assert (tmp_path / "run_2" / "cost.png").is_file()
