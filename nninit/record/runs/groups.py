"""Grouping runs: the keys that vary, user names mapped to config keys, group labels, and repeats counted once."""

from __future__ import annotations

import json
import operator
from pathlib import Path

from nninit.record.runs.read import LABEL_KEYS, PLATFORM_KEYS, SHORT_NAMES, Run, is_seed_key, natural


def value_key(value) -> str:
    """The identity of a recorded value, as grouping, repeats and "varies" compare it: its JSON, except that a float
    equal to an integer is written as that integer.

    ``init.gain=2`` and ``init.gain=2.0`` (Hydra reads the first as an int) name one setting, as ``--where`` already
    says (:func:`~nninit.record.runs.conditions.matches` compares numbers by value), and ``0.0``/``-0.0`` one weight
    decay; ``true`` stays apart from ``1``, and a text from the number it spells (``"2"`` from ``2``).

    >>> value_key(2.0) == value_key(2), value_key(True) == value_key(1), value_key("2") == value_key(2)
    (True, False, False)
    """
    return json.dumps(_integral(value), default=str)


def _integral(value):
    """``value``, or the int a float equal to an integer is equal to."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def varying_keys(runs: list[Run]) -> list[str]:
    """Config keys whose value is not the same in every run (a missing key counts as None; two values are the same
    when their :func:`value_key` is: ``1`` and ``1.0`` are one value, ``1`` and ``true`` two).

    The configs are read as columns (``operator.itemgetter`` and ``zip``) and each column's distinct values counted
    in sets, so that 100,000 runs of a few dozen keys cost a fraction of a second."""
    configs = [r.config for r in runs]
    keys = sorted(set().union(*configs))
    if not keys:
        return []
    try:
        rows = map(operator.itemgetter(*keys), configs)
        columns = zip(*rows) if len(keys) > 1 else [list(rows)]
        columns = list(columns)
    except KeyError:  # a run lacks a key: the column holds None there
        columns = [[c.get(k) for c in configs] for k in keys]
    varying = [k for k, column in zip(keys, columns, strict=True) if _varies(column)]
    return sorted(varying, key=lambda k: (k != "init.name", k != "data.name", k))


def _varies(values) -> bool:
    """Whether the :func:`value_key` of ``values`` (a flattened config's: str, int, float, bool, None) is not all the
    same. A column of one type other than float is counted in a set (equal values are one value there); any other
    column by its values' keys."""
    kinds = set(map(type, values))
    if len(kinds) == 1 and float not in kinds:
        try:
            return len(set(values)) > 1
        except TypeError:  # an unhashable value (a Run made by hand with a list in its config)
            pass
    return len(set(map(value_key, values))) > 1


def default_group_keys(runs: list[Run]) -> list[str]:
    """Every key that varies across the runs, except the seeds."""
    return [k for k in varying_keys(runs) if not is_seed_key(k)]


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
    if any(is_seed_key(k) for k in keys):
        keys += [k for k in default_group_keys(runs) if k not in keys]
    return keys


def group_label(run: Run, keys: list[str]) -> str:
    """``'init=he, model.activation=tanh'``: the run's values of ``keys`` (None shown as null; a text that would
    read as another value, such as ``"null"`` or ``"0.01"``, in quotes, so that two groups never share a label)."""
    parts = [f"{SHORT_NAMES.get(k, k)}={shown_value(run.get(k))}" for k in keys]
    return ", ".join(parts) if parts else "all runs"


def shown_value(value) -> str:
    """A group key's value as a label shows it: None as null; a text as itself, unless it reads as null, a boolean
    or a number, or holds a character that does not print (a line break, a tab), when it is in JSON quotes (escaped:
    the label is one line); anything else as ``str`` gives it."""
    if value is None:
        return "null"
    if isinstance(value, str) and (value.strip().lower() in ("null", "none", "~", "", "true", "false")
                                   or value.startswith('"') or _is_number(value) or has_control(value)):
        return json.dumps(value)
    return str(value)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character that does not print (``str.isprintable``: a line break, a tab, a
    control character), which would break a table's row."""
    return not text.isprintable()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def label_keys(runs: list[Run], keys: list[str]) -> list[str]:
    """The grouping keys worth naming in labels.

    A key that only some init options have (``init.scale`` of ``random`` when sweeping
    ``init=he,random``) varies only by its presence, and ``init`` already tells those groups
    apart; such a key is left out of the labels when the labels stay distinct without it.
    """
    def distinct(shown: list[str]) -> bool:
        labels = {tuple(value_key(r.get(k)) for k in keys): group_label(r, shown) for r in runs}
        return len(set(labels.values())) == len(labels)

    shown = list(keys)
    for k in keys:
        present = {value_key(r.get(k)) for r in runs if r.get(k) is not None}
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
        groups.setdefault(tuple(value_key(run.get(k)) for k in keys), []).append(run)
    labelled = {group_label(members[0], shown): members for members in groups.values()}
    assert len(labelled) == len(groups), "group labels must be distinct"
    return labelled


def deduplicate(runs: list[Run], keys: list[str] | tuple[str, ...] = ()) -> tuple[list[Run], list[tuple[Path, Path]]]:
    """Count each measurement once: runs with the same config (seeds included; values compared as :func:`value_key`
    does) are repeats.

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
        config = {k: _integral(v) for k, v in run.config.items()}  # 2 and 2.0 one value, as value_key says
        return json.dumps([config, [_integral(run.get(k)) for k in keys]], sort_keys=True, default=str)

    newest: dict[str, Run] = {}
    for run in runs:
        if not run.config:
            continue
        key = identity(run)
        other = newest.get(key)
        if other is None or (str(run.metrics.get("finished_at") or ""), natural(run.path)) >= \
                (str(other.metrics.get("finished_at") or ""), natural(other.path)):
            newest[key] = run
    keep = {id(r) for r in newest.values()}
    kept = [r for r in runs if not r.config or id(r) in keep]
    dropped = [(r.path, newest[identity(r)].path)
               for r in runs if r.config and id(r) not in keep]
    return kept, dropped
