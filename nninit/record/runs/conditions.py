"""``--where`` conditions: ``KEY=VALUE`` parsed, a recorded value matched, the runs that meet every condition."""

from __future__ import annotations

import json
import math

from nninit.record.runs.read import LABEL_KEYS, PLATFORM_KEYS, SHORT_NAMES, Run, load_metrics

WHERE_KEYS = ("status", "name", "tags", *PLATFORM_KEYS)
"""Keys :func:`where` accepts besides the config keys: ``tags`` matches a run that holds the tag."""


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
        return text.lower() in NULL_WORDS
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


NULL_WORDS = ("null", "none", "~", "")
"""Texts that name None (:func:`matches`)."""
PREFILTER_TOLERANCE = 1e-6
"""The relative width of a number's window in :func:`superset_sql` (wide beside any float rounding: exactness is
:func:`matches`'s job)."""


def superset_sql(conditions: list[str] | None) -> tuple[str, list] | None:
    """An SQL condition on an index row's ``config`` (its flattened config as ``json.dumps`` wrote it,
    :mod:`~nninit.record.runs.index`) that holds for every run that meets all ``conditions`` (:func:`where`), and
    for fewer others: the run index reads only the runs it lets through
    (:func:`~nninit.record.runs.find.find_where`), and :func:`where` still decides each one by :func:`matches`.

    For a config key, what :func:`matches` can accept, each a necessary sign in the config's text:

    - a string equal to the text: the text ``"key": "text"`` (as ``json.dumps`` writes it) is in the config;
    - ``true``/``false`` for a boolean: ``"key": true`` or ``"key": false`` is in it;
    - a number, when the text is a finite number: the key's value (SQLite's ``json_extract``) lies within
      :data:`PREFILTER_TOLERANCE` of it (a config that is not strict JSON, such as Python's ``NaN``, is let
      through).

    A condition whose text may name a list (YAML reads it as one), None or an infinite number, or on ``status``,
    ``name``, ``tags`` or the platform, narrows nothing.

    Parameters
    ----------
    conditions : list of str, optional
        ``KEY=VALUE`` each (:func:`parse_condition`).

    Returns
    -------
    (str, list) or None
        The SQL expression and its parameters, or None when no condition narrows.
    """
    import yaml

    clauses, params = [], []
    for condition in conditions or []:
        key, text = parse_condition(condition)
        if key in WHERE_KEYS or key in LABEL_KEYS or text.lower() in NULL_WORDS:
            continue
        try:
            if isinstance(yaml.safe_load(text), list):
                continue
        except yaml.YAMLError:
            pass
        name = json.dumps(key)
        kinds, args = ["instr(config, ?) > 0"], [f"{name}: {json.dumps(text)}"]
        if text.lower() in ("true", "false"):
            kinds += ["instr(config, ?) > 0", "instr(config, ?) > 0"]
            args += [f"{name}: true", f"{name}: false"]
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None:
            if not math.isfinite(number) or '"' in key or "\\" in key:  # no window, or no JSON path to the key
                continue
            kinds.append("(CASE WHEN json_valid(config) THEN abs(json_extract(config, ?) - ?) <= ? ELSE 1 END)")
            args += ["$." + name, number, PREFILTER_TOLERANCE * max(1.0, abs(number))]
        clauses.append("(" + " OR ".join(kinds) + ")")
        params += args
    if not clauses:
        return None
    return " AND ".join(clauses), params


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
    if any(key in PLATFORM_KEYS and key not in known for _, key, _ in parsed):
        load_metrics(runs)  # the platform is read from every run's whole record

    def holds(run: Run, key: str, value: str) -> bool:
        if key == "tags":
            return value in [str(t) for t in run.recorded("tags") or []]
        if key == "status":
            return run.recorded("status") == value
        if key not in run.config and key not in LABEL_KEYS and key not in PLATFORM_KEYS:
            return False
        return matches(run.get(key), value)

    return [r for r in runs if all(holds(r, key, value) for _, key, value in parsed)]
