"""nninit: a research harness for neural-network weight initialization.

The package is layered; a layer imports only the layers below it (``pyproject.toml`` states the
contracts, ``lint-imports`` checks them):

- :mod:`nninit.app`: one run top to bottom, the configuration, reports, the tracker, Hydra;
- :mod:`nninit.figures`: matplotlib figures of runs and comparisons;
- :mod:`nninit.analysis`: statistics and comparisons of runs;
- :mod:`nninit.record`: run folders, locks, finding runs, signals, progress;
- :mod:`nninit.data`: the data sets;
- :mod:`nninit.numerics`: the from-scratch numpy network and initializers.
"""

__version__ = "0.1.0"
