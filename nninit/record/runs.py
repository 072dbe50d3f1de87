"""Find and read finished run folders, and group them: the reader every comparison starts from.

Reads only run folders (``metrics.json``, ``history.csv``, ``data.npz``), so runs from different
days, sweeps and machines can be mixed. A run repeated with the same config and seeds is the same
measurement: :func:`deduplicate` keeps one.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nninit.record import runfolder

log = logging.getLogger(__name__)

SEED_KEYS = ("seed", "data.train_seed", "data.test_seed")
"""Config keys pooled over, never grouped by (unless asked for explicitly)."""
SHORT_NAMES = {"init.name": "init", "data.name": "data"}
LABEL_KEYS = ("name",)
"""Pseudo config keys: labels recorded in ``metrics.json`` beside the config (not part of what is
run), usable as group keys (``--group-by name``) and in :func:`where`; never grouped by unless asked."""
PLATFORM_KEYS = ("blas", "blas_library", "blas_version", "blas_kernel", "cpu")
"""The numerical platform a run recorded (``metrics.json``'s ``environment``, :mod:`nninit.record.blas`): usable in
:func:`where` (``blas_kernel=Haswell``) and as group keys (``--group-by blas_kernel``), never grouped by unless asked."""
WHERE_KEYS = ("status", "name", "tags", *PLATFORM_KEYS)
"""Keys :func:`where` accepts besides the config keys: ``tags`` matches a run that holds the tag."""
NUMBER_FIELDS = ("train_accuracy", "test_accuracy", "final_cost", "iterations_run", "wall_time_s", "diverged_at")
"""Fields of ``metrics.json`` that are a number or null; a run where one is anything else is malformed
and left out (:func:`find_runs`), never counted in ``n`` without its value."""
CHANCE_MARGIN = 0.01
"""A run is 'at chance' when its train accuracy is at most the majority-class rate plus this."""


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    """Nested dict -> ``{'a.b': value}``; lists become their JSON text (hashable, readable)."""
    flat: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list) else value
    return flat


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


@dataclass
class Run:
    """One finished run folder: its metrics and its flattened config."""

    path: Path
    metrics: dict
    config: dict = field(default_factory=dict)
    _history: dict | None = None
    _majority: dict = field(default_factory=dict)
    history_error: str | None = None
    """Why ``history.csv`` could not be read (missing or garbled), once :attr:`history` was asked for."""

    @property
    def seed(self) -> tuple:
        """What varies between repeats of one config: the weight seed and the data seeds
        (values of :data:`SEED_KEYS`). Runs of two groups with equal seeds pair."""
        return tuple(self.config.get(k) for k in SEED_KEYS)

    def get(self, key: str):
        """The run's value of a config key (``init.name``, ``train.learning_rate``), of a label
        key (:data:`LABEL_KEYS`: ``name``, recorded beside the config) or of its platform
        (:data:`PLATFORM_KEYS`); None when it has none."""
        if key in LABEL_KEYS and key not in self.config:
            return self.metrics.get(key)
        if key in PLATFORM_KEYS and key not in self.config:
            return (self.metrics.get("environment") or {}).get(key)
        return self.config.get(key)

    @property
    def completed(self) -> bool:
        return self.metrics.get("status") == "completed"

    @property
    def history(self) -> dict[str, np.ndarray]:
        """``history.csv`` as float columns; empty, with one warning, when it is missing or garbled
        (the numbers that come from it are then missing, never 0)."""
        if self._history is None:
            try:
                self._history = runfolder.read_history(self.path / runfolder.HISTORY)
            except FileNotFoundError:
                self._history = {}
                if self.metrics.get("status") in ("completed", "diverged"):
                    self.history_error = "missing"
                    log.warning("%s: history.csv is missing; its numbers are shown as missing", self.path)
            except (OSError, ValueError) as error:
                self._history = {}
                self.history_error = f"unreadable: {error}"
                log.warning("%s: history.csv cannot be read (%s); its numbers are shown as missing", self.path, error)
        return self._history

    def value(self, name: str) -> float | None:
        """A number for this run: a ``metrics.json`` key, or a ``history.csv`` column at its last
        row, or ``dead`` (mean over hidden layers of the final fraction of dead units)."""
        if name in self.metrics:
            v = self.metrics[name]
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        h = self.history
        if name == "dead":
            cols = [k for k in h if re.fullmatch(r"dead_\d+", k)]
            return float(np.mean([h[k][-1] for k in cols])) if cols else None
        if name in h and len(h[name]):
            return float(h[name][-1])
        return None

    def symmetric(self) -> bool | None:
        """True when every hidden layer of more than one unit has a single distinct unit at the
        last recorded row (the symmetry was never broken); None without diagnostics or such layers."""
        dims = self.metrics.get("layers_dims") or []
        cols = [f"distinct_{l}" for l in range(1, len(dims) - 1) if dims[l] > 1 and f"distinct_{l}" in self.history]
        return all(self.history[k][-1] == 1 for k in cols) if cols else None

    def majority(self, split: str = "train") -> float:
        """The accuracy of always predicting the majority class of ``split`` (``train`` or
        ``test``), from ``data.npz``; 0.5 when the file is missing or unreadable."""
        if split not in self._majority:
            try:
                Y = runfolder.load_arrays(self.path / runfolder.DATA)[f"Y_{split}"]
                self._majority[split] = float(max(Y.mean(), 1 - Y.mean()))
            except (OSError, KeyError, ValueError):
                self._majority[split] = 0.5
        return self._majority[split]

    def at_chance(self) -> bool | None:
        """True when the train accuracy is at most the majority-class rate plus :data:`CHANCE_MARGIN`."""
        acc = self.value("train_accuracy")
        return None if acc is None else acc <= self.majority("train") + CHANCE_MARGIN

    def test_size(self) -> int | None:
        """How many test examples the test accuracy was measured on (``data.n_test``)."""
        n = self.config.get("data.n_test")
        return int(n) if isinstance(n, int) and n > 0 else None


def find_runs(paths: list[str | Path]) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Every run folder under ``paths`` (searched recursively).

    A run folder holds ``metrics.json`` or Hydra's ``.hydra/``. Folders whose ``metrics.json`` is
    missing or unreadable (a killed run) or malformed (:func:`malformed`: no ``config``, a number
    field that is not a number) are returned in ``skipped`` with the reason, which names the field.

    Returns
    -------
    runs : list of Run
        In natural order of their paths (job 2 before job 10).
    skipped : list of (Path, str)

    Raises
    ------
    FileNotFoundError
        When a path does not exist.
    """
    candidates: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
        if p.is_file():
            p = p.parent
        if (p / runfolder.METRICS).is_file() or (p / ".hydra").is_dir():
            candidates.add(p.resolve())
        candidates.update(m.parent.resolve() for m in p.rglob(runfolder.METRICS))
        candidates.update(h.parent.resolve() for h in p.rglob(".hydra") if h.is_dir())
    runs, skipped = [], []
    for path in sorted(candidates, key=_natural):
        try:
            metrics = runfolder.read_json(path / runfolder.METRICS)
            if "status" not in metrics:
                raise ValueError("no 'status' key")
        except FileNotFoundError:
            skipped.append((path, "metrics.json is missing (a killed or still running job?)"))
            continue
        except (OSError, ValueError) as error:
            skipped.append((path, f"metrics.json is unreadable ({error})"))
            continue
        problem = malformed(metrics)
        if problem:
            skipped.append((path, f"metrics.json is malformed: {problem}; the run is left out"))
            continue
        runs.append(Run(path, metrics, flatten(metrics["config"])))
    return runs, skipped


def malformed(metrics: dict) -> str | None:
    """What makes a run record unusable, naming the field: no ``config`` (a group ``init=null`` would be
    made of it), or a field of :data:`NUMBER_FIELDS` that is neither a number nor null (its value would
    be missing from the mean while ``n`` counted the run). None for a usable record."""
    if not isinstance(metrics.get("config"), dict) or not metrics["config"]:
        return f"the field `config` is {json.dumps(metrics.get('config'))}, not the run's settings"
    for key in NUMBER_FIELDS:
        value = metrics.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"the field `{key}` is {json.dumps(value)}, not a number"
    return None


def varying_keys(runs: list[Run]) -> list[str]:
    """Config keys whose value is not the same in every run (a missing key counts as None)."""
    keys = sorted({k for r in runs for k in r.config})
    varying = [k for k in keys if len({json.dumps(r.config.get(k)) for r in runs}) > 1]
    return sorted(varying, key=lambda k: (k != "init.name", k != "data.name", k))


def default_group_keys(runs: list[Run]) -> list[str]:
    """Every key that varies across the runs, except the seeds."""
    return [k for k in varying_keys(runs) if k not in SEED_KEYS]


def resolve_group_keys(names: list[str], runs: list[Run]) -> list[str]:
    """Map user names to config keys: ``init`` -> ``init.name``; unknown names raise ValueError.

    Grouping by a seed (``--group-by seed``) groups by that seed *within* each config: every other key
    that varies across the runs (:func:`default_group_keys`) is added after the names given, so that
    a group never pools runs of different configs (``seed=1, init=he`` and ``seed=1, init=zeros``).
    """
    known = {k for r in runs for k in r.config} | set(LABEL_KEYS) | set(PLATFORM_KEYS)
    keys = []
    for name in names:
        key = {v: k for k, v in SHORT_NAMES.items()}.get(name, name)
        if key not in known:
            raise ValueError(f"--group-by {name!r}: no such config key in these runs; "
                             f"known keys: {', '.join(sorted(known))}")
        keys.append(key)
    if any(k in SEED_KEYS for k in keys):
        keys += [k for k in default_group_keys(runs) if k not in keys]
    return keys


def parse_condition(condition: str) -> tuple[str, str]:
    """``'init=he'`` -> ``('init.name', 'he')``: a ``--where`` condition split at its first ``=``
    (``init`` and ``data`` are short for ``init.name`` and ``data.name``).

    Raises
    ------
    ValueError
        When the condition is not ``KEY=VALUE`` with a key; the message names it.
    """
    key, sep, value = str(condition).partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"--where {condition!r}: expected KEY=VALUE, e.g. init=he, train.learning_rate=0.01, "
                         f"status=completed, name=baseline or tags=baseline")
    return {v: k for k, v in SHORT_NAMES.items()}.get(key, key), value.strip()


def matches(actual: object, text: str) -> bool:
    """True when the recorded value ``actual`` is the value ``text`` names: numbers by value
    (``1e6`` matches 1000000.0), ``true``/``false`` booleans, ``null`` (or nothing) None,
    ``[10,5]`` a list (flattened lists are JSON text), anything else as the same text."""
    text = text.strip()
    if actual is None:
        return text.lower() in ("null", "none", "~", "")
    if isinstance(actual, bool):
        return text.lower() == str(actual).lower()
    if isinstance(actual, (int, float)):
        try:
            return float(text) == float(actual)
        except ValueError:
            return False
    actual = str(actual)
    if actual == text:
        return True
    if actual.startswith("["):
        import yaml

        try:
            return json.loads(actual) == yaml.safe_load(text)
        except (ValueError, yaml.YAMLError):
            return False
    return False


def where(runs: list[Run], conditions: list[str] | None) -> list[Run]:
    """The runs that meet every condition (``KEY=VALUE``; all must hold), in their order.

    Parameters
    ----------
    runs : list of Run
    conditions : list of str, optional
        ``KEY=VALUE`` each. KEY is a config key (``init`` or ``init.name``, ``train.learning_rate``,
        ``model.hidden_dims``, ``seed``), ``status``, ``name``, or ``tags`` (the run holds the tag
        VALUE). A run without the key (``init.scale`` of a ``he`` run) does not match. Values are
        compared as :func:`matches` says. None or empty: every run.

    Returns
    -------
    list of Run

    Raises
    ------
    ValueError
        For a condition that is not ``KEY=VALUE``, or a key no run has (the message names the
        condition and the keys accepted).
    """
    parsed = [(condition, *parse_condition(condition)) for condition in conditions or []]
    known = {k for r in runs for k in r.config}
    for condition, key, _ in parsed:
        if runs and key not in known and key not in WHERE_KEYS:
            raise ValueError(f"--where {condition!r}: no run has the key {key!r}; accepted: "
                             f"{', '.join(WHERE_KEYS)} and the config keys {', '.join(sorted(known))}")

    def holds(run: Run, key: str, value: str) -> bool:
        if key == "tags":
            return value in [str(t) for t in run.metrics.get("tags") or []]
        if key == "status":
            return run.metrics.get("status") == value
        if key not in run.config and key not in LABEL_KEYS and key not in PLATFORM_KEYS:
            return False
        return matches(run.get(key), value)

    return [r for r in runs if all(holds(r, key, value) for _, key, value in parsed)]


def group_label(run: Run, keys: list[str]) -> str:
    """``'init=he, model.activation=tanh'``: the run's values of ``keys`` (None shown as null)."""
    parts = [f"{SHORT_NAMES.get(k, k)}={'null' if run.get(k) is None else run.get(k)}" for k in keys]
    return ", ".join(parts) if parts else "all runs"


def label_keys(runs: list[Run], keys: list[str]) -> list[str]:
    """The grouping keys worth naming in labels.

    A key that only some init options have (``init.scale`` of ``random`` when sweeping
    ``init=he,random``) varies only by its presence, and ``init`` already tells those groups
    apart; such a key is left out of the labels when the labels stay distinct without it.
    """
    def distinct(shown: list[str]) -> bool:
        labels = {tuple(json.dumps(r.get(k)) for k in keys): group_label(r, shown) for r in runs}
        return len(set(labels.values())) == len(labels)

    shown = list(keys)
    for k in keys:
        present = {json.dumps(r.get(k)) for r in runs if r.get(k) is not None}
        trial = [s for s in shown if s != k]
        if len(present) <= 1 and trial and distinct(trial):
            shown = trial
    return shown


def group_runs(runs: list[Run], keys: list[str]) -> dict[str, list[Run]]:
    """Runs by group (their values of ``keys``), labelled by :func:`label_keys`, in order of
    first appearance. Every group keeps its own entry: labels are distinct by construction."""
    shown = label_keys(runs, keys)
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(tuple(json.dumps(run.get(k)) for k in keys), []).append(run)
    labelled = {group_label(members[0], shown): members for members in groups.values()}
    assert len(labelled) == len(groups), "group labels must be distinct"
    return labelled


def deduplicate(runs: list[Run], keys: list[str] | tuple[str, ...] = ()) -> tuple[list[Run], list[tuple[Path, Path]]]:
    """Count each measurement once: runs with the same config (seeds included) are repeats.

    The most recent one (``finished_at``, then the later path) is kept, whatever its status.
    Runs without a recorded config are never merged. ``keys`` (e.g. ``blas_kernel``, when a comparison
    groups by it) tell runs apart too: the same config run under two BLAS kernels is then two measurements.

    Returns
    -------
    kept : list of Run
        In the input order.
    dropped : list of (Path, Path)
        Each dropped run's folder and the folder kept in its place.
    """
    def identity(run: Run) -> str:
        return json.dumps([run.config, [run.get(k) for k in keys]], sort_keys=True, default=str)

    newest: dict[str, Run] = {}
    for run in runs:
        if not run.config:
            continue
        key = identity(run)
        other = newest.get(key)
        if other is None or (str(run.metrics.get("finished_at") or ""), _natural(run.path)) >= \
                (str(other.metrics.get("finished_at") or ""), _natural(other.path)):
            newest[key] = run
    keep = {id(r) for r in newest.values()}
    kept = [r for r in runs if not r.config or id(r) in keep]
    dropped = [(r.path, newest[identity(r)].path)
               for r in runs if r.config and id(r) not in keep]
    return kept, dropped
