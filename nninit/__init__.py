"""nninit: a research harness for neural-network weight initialization.

The package is layered; a layer imports only the layers below it (``pyproject.toml`` states the
contracts, ``lint-imports`` checks them):

- :mod:`nninit.app`: one run top to bottom, the configuration, reports, the tracker, Hydra at the edge;
- :mod:`nninit.figures`: matplotlib figures of runs and comparisons;
- :mod:`nninit.analysis`: statistics, verdicts and comparisons of runs;
- :mod:`nninit.record`: run folders, locks, finding runs, signals, progress;
- :mod:`nninit.data`: the data sets, each declared once in :data:`nninit.data.DATASETS`;
- :mod:`nninit.numerics`: the from-scratch numpy network, initializers (:data:`SCHEMES`), training, theory;
- :mod:`nninit.options`: the rules every configuration key is declared with.

From Python (a notebook): :func:`nninit.run`, :func:`nninit.sweep`, :func:`nninit.load`, :func:`nninit.compare`
and :func:`nninit.runs` (:mod:`nninit.app.api`) do what ``run.py``, ``run.py -m``, ``scripts/compare.py`` and
``scripts/runs.py`` do, and return :class:`Run` / :class:`Sweep` objects.

The entry points below are imported on first use, so that ``import nninit`` stays instant (``run.py``
installs its signal handlers through it before the slow imports).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_ENTRY_POINTS = {
    "run": ("nninit.app.api", "run"),
    "load": ("nninit.app.api", "load"),
    "sweep": ("nninit.app.api", "sweep"),
    "compare": ("nninit.app.api", "compare"),
    "runs": ("nninit.app.api", "runs"),
    "Run": ("nninit.app.results", "Run"),
    "Sweep": ("nninit.app.results", "Sweep"),
    "Refused": ("nninit.app.hydra.compose", "Refused"),
    "run_experiment": ("nninit.app.experiment", "run"),
    "validate": ("nninit.app.config", "validate"),
    "ConfigError": ("nninit.options", "ConfigError"),
    "load_dataset": ("nninit.data", "load_dataset"),
    "make_dataset": ("nninit.data", "make_dataset"),
    "DATASETS": ("nninit.data", "DATASETS"),
    "SCHEMES": ("nninit.numerics.initializers", "SCHEMES"),
    "initialize_parameters": ("nninit.numerics.initializers", "initialize_parameters"),
    "Activation": ("nninit.numerics.activations", "Activation"),
    "TrainSettings": ("nninit.numerics.training", "TrainSettings"),
    "train": ("nninit.numerics.training", "train"),
    "find_runs": ("nninit.record.runs", "find_runs"),
    "summarize": ("nninit.analysis.compare", "summarize"),
    "write_summary": ("nninit.app.report", "write_summary"),
}
"""Public name -> (module, attribute)."""

__all__ = ["__version__", *_ENTRY_POINTS]


def __getattr__(name: str):
    try:
        module, attribute = _ENTRY_POINTS[name]
    except KeyError:
        raise AttributeError(f"module 'nninit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ENTRY_POINTS))
