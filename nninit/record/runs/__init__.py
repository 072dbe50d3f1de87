"""Find and read finished run folders, and group them: the reader every comparison starts from.

Reads only run folders (``metrics.json``, ``history.csv``, ``data.npz``), so runs from different
days, sweeps and machines can be mixed. A run repeated with the same config and seeds is the same
measurement: :func:`deduplicate` keeps one.

The reader by job: :mod:`~nninit.record.runs.read` (:class:`Run`, :func:`flatten`), :mod:`~nninit.record.runs.find`
(:func:`find_runs`, :func:`find_where`), :mod:`~nninit.record.runs.conditions` (:func:`where`),
:mod:`~nninit.record.runs.groups` (:func:`group_runs`, :func:`deduplicate`), :mod:`~nninit.record.runs.index` (the
SQLite index kept beside folders of runs, which ``find_runs(..., index=True)`` reads through); every public name is
importable from here.
"""

from nninit.record.runs.conditions import WHERE_KEYS, matches, parse_condition, where
from nninit.record.runs.find import find_runs, find_where, malformed
from nninit.record.runs.groups import (
    deduplicate,
    default_group_keys,
    group_label,
    group_runs,
    label_keys,
    resolve_group_keys,
    shown_value,
    value_key,
    varying_keys,
)
from nninit.record.runs.read import (
    CHANCE_MARGIN,
    LABEL_KEYS,
    NUMBER_FIELDS,
    PLATFORM_KEYS,
    SEED_KEYS,
    SHORT_NAMES,
    Run,
    flatten,
    is_seed_key,
    load_metrics,
)

__all__ = ["CHANCE_MARGIN", "LABEL_KEYS", "NUMBER_FIELDS", "PLATFORM_KEYS", "SEED_KEYS", "SHORT_NAMES", "WHERE_KEYS",
           "Run", "deduplicate", "default_group_keys", "find_runs", "find_where", "flatten", "group_label",
           "group_runs", "is_seed_key", "label_keys", "load_metrics", "malformed", "matches", "parse_condition",
           "resolve_group_keys", "shown_value", "value_key", "varying_keys", "where"]
