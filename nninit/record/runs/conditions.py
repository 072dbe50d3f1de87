"""``--where`` conditions: ``KEY=VALUE`` parsed, a recorded value matched, the runs that meet every condition."""

from __future__ import annotations

import json

from nninit.record.runs.read import LABEL_KEYS, PLATFORM_KEYS, SHORT_NAMES, Run

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
