"""How much memory a run needs, and how much the process that runs it may use.

The limit is the smallest of the machine's physical memory, the memory limit of the process's
cgroup (v1 or v2, its ancestors included: a container's or a scheduler's limit) and a SLURM
allocation (``SLURM_MEM_PER_NODE``, or ``SLURM_MEM_PER_CPU`` times the CPUs of the task), so
that a job is checked against the machine it runs on.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from nninit.data import describe

BASELINE_BYTES = 220 * 2**20
"""The interpreter with numpy, scikit-learn, matplotlib and Hydra loaded (186 MiB measured)."""


def estimated_bytes(cfg: dict) -> tuple[int, int, int]:
    """Peak memory of a run, from its configuration.

    The baseline of the libraries; the parameters (with gradients, the initial and final copies
    and the update's scratch: 4 copies); per training example, the pre-activation, activation,
    gradient and mask arrays of every layer (3.2 float64 per unit, the training loop's
    buffers) plus the data themselves, their generation and the plots (``2 n_features + 8``
    float64: measured 91 bytes per example for two features and no hidden layer); per test
    example, one forward pass. Above the peak resident memory of runs measured on Linux
    (``tests/test_robustness.py``).

    Parameters
    ----------
    cfg : dict
        A composed configuration: ``data`` (its numbers of features and examples are
        :func:`nninit.data.describe`'s) and ``model.hidden_dims``.

    Returns
    -------
    total : int
        Bytes.
    per_example : int
        Bytes per training example (the part that grows with ``data.n_train``).
    parameters : int
        Bytes of the parameter copies (the part that grows with ``model.hidden_dims`` alone).
    """
    data = describe(cfg["data"])
    n_features = data.n_features
    dims = [n_features, *cfg["model"]["hidden_dims"], data.n_outputs]
    units = sum(dims[1:])
    params = sum(dims[l] * dims[l - 1] + dims[l] for l in range(1, len(dims)))
    per_example = int(8 * (3.2 * units + 2 * n_features + 8))
    per_test_example = 8 * (2 * units + 2 * n_features)
    parameters = 8 * 4 * params
    examples = per_example * data.n_train + per_test_example * data.n_test
    total = BASELINE_BYTES + parameters + examples
    return int(total), per_example, parameters


def _cgroup_limit(proc_cgroup: Path, root: Path) -> int | None:
    """The smallest memory limit on the process's cgroup and its ancestors (v2 ``memory.max``,
    v1 ``memory.limit_in_bytes``); None when there is none."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: one unified hierarchy
            base, name = (root / "unified") if (root / "unified").is_dir() else root, "memory.max"
        elif "memory" in controllers.split(","):  # v1
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        folder = base / path.lstrip("/")
        while True:
            try:
                text = (folder / name).read_text().strip()
                if text != "max" and int(text) < 2**60:  # v1 says 'unlimited' with a huge number
                    limits.append(int(text))
            except (OSError, ValueError):
                pass
            if folder == base or folder.parent == folder:
                break
            folder = folder.parent
    return min(limits) if limits else None


def _slurm_limit(env: dict) -> int | None:
    """A SLURM job's allocation (the variables are in MiB)."""
    if env.get("SLURM_MEM_PER_NODE", "").isdigit():
        return int(env["SLURM_MEM_PER_NODE"]) * 2**20
    if env.get("SLURM_MEM_PER_CPU", "").isdigit():
        cpus = env.get("SLURM_CPUS_PER_TASK") or env.get("SLURM_CPUS_ON_NODE") or "1"
        return int(env["SLURM_MEM_PER_CPU"]) * int(cpus if cpus.isdigit() else 1) * 2**20
    return None


def memory_limit(*, env: dict | None = None, proc_cgroup: Path = Path("/proc/self/cgroup"),
                 cgroup_root: Path = Path("/sys/fs/cgroup")) -> tuple[int, str] | None:
    """The memory this process may use, and where the limit comes from.

    Returns
    -------
    (bytes, source) or None
        ``source`` is ``'physical memory'``, ``'the cgroup memory limit'`` or ``'the SLURM
        allocation'``; None where none can be read (not a POSIX system).
    """
    env = os.environ if env is None else env
    limits = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        limits.append((os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "physical memory"))
    cgroup = _cgroup_limit(proc_cgroup, cgroup_root)
    if cgroup is not None:
        limits.append((cgroup, "the cgroup memory limit"))
    slurm = _slurm_limit(env)
    if slurm is not None:
        limits.append((slurm, "the SLURM allocation"))
    return min(limits) if limits else None
