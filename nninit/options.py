"""How an option's keys are declared and checked: the bottom of the package (imports nothing of nninit).

An option (an init scheme, a data set, the ``model`` or ``train`` node) declares each of its keys
once, as a :class:`Key`: its name, its rule and a one-line help. A rule is a small checker, called
with the key's full name and its value, that raises :class:`ConfigError` naming the key, the value
and what is accepted (``must be <rule.accepts>``); ``rule.accepts`` alone is what ``--help`` shows. :func:`check_node`
checks a config node against its keys: unknown keys first, then each key's rule.

Example
-------
>>> keys = (Key("tol", in_open_interval(0, 1), "stop when |Var(z) - 1| < tol"),)
>>> try:
...     check_node("init", {"tol": 2.0}, keys)
... except ConfigError as error:
...     print(error)
init.tol=2.0 is not accepted: must be a number in (0, 1)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_SEED = 2**32 - 1
"""The largest seed of numpy's ``RandomState`` (and scikit-learn's ``random_state``)."""


class ConfigError(ValueError):
    """A configuration value outside what is accepted; the message names key, value and rule."""

    def __init__(self, key: str, value: Any, accepted: str):
        super().__init__(f"{key}={value!r} is not accepted: {accepted}")
        self.key, self.value, self.accepted = key, value, accepted


def is_int(value: Any) -> bool:
    """True for an integer (Python's or numpy's) that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for a finite real number (Python's or numpy's) that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Rule:
    """A checker: ``rule(key, value)`` returns when ``ok(value)``, else raises :class:`ConfigError`
    with the message ``must be <accepts>[ <note>]`` (``accepts`` alone is the help's)."""

    ok: Callable[[Any], bool]
    accepts: str
    note: str = ""

    def __call__(self, key: str, value: Any) -> None:
        if not self.ok(value):
            raise ConfigError(key, value, f"must be {self.accepts}" + (f" {self.note}" if self.note else ""))


def integer(low: int, high: int | None = None) -> Rule:
    """An integer >= ``low`` (and <= ``high``)."""
    if high is None:
        return Rule(lambda v: is_int(v) and v >= low, f"an integer >= {low}")
    return Rule(lambda v: is_int(v) and low <= v <= high, f"an integer from {low} to {high}")


def positive(*, allow_zero: bool = False) -> Rule:
    """A finite number > 0 (>= 0 with ``allow_zero``)."""
    if allow_zero:
        return Rule(lambda v: is_number(v) and v >= 0, "a finite number >= 0")
    return Rule(lambda v: is_number(v) and v > 0, "a finite number > 0")


def in_open_interval(low: float, high: float) -> Rule:
    """A number in ``(low, high)``."""
    return Rule(lambda v: is_number(v) and low < v < high, f"a number in ({low}, {high})")


def in_half_open_interval(low: float, high: float) -> Rule:
    """A number in ``[low, high)``."""
    return Rule(lambda v: is_number(v) and low <= v < high, f"a number in [{low}, {high})")


def choice(accepted: Sequence[str], note: str = "") -> Rule:
    """One of ``accepted`` (compared exactly: ``Normal`` is not ``normal``); ``note`` follows the list."""
    accepted = tuple(accepted)
    return Rule(lambda v: v in accepted, f"one of {', '.join(accepted)}", note)


def boolean() -> Rule:
    """``true`` or ``false`` (not 0, 1 or a word)."""
    return Rule(lambda v: isinstance(v, bool), "true or false")


def null_or(rule: Rule, accepts: str) -> Rule:
    """Null (None), or what ``rule`` accepts; ``accepts`` says both in words."""
    return Rule(lambda v: v is None or rule.ok(v), accepts)


def list_of(rule: Rule, accepts: str) -> Rule:
    """A list (or tuple) whose every item ``rule`` accepts."""
    return Rule(lambda v: isinstance(v, (list, tuple)) and all(rule.ok(item) for item in v), accepts)


@dataclass(frozen=True)
class Key:
    """One key of an option: its ``name`` (without the node's prefix), its ``rule`` and a one-line ``help``."""

    name: str
    rule: Rule
    help: str

    def describe(self) -> str:
        """``name: help; accepted``, one line for ``--help``."""
        return f"{self.name}: {self.help}; {self.rule.accepts}"


def known_keys(prefix: str, node: dict, keys: Sequence[str], owner: str = "") -> None:
    """Refuse a key of ``node`` that is not in ``keys``.

    Raises
    ------
    ConfigError
        Naming ``<prefix><key>``, its value, and the keys ``owner`` has.
    """
    for key in node:
        if key not in keys:
            owner = owner or prefix.rstrip(".") or "the config"
            raise ConfigError(f"{prefix}{key}", node[key], f"{owner} has no such key; its keys: {', '.join(keys)}")


def check_node(prefix: str, node: dict, keys: Sequence[Key], owner: str = "", extra: Sequence[str] = ()) -> None:
    """Check a config node: every key is one of ``keys`` (or ``extra``, such as ``name``), and every
    value given passes its key's rule (in the order declared).

    Parameters
    ----------
    prefix : str
        The node's name, e.g. ``'init'``: messages name ``init.<key>``.
    node : dict
        The node as plain containers.
    keys : sequence of Key
    owner : str, default=''
        Who has these keys, for the unknown-key message (default: the prefix), e.g. ``'init=he'``.
    extra : sequence of str, default=()
        Keys accepted without a rule (checked elsewhere), listed first.

    Raises
    ------
    ConfigError
        For the first unknown key or value outside its rule.
    """
    known_keys(f"{prefix}.", node, (*extra, *(k.name for k in keys)), owner)
    for key in keys:
        if key.name in node:
            key.rule(f"{prefix}.{key.name}", node[key.name])
