"""The run index (nninit.record.runs.index): kept up to date from the folders (changed, added, removed runs),
rebuilt when damaged or of another schema, safe with several writers (real processes), bounded curves, kept in
memory where it cannot be written, and the same runs.py / compare.py output with and without it. Small synthetic
run folders written directly (no training)."""

import importlib.util
import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from nninit.app.report import write_summary
from nninit.record import runfolder
from nninit.record.runs import find, find_runs, find_where, where
from nninit.record.runs.conditions import matches, parse_condition, superset_sql
from nninit.record.runs.index import CURVE_POINTS, INDEX_NAME, SCHEMA_VERSION, thinned
from nninit.record.runs.listing import listed
from nninit.record.runs.read import BRIEF_FIELDS, NUMBER_FIELDS


def write_run(folder, *, init="he", seed=1, accuracy=0.9, rows=5, status="completed", hidden=3):
    """A run folder as the harness writes it, in miniature: metrics.json, history.csv, data.npz."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {"init": {"name": init}, "data": {"name": "circles", "n_test": 100, "train_seed": 1, "test_seed": 2},
              "model": {"hidden_dims": [hidden]}, "seed": seed}
    metrics = {"status": status, "name": None, "tags": [], "overrides": [f"init={init}", f"seed={seed}"],
               "config": config, "started_at": f"2026-12-01T10:00:{seed % 60:02d}+00:00", "layers_dims": [2, hidden, 1],
               "iterations_run": 10 * (rows - 1), "train_accuracy": accuracy, "test_accuracy": accuracy - 0.05,
               "final_cost": 1 - accuracy, "wall_time_s": 0.1 * seed, "finished_at": "2026-12-01T10:01:00+00:00"}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    it = np.arange(rows) * 10
    cost = np.linspace(0.7, 1 - accuracy, rows)
    lines = ["iteration,cost,dead_1,distinct_1"] + [f"{i},{float(c)!r},0.0,{hidden}"
                                                    for i, c in zip(it, cost, strict=True)]
    (folder / "history.csv").write_text("\n".join(lines) + "\n")
    np.savez(folder / "data.npz", Y_train=np.array([[1.0, 0.0, 1.0, 1.0]]), Y_test=np.array([[0.0, 1.0]]))


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "runs"
    for i, init in enumerate(["he", "zeros", "he", "zeros", "he", "zeros"]):
        write_run(root / f"job{i}", init=init, seed=i // 2 + 1, accuracy=0.9 - 0.1 * (init == "zeros") + 0.01 * i)
    return root


def _summary(runs):
    return [(r.path.name, r.metrics["test_accuracy"], r.value("final_cost"), r.value("dead"), r.majority("train"),
             r.symmetric(), r.seed) for r in runs]


def _counted(monkeypatch):
    calls = []
    real = find.read_folder
    monkeypatch.setattr(find, "read_folder", lambda path: calls.append(path.name) or real(path))
    return calls


def test_the_index_reads_only_what_changed_and_drops_what_vanished(tree, monkeypatch):
    plain = _summary(find_runs([tree])[0])
    calls = _counted(monkeypatch)
    assert _summary(find_runs([tree], index=True)[0]) == plain and len(calls) == 6  # built: every folder read
    calls.clear()
    assert _summary(find_runs([tree], index=True)[0]) == plain and calls == []  # nothing changed: none read
    write_run(tree / "job1", init="zeros", seed=1, accuracy=0.55, rows=7)  # changed (other size)
    write_run(tree / "new", init="he", seed=9)  # added
    import shutil
    shutil.rmtree(tree / "job4")  # removed
    runs = find_runs([tree], index=True)[0]
    assert sorted(calls) == ["job1", "new"]
    assert _summary(runs) == _summary(find_runs([tree])[0])
    assert {r.path.name: r.metrics["test_accuracy"] for r in runs}["job1"] == pytest.approx(0.5)
    with sqlite3.connect(tree / INDEX_NAME) as db:
        assert sorted(p for (p,) in db.execute("SELECT path FROM runs")) == sorted(
            ["job0", "job1", "job2", "job3", "job5", "new"])


def test_a_damaged_or_foreign_index_is_rebuilt_from_the_folders(tree, monkeypatch, caplog):
    expected = _summary(find_runs([tree])[0])
    find_runs([tree], index=True)
    good = (tree / INDEX_NAME).read_bytes()
    for damage in (b"not a database at all" * 50, good[: len(good) // 2], b"SQLite format 3\x00" + b"\xff" * 4000):
        (tree / INDEX_NAME).write_bytes(damage)
        for extra in ("-wal", "-shm"):
            (tree / (INDEX_NAME + extra)).unlink(missing_ok=True)
        assert _summary(find_runs([tree], index=True)[0]) == expected
    with sqlite3.connect(tree / INDEX_NAME) as db:  # another schema version: made anew, not trusted
        db.execute("UPDATE runs SET metrics = replace(metrics, '\"test_accuracy\": 0.85', '\"test_accuracy\": 0.0')")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    assert _summary(find_runs([tree], index=True)[0]) == expected


def test_an_index_that_cannot_be_written_is_kept_in_memory_with_a_note(tree, caplog):
    (tree / INDEX_NAME).mkdir()  # something in the way: the file cannot be made (as in a read-only root)
    with caplog.at_level(logging.WARNING, logger="nninit.record.runs"):
        runs, skipped = find_runs([tree], index=True)
    assert _summary(runs) == _summary(find_runs([tree])[0]) and not skipped
    assert "kept in memory" in caplog.text


def test_an_index_kept_in_memory_is_warned_of_once_when_nothing_matches(tree, caplog):
    """A condition that no run meets is checked a second time against every run (for the message): the warning
    that the index is kept in memory is given once, not once per reading."""
    (tree / INDEX_NAME).mkdir()
    with caplog.at_level(logging.WARNING, logger="nninit.record.runs"):
        selected, total, _ = find_where([tree], ["init=lsuv"], index=True)
    assert selected == [] and total == len(find_runs([tree])[0])
    assert [r.getMessage().count("kept in memory") for r in caplog.records] == [1]


def test_a_folder_without_runs_is_left_as_it_was(tmp_path, tree):
    """runs.py or compare.py given a folder that holds no usable run (a typo, the wrong day, only jobs stopped before
    they recorded) leaves no index file in it; a folder of runs keeps its index."""
    notes = tmp_path / "notes"
    (notes / "a").mkdir(parents=True)
    (notes / "a" / "x.txt").write_text("not a run")
    assert find_runs([notes], index=True) == ([], [])
    assert sorted(p.name for p in notes.iterdir()) == ["a"]
    (notes / "b" / ".hydra").mkdir(parents=True)  # a job stopped before it recorded anything: no usable run
    (notes / "c").mkdir()
    (notes / "c" / "metrics.json").write_text("{}")
    runs, skipped = find_runs([notes], index=True)
    assert runs == [] and len(skipped) == 2 and sorted(p.name for p in notes.iterdir()) == ["a", "b", "c"]
    find_runs([tree], index=True)
    assert (tree / INDEX_NAME).is_file()


def test_curves_are_kept_bounded_on_a_nested_grid(tmp_path):
    history = {"iteration": np.arange(1000.0) * 3, "cost": np.linspace(1, 0, 1000)}
    kept = thinned(history, points=256)
    assert len(kept["iteration"]) <= 257 and kept["iteration"][0] == 0 and kept["iteration"][-1] == 2997
    assert np.all(np.diff(kept["iteration"]) > 0)
    half = thinned({k: v[:500] for k, v in history.items()}, points=256)
    # over the iterations both recorded, the longer run's grid lies within the shorter one's (powers of two nest)
    assert {x for x in kept["iteration"] if x < 1500} <= set(half["iteration"])
    assert thinned({"cost": np.ones(256)})["cost"] == [1.0] * 256  # short histories whole
    write_run(tmp_path / "long" / "r", rows=3 * CURVE_POINTS)
    run = find_runs([tmp_path / "long"], index=True)[0][0]
    assert run.value("cost") == pytest.approx(0.1) and len(run.history["cost"]) <= CURVE_POINTS + 1


def test_data_npz_is_read_once_for_both_majority_rates(tree, monkeypatch):
    loads, real = [], np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(a[0]) or real(*a, **k))
    run = find_runs([tree / "job0"])[0][0]
    assert (run.majority("train"), run.majority("test")) == (0.75, 0.5) and len(loads) == 1


def _load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv", [["--format", "csv"], ["--where", "init=he", "--sort", "test_accuracy", "--reverse"]])
def test_runs_script_lists_the_same_with_and_without_the_index(tree, capsys, argv):
    runs = _load_script("runs")
    outputs = []
    for flag in (["--no-index"], [], []):  # without, then building it, then from it
        assert runs.main([str(tree), *argv, *flag]) == 0
        outputs.append(capsys.readouterr())
    assert outputs[0] == outputs[1] == outputs[2]


def test_compare_writes_the_same_tables_with_and_without_the_index(tree, tmp_path):
    tables = []
    for index in (False, True, True):
        out = tmp_path / f"cmp{len(tables)}"
        text, _ = write_summary([tree], out, plots=False, index=index)
        tables.append((text, *((out / n).read_text() for n in ("summary.csv", "comparisons.csv", "runs.csv"))))
    assert tables[0] == tables[1] == tables[2]


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_index import write_run
    from nninit.record.runs import find_runs
    root, me = Path(sys.argv[1]), int(sys.argv[2])
    for k in range(6):  # a job finishing, then looking at the tree, as an array of jobs does
        write_run(root / f"w{{me}}" / f"r{{k}}", seed=k + 1, init="he" if me % 2 else "zeros", accuracy=0.5 + 0.01 * k)
        find_runs([root], index=True)
""")


@pytest.mark.slow
def test_several_processes_writing_the_index_at_once(tmp_path):
    root = tmp_path / "array"
    root.mkdir()
    code = WRITER.format(tests=str(REPO / "tests"))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(root), str(i)], stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    assert not any("Traceback" in e or "in memory" in e for e in errors), errors
    indexed = find_runs([root], index=True)[0]
    assert len(indexed) == 24 and _summary(indexed) == _summary(find_runs([root])[0])
    with sqlite3.connect(root / INDEX_NAME) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 24
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_curves_are_read_from_the_index_when_asked_for(tree):
    """A run read through the index holds no curve until its history is asked for; then the stored curve is read
    (the same as without the index); a row rewritten meanwhile by another writer is not used: the folder is read."""
    find_runs([tree], index=True)  # builds the index
    runs, _ = find_runs([tree], index=True)
    assert all(callable(r._curve) for r in runs)
    plain, _ = find_runs([tree])
    for a, b in zip(runs, plain, strict=True):
        assert {k: v.tolist() for k, v in a.columns(("iteration", "cost")).items()} == \
            {k: b.history[k].tolist() for k in ("iteration", "cost")}
        assert a._history is None  # columns() keeps nothing
    with sqlite3.connect(tree / INDEX_NAME) as db:
        db.execute("UPDATE runs SET stamp = 'other', curve = '{\"cost\": [9.0]}'")
    assert runs[0].history["cost"].tolist() == plain[0].history["cost"].tolist()


def test_the_walk_lists_no_unchanged_run_folder_and_still_sees_every_change(tree, monkeypatch):
    """An indexed run folder whose own mtime and links are as indexed is stamped, not listed; a run made inside a
    run folder, a file rewritten in place (the folder's mtime unchanged) and a removed file are all still seen."""
    find_runs([tree], index=True)  # builds the index
    listed, real = [], os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": listed.append(os.path.basename(path)) or real(path))
    calls = _counted(monkeypatch)
    assert _summary(find_runs([tree], index=True)[0]) == _summary(find_runs([tree])[0])
    listed.clear(), calls.clear()
    find_runs([tree], index=True)
    assert listed == ["runs"] and calls == []  # only the root: the six run folders are stamped, not listed
    write_run(tree / "job0" / "inner", init="zeros", seed=7)  # a run inside a run folder
    history = tree / "job2" / "history.csv"
    text = history.read_text()
    with open(history, "r+") as f:  # rewritten in place, the same size: only the file's mtime says so
        f.write(text.replace("0.7", "0.6", 1))
    os.utime(history, ns=(history.stat().st_atime_ns, history.stat().st_mtime_ns + 10**9))
    (tree / "job3" / "data.npz").unlink()
    runs = find_runs([tree], index=True)[0]
    assert sorted(calls) == ["inner", "job0", "job2", "job3"]  # job0: a folder was made in it
    assert _summary(runs) == _summary(find_runs([tree])[0])
    assert {r.path.name: r.history["cost"][0] for r in runs}["job2"] == pytest.approx(0.6)


def test_find_where_narrows_in_sql_and_answers_as_where_does(tree, caplog):
    """Through the index, only the runs that may meet the conditions are read; the answer, the total and the
    errors are where()'s over every run, for conditions the SQL narrows and for those it cannot."""
    write_run(tree / "odd", init="orthogonal", seed=1)
    (tree / "odd" / "metrics.json").write_text((tree / "odd" / "metrics.json").read_text().replace(
        '"name": "orthogonal"', '"name": "orthogonal", "gain": 2.0'))
    everything = find_runs([tree])[0]
    cases = [["init=he"], ["init=zeros", "seed=2"], ["seed=2.0"], ["init.gain=2"], ["init.gain=2.0000001"],
             ["model.hidden_dims=[3]"], ["status=completed"], ["init=he", "init.gain=null"], ["init=nothing"],
             ["init.gain=1"]]
    for conditions in cases:
        expected = [r.path for r in where(everything, conditions)]
        find_runs([tree], index=True)
        selected, total, _ = find_where([tree], conditions, index=True)
        assert [r.path for r in selected] == expected and total == 7, conditions
    with pytest.raises(ValueError, match="no run has the key 'init.scale'"):
        find_where([tree], ["init.scale=1"], index=True)
    read = []
    real = find.parse_many
    find.parse_many = lambda texts: read.append(len(texts)) or real(texts)
    try:
        find_where([tree], ["init=orthogonal"], index=True)
    finally:
        find.parse_many = real
    assert read == [1]  # one config parsed: the others were ruled out in SQL


@given(actual=st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                        st.lists(st.integers(0, 9), max_size=3).map(json.dumps)),
       text=st.one_of(st.text(max_size=8), st.sampled_from(["true", "False", "null", "[1, 2]", "- 1", "1e3", "0.1",
                                                              "inf", " 2 ", "[]"]),
                      st.floats(allow_nan=False).map(repr), st.integers().map(str)),
       key=st.sampled_from(["init.name", "train.learning_rate", 'odd"key', "model.hidden_dims"]))
@example(actual="[1, 2]", text="[1,2]", key="model.hidden_dims")  # a list written otherwise than json.dumps does
@example(actual="[0]", text="- 0", key="model.hidden_dims")
@example(actual=1000000.0, text="1e6", key="train.learning_rate")
@example(actual=True, text="TRUE", key="init.name")
@example(actual=False, text="false", key="init.name")
@settings(max_examples=300, deadline=None, derandomize=True)
def test_the_sql_narrowing_never_rules_out_a_run_that_matches(actual, text, key):
    """superset_sql is a necessary condition of matches(): any recorded value the text matches passes it."""
    condition = f"{key}={text}"
    assume(parse_condition(condition)[0] == key)
    narrow = superset_sql([condition])
    if narrow is None or not matches(actual, parse_condition(condition)[1]):
        return
    config = json.dumps({key: actual}, separators=(", ", ": "))
    with sqlite3.connect(":memory:") as db:
        assert db.execute(f"SELECT coalesce(({narrow[0]}), 0) FROM (SELECT ? AS config)",
                          [*narrow[1], config]).fetchone()[0] == 1, (actual, text)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04cut short", b"\x93NUMPY"])
def test_a_cut_array_file_is_missing_data_not_a_crash(tree, content):
    """A data.npz caught half-written (a copy in progress) counts as missing: the majority rate falls back to 0.5
    with or without the index, and load_arrays names the file in a ValueError, which every figure catches."""
    (tree / "job0" / "data.npz").write_bytes(content)
    for index in (False, True):
        run = {r.path.name: r for r in find_runs([tree], index=index)[0]}["job0"]
        assert run.majority("train") == 0.5
    with pytest.raises(ValueError, match="data.npz is not a readable .npz file"):
        runfolder.load_arrays(tree / "job0" / "data.npz")


def test_a_listing_reads_the_brief_copy_and_parses_no_record(tree, capsys):
    """Through the index, the fields a listing shows are read from the index's brief copy (the same values as the
    folder's metrics.json), and listing the runs parses no whole record."""
    find_runs([tree], index=True)
    runs, plain = find_runs([tree], index=True)[0], find_runs([tree])[0]
    for a, b in zip(runs, plain, strict=True):
        assert [a.recorded(k) for k in BRIEF_FIELDS] == [b.metrics.get(k) for k in BRIEF_FIELDS]
        assert [a.value(k) for k in NUMBER_FIELDS] == [b.value(k) for k in NUMBER_FIELDS]
        assert "_metrics_text" in a.__dict__  # still unparsed
    total, selected = listed([tree], ["init=he", "status=completed"], "test_accuracy")
    assert total == 6 and len(selected) == 3 and all("_metrics_text" in r.__dict__ for r in selected)
    assert selected[0].metrics["test_accuracy"] == selected[0].recorded("test_accuracy")  # parsed when asked for


def test_an_edit_whose_time_was_put_back_is_still_seen(tree):
    """metrics.json edited in place at the same size, its modification time then put back (touch -d): the file's
    ctime, which no program sets back, still says it changed."""
    find_runs([tree], index=True)
    metrics = tree / "job0" / "metrics.json"
    before = metrics.stat()
    text = metrics.read_text()
    assert '"test_accuracy": 0.85' in text
    with open(metrics, "r+") as f:
        f.write(text.replace('"test_accuracy": 0.85', '"test_accuracy": 0.15'))
    os.utime(metrics, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert metrics.stat().st_mtime_ns == before.st_mtime_ns and metrics.stat().st_size == before.st_size
    job0 = {r.path.name: r for r in find_runs([tree], index=True)[0]}["job0"]
    assert job0.recorded("test_accuracy") == 0.15
