"""The run index (scripts/runs.py), the --where filter of nninit.record.runs, and compare.py's --where and
--group-by name, on tiny run folders written in-process under tmp_path."""

import csv
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, compose

from nninit.app.config import ConfigError
from nninit.app.experiment import run
from nninit.app.report import write_summary
from nninit.record.runs import find_runs, group_runs, resolve_group_keys, where

# folder: (overrides, name, tags)
RUNS = {
    "a": (["init=zeros", "seed=1"], "base", ["baseline"]),
    "b": (["init=he", "seed=1"], "base", ["baseline", "best"]),
    "c": (["init=he", "seed=2", "train.learning_rate=0.05"], "fast", []),
    "d": (["init=he", "seed=3", "train.learning_rate=1e6"], None, []),  # diverges
    "e": (["init=he", "seed=4", "model.hidden_dims=[4]"], "narrow", ["t"]),
}


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runs_script = _load_script("runs")
compare_script = _load_script("compare")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """Five tiny runs (one diverged), one failed run, and a folder of a killed run (no metrics.json)."""
    root = tmp_path_factory.mktemp("index")
    for folder, (overrides, name, tags) in RUNS.items():
        cfg = compose([*overrides, "train.num_iterations=20", "train.print_every=10"])
        run(cfg, root / "day" / folder, overrides=overrides, labels={"name": name, "tags": tags}, figures=False)
    with pytest.raises(ConfigError):
        run(compose(["init=xavier", "train.learning_rate=-1"]), root / "day" / "f",
            overrides=["init=xavier", "train.learning_rate=-1"], figures=False)
    (root / "day" / "killed" / ".hydra").mkdir(parents=True)
    return root


def _names(runs) -> list[str]:
    return sorted(r.path.name for r in runs)


def _main(script, argv, capsys) -> tuple[int, str, str]:
    code = script.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------ where

@pytest.mark.parametrize("conditions, expected", [
    (None, "abcdef"),
    ([], "abcdef"),
    (["init=he"], "bcde"),
    (["init.name=he"], "bcde"),
    (["train.learning_rate=0.05"], "c"),
    (["train.learning_rate=5e-2"], "c"),
    (["train.learning_rate=1e6"], "d"),
    (["status=diverged"], "d"),
    (["status=failed"], "f"),
    (["status=completed", "init=he"], "bce"),
    (["name=base"], "ab"),
    (["name=null"], "df"),
    (["tags=baseline"], "ab"),
    (["tags=best"], "b"),
    (["tags=baseline", "init=he"], "b"),
    (["model.hidden_dims=[4]"], "e"),
    (["model.hidden_dims=[10,5]", "seed=1"], "ab"),  # as Hydra overrides spell it
    (["init.bias=null", "seed=2"], "c"),
    (["init.distribution=normal", "seed=1"], "b"),  # zeros has no init.distribution: no match
    (["init.distribution=null"], ""),  # ... not even with null
    (["init=lsuv"], ""),
])
def test_where_keeps_the_runs_that_meet_every_condition(index_dir, conditions, expected):
    runs, skipped = find_runs([index_dir])
    assert [p.name for p, _ in skipped] == ["killed"]
    assert "".join(_names(where(runs, conditions))) == expected


@pytest.mark.parametrize("condition, message", [
    ("init", "--where 'init': expected KEY=VALUE"),
    ("=he", "--where '=he': expected KEY=VALUE"),
    ("", "--where '': expected KEY=VALUE"),
    ("foo=1", "--where 'foo=1': no run has the key 'foo'; accepted: status, name, tags, blas, blas_library, "
              "blas_version, blas_kernel, cpu and the config keys"),
    ("learning_rate=0.01", "no run has the key 'learning_rate'"),
])
def test_a_bad_condition_is_a_clear_error(index_dir, condition, message):
    runs, _ = find_runs([index_dir])
    with pytest.raises(ValueError, match=message.replace("[", r"\[")) as error:
        where(runs, [condition])
    if "no run has" in message:
        assert "train.learning_rate" in str(error.value)  # the keys it accepts are named


# ------------------------------------------------------------------ compare: --where, --group-by name

def test_name_is_a_group_key_and_where_comes_before_grouping(index_dir, tmp_path):
    runs, _ = find_runs([index_dir])
    assert resolve_group_keys(["name"], runs) == ["name"]
    groups = group_runs(where(runs, ["status=completed"]), ["name"])
    assert {label: _names(members) for label, members in groups.items()} == {
        "name=base": ["a", "b"], "name=fast": ["c"], "name=narrow": ["e"]}
    table, _ = write_summary([index_dir], tmp_path, group_by=["name"], where=["status=completed"], plots=False)
    with open(tmp_path / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(Path(r["run_dir"]).name for r in rows) == ["a", "b", "c", "e"]
    assert {r["group"] for r in rows} == {"name=base", "name=fast", "name=narrow"}
    assert "| name=base |" in table and "`name` differs between groups: base, fast, narrow" in table


def test_compare_script_where_and_group_by_name(index_dir, tmp_path, capsys):
    code, out, err = _main(compare_script, [index_dir, "--out", tmp_path / "c", "--no-plots",
                                            "--where", "tags=baseline", "--group-by", "name"], capsys)
    assert code == 0, err
    with open(tmp_path / "c" / "runs.csv", newline="") as f:
        assert sorted(Path(r["run_dir"]).name for r in csv.DictReader(f)) == ["a", "b"]
    code, _, err = _main(compare_script, [index_dir, "--out", tmp_path / "d", "--where", "init"], capsys)
    assert code == 2 and "--where 'init': expected KEY=VALUE" in err
    code, _, err = _main(compare_script, [index_dir, "--out", tmp_path / "e", "--where", "init=lsuv"], capsys)
    assert code == 2 and "none of the 6 runs" in err and "init=lsuv" in err
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


# ------------------------------------------------------------------ scripts/runs.py

def test_table_lists_every_run_with_its_numbers(index_dir, capsys):
    code, out, err = _main(runs_script, [index_dir], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == list(runs_script.COLUMNS)
    assert len(lines) == 1 + 6 and "killed" in err and "metrics.json is missing" in err
    starts = [lines[0].index(c) for c in runs_script.COLUMNS]  # aligned: every column starts where its header does
    for line in lines[1:]:
        assert all(line[s - 1] == " " for s in starts[1:])
    by_folder = {line.split()[-1]: line for line in lines[1:]}
    b = json.loads((index_dir / "day" / "b" / "metrics.json").read_text())
    line = next(v for k, v in by_folder.items() if k.endswith("b"))
    assert f"{100 * b['train_accuracy']:.1f}%" in line and f"{b['final_cost']:.4g}" in line
    assert "init=he seed=1" in line and " base " in line and "completed" in line and " 20 " in line
    failed = next(v for k, v in by_folder.items() if k.endswith("f"))
    assert "failed" in failed and " - " in failed


def test_csv_holds_the_raw_values(index_dir, capsys):
    code, out, _ = _main(runs_script, [index_dir, "--format", "csv", "--sort", "folder"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [Path(r["folder"]).name for r in rows] == list("abcdef")
    for r in rows:
        m = json.loads((Path(r["folder"]) / "metrics.json").read_text())
        assert r["status"] == m["status"] and r["started"] == m["started_at"] and r["name"] == (m["name"] or "")
        for key in ("train_accuracy", "test_accuracy", "final_cost"):
            assert (float(r[key]) if r[key] else None) == m.get(key)
        assert r["iterations"] == str(m.get("iterations_run") or "")
        assert r["overrides"] == " ".join(m["overrides"])


def test_markdown_and_sorting(index_dir, capsys):
    code, out, _ = _main(runs_script, [index_dir, "--format", "md", "--sort", "test_accuracy"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[1] == "|---|---|---|---|---|---|---|---|---|" and len(lines) == 2 + 6
    accuracies = [line.split(" | ")[6] for line in lines[2:]]
    numbers = [float(a.rstrip("%")) for a in accuracies if a != "-"]
    assert numbers == sorted(numbers) and accuracies[-1] == "-"  # ascending, a missing value last
    _, out, _ = _main(runs_script, [index_dir, "--format", "csv", "--sort", "train.learning_rate", "--reverse",
                                       "--where", "status=completed"], capsys)
    rates = [json.loads((Path(r["folder"]) / "metrics.json").read_text())["config"]["train"]["learning_rate"]
             for r in csv.DictReader(io.StringIO(out))]
    assert rates == sorted(rates, reverse=True) and len(rates) == 4
    code, out, _ = _main(runs_script, [index_dir, "--format", "csv", "--sort", "name", "--where", "tags=baseline"],
                         capsys)
    assert [Path(r["folder"]).name for r in csv.DictReader(io.StringIO(out))] == ["a", "b"]


def test_default_path_is_outputs(index_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").symlink_to(index_dir / "day", target_is_directory=True)
    code, out, _ = _main(runs_script, ["--format", "csv", "--where", "init=zeros"], capsys)
    assert code == 0 and [r["name"] for r in csv.DictReader(io.StringIO(out))] == ["base"]


@pytest.mark.parametrize("argv, message", [
    (["{missing}"], "no such file or folder"),
    (["{empty}"], "no run folder with a readable metrics.json"),
    (["{runs}", "--where", "init"], "--where 'init': expected KEY=VALUE"),
    (["{missing}", "--where", "init"], "--where 'init': expected KEY=VALUE"),
    (["{runs}", "--where", "foo=1"], "no run has the key 'foo'"),
    (["{runs}", "--where", "init=lsuv"], "none of the 6 runs has init=lsuv"),
    (["{runs}", "--sort", "bogus"], "--sort 'bogus': not a column, config key or metrics.json value"),
])
def test_bad_arguments_or_no_run_exit_2(index_dir, tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "runs": index_dir}
    code, out, err = _main(runs_script, [a.format(**paths) for a in argv], capsys)
    assert code == 2 and message in err and out == ""


def test_a_bad_format_is_refused_by_argparse(index_dir, capsys):
    with pytest.raises(SystemExit) as exit_:
        runs_script.main([str(index_dir), "--format", "json"])
    assert exit_.value.code == 2 and "invalid choice: 'json'" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_line_lists_a_day_of_runs(index_dir):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "runs.py"), str(index_dir / "day"), "--where",
                           "status=completed"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 + 4 and "4 of 6 runs" in proc.stderr


# ------------------------------------------------------------------ left open: width, plurals, --baseline twice

def _long_run(index_dir, root):
    """A copy of run b whose overrides are an experiment's (40 of them, about 600 characters)."""
    import shutil

    shutil.copytree(index_dir / "day" / "b", root / "long")
    metrics = json.loads((root / "long" / "metrics.json").read_text())
    metrics["overrides"] = [f"hydra.sweeper.params.option_{k}=value_{k}" for k in range(40)]
    (root / "long" / "metrics.json").write_text(json.dumps(metrics))


def test_the_table_keeps_to_the_terminal_width(index_dir, tmp_path, monkeypatch, capsys):
    """Experiment runs padded every line to about 590 characters; the overrides are cut with '…' instead."""
    _long_run(index_dir, tmp_path)
    monkeypatch.chdir(tmp_path)  # the folder column: 'long'
    monkeypatch.setenv("COLUMNS", "150")
    code, out, err = _main(runs_script, [tmp_path], capsys)
    assert code == 0 and max(map(len, out.splitlines())) <= 150 and "hydra.sweeper.params.option_0=value_0 hy" in out
    assert err.strip() == "1 run"  # not "1 runs"
    assert out.splitlines()[1].rstrip().endswith("long") and "…" in out
    code, out, _ = _main(runs_script, [tmp_path, "--format", "csv"], capsys)
    assert "option_39=value_39" in out  # csv keeps every value whole


def test_one_run_is_one_run_in_the_summary(index_dir, tmp_path):
    write_summary([index_dir / "day" / "b"], tmp_path / "out", plots=False)
    assert "1 run in 1 group," in (tmp_path / "out" / "summary.md").read_text()


def test_a_repeated_baseline_is_refused(index_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        compare_script.main([str(index_dir), "--out", str(tmp_path / "c"), "--baseline", "init=he",
                             "--baseline", "init=zeros"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--baseline given twice (init=he, init=zeros): give one group" in err
    assert not (tmp_path / "c").exists()


def test_reverse_sorting_keeps_the_runs_without_a_value_last(index_dir, capsys):
    """--sort KEY --reverse: the largest first, the runs that lack KEY still last (as the help says)."""
    for reverse in ([], ["--reverse"]):
        code, out, _ = _main(runs_script, [index_dir, "--sort", "name", "--format", "csv", *reverse], capsys)
        names = [row["name"] for row in csv.DictReader(io.StringIO(out))]
        assert code == 0 and names[-2:] == ["", ""]  # d and f have no name
        assert names[:-2] == sorted(names[:-2], reverse=bool(reverse))


def test_the_api_lists_as_the_script_and_takes_one_condition_as_a_string(index_dir):
    import nninit

    listing = nninit.runs(index_dir, where="init=he", sort="test_accuracy", reverse=True)
    assert sorted(r.path.name for r in listing) == list("bcde")
    accuracies = [row["test_accuracy"] for row in listing.rows if row["test_accuracy"] is not None]
    assert accuracies == sorted(accuracies, reverse=True)
    assert len(nninit.runs(index_dir, where=["init=he", "seed=2"])) == 1
    assert list(nninit.runs(index_dir, where="init=lsuv")) == []  # none: an empty listing (the script exits 2)
