"""The package's front door: its entry points resolve, and importing it costs nothing."""

import subprocess
import sys

import nninit


def test_every_entry_point_resolves_to_its_module_attribute():
    import importlib

    for name, (module, attribute) in nninit._ENTRY_POINTS.items():
        assert getattr(nninit, name) is getattr(importlib.import_module(module), attribute), name
    assert set(nninit.__all__) == {"__version__", *nninit._ENTRY_POINTS}


def test_an_unknown_name_is_an_attribute_error():
    try:
        nninit.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("nninit.no_such_thing resolved")


def test_importing_the_package_and_the_signal_helpers_imports_no_numerics():
    """run.py installs its interrupt handlers through ``nninit.record.signals`` before the slow imports:
    that import must not pull in numpy, Hydra or scikit-learn (the entry points are loaded on first use)."""
    code = ("import sys, nninit, nninit.record.signals; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'hydra', 'sklearn', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
