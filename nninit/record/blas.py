"""The numerical platform a run computed on: the BLAS library behind numpy's matrix products, its
version, the kernel it chose for this CPU, its threads, and the CPU.

The last bits of a BLAS sum depend on its kernel (OpenBLAS picks one per CPU: ``Haswell``,
``SkylakeX``, ...; ``OPENBLAS_CORETYPE`` forces another), and chaotic runs (deep ReLU networks at a
large learning rate, the notebook's random x10 init) amplify them: two machines with the same
packages can disagree on such a run. Every run records this (``metrics.json``'s ``environment``),
so that a reader whose numbers differ can tell why.
"""

from __future__ import annotations

import os
import platform


def _numpy_blas(infos: list[dict]) -> dict | None:
    """numpy's own BLAS among the libraries loaded (a wheel's ``numpy.libs``; scipy may load a second
    copy of OpenBLAS from ``scipy.libs``); the first BLAS when numpy links a system one."""
    import numpy

    site = os.path.dirname(os.path.dirname(os.path.abspath(numpy.__file__)))
    blas = [i for i in infos if i.get("user_api") == "blas"]
    own = [i for i in blas if os.path.abspath(str(i.get("filepath", ""))).startswith(os.path.join(site, "numpy"))]
    return (own or blas or [None])[0]


def cpu_model() -> str:
    """The CPU's model name (Linux's ``/proc/cpuinfo``; elsewhere ``platform.processor()`` or the machine type)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("model name", "Model", "Hardware")) and ":" in line:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numerical_platform() -> dict:
    """What numpy's matrix products ran on, from threadpoolctl.

    Returns
    -------
    dict
        ``blas``: one line, ``"<library> <version> <kernel>"`` (e.g. ``"openblas 0.3.31.188.0 SkylakeX"``,
        what summaries compare); ``blas_library``, ``blas_version``, ``blas_kernel`` (OpenBLAS's
        ``architecture``: the kernel chosen for this CPU, or forced by ``OPENBLAS_CORETYPE``; None for
        libraries that do not say), ``blas_threads`` (int), and ``cpu`` (the CPU model). The ``blas_*``
        values are None when no BLAS is found.
    """
    import numpy  # noqa: F401  (its BLAS is loaded with it: threadpoolctl sees only loaded libraries)
    from threadpoolctl import threadpool_info

    info = _numpy_blas(threadpool_info()) or {}
    library, version, kernel = info.get("internal_api"), info.get("version"), info.get("architecture")
    return {"blas": " ".join(str(v) for v in (library, version, kernel) if v) or None,
            "blas_library": library, "blas_version": version, "blas_kernel": kernel,
            "blas_threads": info.get("num_threads"), "cpu": cpu_model()}


def kernel_selected_by(coretype: str | None) -> str | None:
    """The kernel numpy's OpenBLAS runs when started with ``OPENBLAS_CORETYPE=coretype`` (None: the
    machine's own choice), asked of a fresh Python process (the variable is read when the library
    loads). OpenBLAS falls back to another kernel for a name it does not know or the CPU cannot run,
    so a caller compares the answer with what it asked for.

    Returns
    -------
    str or None
        The kernel's name, or None when numpy's BLAS is not OpenBLAS or the process failed.
    """
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    proc = subprocess.run([sys.executable, "-c", "from nninit.record.blas import numerical_platform as p; "
                           "print(p()['blas_kernel'])"], env=env, capture_output=True, text=True, timeout=120)
    answer = proc.stdout.strip()
    return answer if proc.returncode == 0 and answer not in ("", "None") else None
