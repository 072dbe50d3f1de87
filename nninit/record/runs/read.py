"""One run folder read back: :class:`Run` (its metrics, flattened config, history, majority-class rate) and
the keys a run is described by."""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nninit.data import majority_rate
from nninit.record import runfolder

log = logging.getLogger("nninit.record.runs")
_DIGITS = re.compile(r"(\d+)")

SEED_KEYS = ("seed", "data.train_seed", "data.test_seed")
"""The seeds of the generated data sets and the weights, in this order (the columns of ``runs.csv``); every
key :func:`is_seed_key` accepts is pooled over the same way."""


@functools.lru_cache(maxsize=4096)  # asked for each key of each run: 100,000 runs have a few dozen distinct keys
def is_seed_key(key: str) -> bool:
    """True for a config key that only seeds randomness: ``seed`` (the weights), and every data or train key
    named ``*_seed`` (``data.train_seed``, a fixed data set's ``data.split_seed``, the minibatches'
    ``train.shuffle_seed``). Seeds are pooled over and pair runs, never grouped by (unless asked for explicitly)."""
    return key == "seed" or (key.startswith(("data.", "train.")) and key.endswith("_seed"))
SHORT_NAMES = {"init.name": "init", "data.name": "data"}
LABEL_KEYS = ("name",)
"""Pseudo config keys: labels recorded in ``metrics.json`` beside the config (not part of what is
run), usable as group keys (``--group-by name``) and in :func:`where`; never grouped by unless asked."""
PLATFORM_KEYS = ("blas", "blas_library", "blas_version", "blas_kernel", "cpu")
"""The numerical platform a run recorded (``metrics.json``'s ``environment``, :mod:`nninit.record.blas`): usable in
:func:`~nninit.record.runs.where` (``blas_kernel=Haswell``) and as group keys (``--group-by blas_kernel``),
never grouped by unless asked."""
NUMBER_FIELDS = ("train_accuracy", "test_accuracy", "final_cost", "iterations_run", "wall_time_s", "diverged_at")
"""Fields of ``metrics.json`` that are a number or null; a run where one is anything else is malformed
and left out (:func:`find_runs`), never counted in ``n`` without its value."""
BRIEF_FIELDS = ("status", "name", "tags", "overrides", "started_at", "finished_at", *NUMBER_FIELDS)
"""The fields of ``metrics.json`` a listing shows and ``--where`` reads: the run index keeps them apart
(:func:`brief`), so that a run read from it is listed without parsing its whole record."""
CHANCE_MARGIN = 0.01
"""A run is 'at chance' when its train accuracy is at most the majority-class rate plus this."""


def brief(metrics: dict) -> dict:
    """The fields of :data:`BRIEF_FIELDS` that ``metrics`` holds."""
    return {k: metrics[k] for k in BRIEF_FIELDS if k in metrics}


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


def interned(tree):
    """``tree`` (parsed JSON) with every dict key interned (:func:`sys.intern`): the runs of an index share one
    string per key instead of holding their own (100,000 runs' records parsed would hold millions of copies)."""
    if isinstance(tree, dict):
        return {sys.intern(k): interned(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [interned(v) for v in tree]
    return tree


def parse_many(texts: list[str], chunk: int = 4096) -> list:
    """``[json.loads(t) for t in texts]``, parsed ``chunk`` texts at a time as one JSON array: the decoder keeps one
    string per distinct key within a call, so the records of many runs share their keys (as :func:`interned` makes
    them) at a fifth of the cost.

    Parameters
    ----------
    texts : list of str
        Each a JSON document (as the index stores them).
    chunk : int, default=4096
        Texts per call: the joined text of a chunk is held once (a few MB).

    Returns
    -------
    list
        The parsed values, in the order of ``texts``.
    """
    out: list = []
    for start in range(0, len(texts), chunk):
        out += json.loads("[" + ",".join(texts[start:start + chunk]) + "]")
    return out


def natural(path: Path | str) -> list:
    """The sort key of ``path`` in natural order (``job2`` before ``job10``): its text split into runs of digits,
    which are compared as numbers."""
    parts = _DIGITS.split(str(path))
    parts[1::2] = map(int, parts[1::2])  # a split on a captured group puts the digit runs at the odd places
    return parts


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
    _curve: str | Callable[[tuple[str, ...] | None], str] | None = None
    """An indexed run's history (:mod:`~nninit.record.runs.index`): JSON of the thinned columns, parsed on demand
    (or a function that reads it, or only some of its columns, from the index:
    :class:`~nninit.record.runs.index.Curves`)."""
    _last: dict | str | None = None
    """An indexed run's last history row (column -> value; its JSON text until first asked for), so that its
    final numbers need no parsing of the curve."""
    _stored_error: str | None = None
    """An indexed run's :attr:`history_error`, reported (set and logged) when its history is first asked for."""

    @functools.cached_property
    def seed(self) -> tuple:
        """What varies between repeats of one config: the weight seed and the data seeds
        (values of :data:`SEED_KEYS`). Runs of two groups with equal seeds pair. Worked out once per run (a
        comparison asks for it once per metric)."""
        others = tuple(v for k, v in sorted(self.config.items()) if is_seed_key(k) and k not in SEED_KEYS)
        return tuple(self.config.get(k) for k in SEED_KEYS) + others

    def get(self, key: str):
        """The run's value of a config key (``init.name``, ``train.learning_rate``), of a label
        key (:data:`LABEL_KEYS`: ``name``, recorded beside the config) or of its platform
        (:data:`PLATFORM_KEYS`); None when it has none."""
        if key in LABEL_KEYS and key not in self.config:
            return self.recorded(key)
        if key in PLATFORM_KEYS and key not in self.config:
            return (self.metrics.get("environment") or {}).get(key)
        return self.config.get(key)

    @property
    def completed(self) -> bool:
        return self.metrics.get("status") == "completed"

    @property
    def history(self) -> dict[str, np.ndarray]:
        """``history.csv`` as float columns; empty, with one warning, when it is missing or garbled
        (the numbers that come from it are then missing, never 0). An indexed run's history is the index's
        bounded copy (at most ``CURVE_POINTS + 1`` rows: the first, a fixed grid, the last)."""
        if self._history is None:
            if self._curve is not None:
                self._report(self._stored_error)
                self._history = {k: np.array(v, dtype=float) for k, v in self._curve_columns().items()}
                return self._history
            try:
                self._history = runfolder.read_history(self.path / runfolder.HISTORY)
            except FileNotFoundError:
                self._history = {}
                self._report("missing" if self.metrics.get("status") in ("completed", "diverged") else None)
            except (OSError, ValueError) as error:
                self._history = {}
                self._report(f"unreadable: {error}")
        return self._history

    def columns(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Only the columns ``names`` of :attr:`history` (those it has; empty when it is empty). An indexed run
        whose history was not asked for before parses its stored curve and keeps none of it, so that a figure over
        many runs (the cost curves of 100,000) holds two columns of each at a time, not every column of every run."""
        if self._history is None and self._curve is not None:
            self._report(self._stored_error)
            curve = self._curve_columns(names)
            return {k: np.array(curve[k], dtype=float) for k in names if curve.get(k) is not None}
        history = self.history
        return {k: history[k] for k in names if k in history}

    def _curve_columns(self, names: tuple[str, ...] | None = None) -> dict[str, list[float] | None]:
        """The stored curve's columns (``names`` only, or more, when given: the index reads just those)."""
        return json.loads(self._curve(names) if callable(self._curve) else self._curve)

    def _report(self, error: str | None) -> None:
        """Set :attr:`history_error` and log it once (``missing``, or ``unreadable: why``)."""
        if error is None or self.history_error is not None:
            return
        self.history_error = error
        if error == "missing":
            log.warning("%s: history.csv is missing; its numbers are shown as missing", self.path)
        else:
            log.warning("%s: history.csv cannot be read (%s); its numbers are shown as missing", self.path,
                        error.removeprefix("unreadable: "))

    @property
    def last_row(self) -> dict[str, float]:
        """The last row of the history (column -> value); an indexed run's without parsing its curve."""
        if self._last is not None and self._history is None:
            self._report(self._stored_error)
            if isinstance(self._last, str):  # as the index holds it: parsed when first asked for
                self._last = interned(json.loads(self._last))
            return self._last
        return {k: float(v[-1]) for k, v in self.history.items() if len(v)}

    def recorded(self, key: str, default=None):
        """The run's ``metrics.json`` value of ``key`` (``status``, ``tags``, ``test_accuracy``, ...), or
        ``default``."""
        found, v = self._recorded(key)
        return v if found else default

    def _recorded(self, key: str) -> tuple[bool, object]:
        return key in self.metrics, self.metrics.get(key)

    def value(self, name: str) -> float | None:
        """A number for this run: a ``metrics.json`` key, or a ``history.csv`` column at its last
        row, or ``dead`` (mean over hidden layers of the final fraction of dead units)."""
        found, v = self._recorded(name)
        if found:
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        last = self.last_row
        if name == "dead":
            cols = _dead_columns(tuple(last))
            return float(np.mean([last[k] for k in cols])) if cols else None
        return last.get(name)

    def symmetric(self) -> bool | None:
        """True when every hidden layer of more than one unit has a single distinct unit at the
        last recorded row (the symmetry was never broken); None without diagnostics or such layers."""
        dims = self.metrics.get("layers_dims") or []
        last = self.last_row if any(d > 1 for d in dims[1:-1]) else {}
        cols = [f"distinct_{l}" for l in range(1, len(dims) - 1) if dims[l] > 1 and f"distinct_{l}" in last]
        return all(last[k] == 1 for k in cols) if cols else None

    def majority(self, split: str = "train") -> float:
        """The accuracy of always predicting the majority class of ``split`` (``train`` or
        ``test``; any number of classes: :func:`nninit.data.majority_rate`), from ``data.npz``; 0.5
        when the file is missing or unreadable."""
        if not self._majority:  # both splits from one read of data.npz (the summary asks for train, the figure test)
            try:
                with np.load(self.path / runfolder.DATA, allow_pickle=False) as npz:  # the labels only, not X
                    arrays = {k: npz[k] for k in ("Y_train", "Y_test") if k in npz.files}
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # EOFError: an empty or cut file
                arrays = {}
            for name in ("train", "test"):
                Y = arrays.get(f"Y_{name}")
                self._majority[name] = 0.5 if Y is None or not np.size(Y) else majority_rate(Y)
        return self._majority.get(split, 0.5)

    def at_chance(self) -> bool | None:
        """True when the train accuracy is at most the majority-class rate plus :data:`CHANCE_MARGIN`."""
        acc = self.value("train_accuracy")
        return None if acc is None else acc <= self.majority("train") + CHANCE_MARGIN

    def test_size(self) -> int | None:
        """How many test examples the test accuracy was measured on (``data.n_test``)."""
        n = self.config.get("data.n_test")
        return int(n) if isinstance(n, int) and n > 0 else None


class IndexedRun(Run):
    """A run read back from the run index (:mod:`~nninit.record.runs.index`): its ``metrics.json`` text is parsed
    when :attr:`metrics` is first asked for (:func:`load_metrics` parses many at once), the fields of
    :data:`BRIEF_FIELDS` are read from the index's brief copy until then (:meth:`recorded`, :meth:`value`), and
    its ``path`` is made when first asked for."""

    def __init__(self, path: str, metrics_text: str, config: dict, brief_text: str | None = None, **stored):
        super().__init__(None, {}, config, **stored)
        del self.__dict__["metrics"], self.__dict__["path"]
        self._path_text = path
        self._metrics_text = metrics_text
        self._brief: dict | str | None = brief_text

    def __getattr__(self, name: str):
        pending = self.__dict__
        if name == "metrics" and "_metrics_text" in pending:
            self.metrics = interned(json.loads(pending.pop("_metrics_text")))
            return self.metrics
        if name == "path" and "_path_text" in pending:
            self.path = Path(pending.pop("_path_text"))
            return self.path
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _recorded(self, key: str) -> tuple[bool, object]:
        if "_metrics_text" in self.__dict__ and key in BRIEF_FIELDS and self._brief is not None:
            if isinstance(self._brief, str):
                self._brief = json.loads(self._brief)
            return key in self._brief, self._brief.get(key)
        return super()._recorded(key)


@functools.lru_cache(maxsize=256)
def _dead_columns(columns: tuple[str, ...]) -> list[str]:
    """The columns of the fraction of dead units per layer (``dead_1``, ``dead_2``, ...) among ``columns`` (the runs
    of a study share a handful of column sets)."""
    return [k for k in columns if re.fullmatch(r"dead_\d+", k)]


def load_metrics(runs: list[Run]) -> None:
    """Parse the ``metrics.json`` text and the last history row of every run of ``runs`` read from the index and
    not parsed yet, many at a time (:func:`parse_many`): the same records as one at a time, in a fifth of the time.
    Callers that will read the metrics of many runs call it first; it changes no result."""
    pending = [r for r in runs if "_metrics_text" in r.__dict__]
    for run, metrics in zip(pending, parse_many([r.__dict__.pop("_metrics_text") for r in pending]), strict=True):
        run.metrics = metrics
    pending = [r for r in runs if isinstance(r._last, str) and r._history is None]
    for run, last in zip(pending, parse_many([r._last for r in pending]), strict=True):
        run._last = last
