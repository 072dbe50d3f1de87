"""Reading and writing a run folder: the tracking record of one training run.

Every file is written atomically (to a temporary file in the same folder, then renamed), so a
killed run never leaves a half-written file. Layout::

    metrics.json        status, settings, final numbers, versions
    history.csv         one row per recorded iteration
    params_init.npz     W1, b1, ..., WL, bL before training
    params_final.npz    after training
    data.npz            X_train, Y_train, X_test, Y_test (for redrawing the plots); Y of K > 2 classes as class
                        indices (1, m) int64, two classes as (1, m) float64 in {0, 1}
    boundary_frames.npz the predicted class over the plane at up to 31 iterations (for the animation)
    *.png               plots drawn from the files above
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import platform
import subprocess
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

from nninit.record.blas import numerical_platform
from nninit.record.signals import signals_held

METRICS, HISTORY = "metrics.json", "history.csv"
_UMASK = os.umask(0o022)  # read the process's umask (the only way is to set it) ...
os.umask(_UMASK)  # ... and put it back at once
PARAMS_INIT, PARAMS_FINAL, DATA = "params_init.npz", "params_final.npz", "data.npz"
BOUNDARY_FRAMES = "boundary_frames.npz"


def atomic_write(path: Path, write) -> None:
    """Call ``write(fileobj)`` on a temporary binary file beside ``path``, then rename it over ``path``.

    The file gets the permissions an ordinary ``open`` would give (0666 less the umask), not the
    owner-only mode of a temporary file, so that results can be shared. An interrupt (Ctrl-C,
    SIGTERM) at any moment leaves either the old file or the new one, and no temporary file:
    the signals are held while the temporary file is created and its name recorded.
    """
    path = Path(path)
    tmp = None
    try:
        with signals_held():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def write_json(path: Path, obj: dict) -> None:
    """Write ``obj`` as indented JSON; NaN and infinities become ``null`` (strict JSON)."""
    text = json.dumps(_json_safe(obj), indent=2, allow_nan=False) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))


def read_json(path: Path) -> dict:
    """Load a JSON object. Raises ``OSError`` or ``ValueError`` for a missing or broken file."""
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return obj


def write_history(path: Path, rows: list[dict]) -> None:
    """Write rows as CSV; the columns are the union of the rows' keys in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: repr(float(v)) if isinstance(v, float) else v for k, v in row.items()})
    atomic_write(path, lambda f: f.write(buf.getvalue().encode()))


def read_history(path: Path) -> dict[str, np.ndarray]:
    """Load ``history.csv`` as a dict of float64 columns (an empty cell reads as NaN).

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When it is garbled: a row with more or fewer fields than the header, or a cell that is
        not a number.
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    for line, row in enumerate(rows, 2):
        if None in row or None in row.values():
            fields = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
            raise ValueError(f"line {line} has {fields} fields, the header {len(reader.fieldnames)}")
    if not rows:
        return {}
    return {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rows]) for k in rows[0]}


def save_arrays(path: Path, arrays: dict[str, np.ndarray], *, compressed: bool = False) -> None:
    """Save named arrays as an ``.npz`` (loadable with ``allow_pickle=False``), uncompressed unless ``compressed``
    (zip's deflate: for arrays that repeat themselves, such as the animation's class grids)."""
    atomic_write(path, lambda f: (np.savez_compressed if compressed else np.savez)(f, **arrays))


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz`` file, refusing pickled objects.

    Raises
    ------
    FileNotFoundError, OSError
        When the file is missing or cannot be opened.
    ValueError
        When it is not a whole ``.npz`` (empty, cut short, another format, a pickled object), naming the file.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (EOFError, zipfile.BadZipFile, KeyError, ValueError) as error:  # numpy's words for a file not whole
        raise ValueError(f"{path} is not a readable .npz file ({type(error).__name__}: {error})") from error


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def _software() -> tuple[tuple[str, str | None], ...]:
    """The versions of Python and the key packages, the platform, and the git commit and state of the code:
    looked up once per process (the code a process runs is the code it imported; a sweep's worker runs
    many jobs, and these look-ups cost tens of milliseconds)."""
    env = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("numpy", "scikit-learn", "hydra-core", "matplotlib", "nninit"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = None
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    env["git_commit"], env["git_dirty"] = commit, None if status is None else bool(status)
    return tuple(env.items())


def environment() -> dict:
    """Versions of Python and the key packages, and the git commit of the code, if any.

    Returns
    -------
    dict
        ``python``, ``numpy``, ``scikit-learn``, ``hydra-core``, ``matplotlib``, ``nninit``
        (None when not installed), ``platform``, the numerical platform (``blas``, ``blas_library``,
        ``blas_version``, ``blas_kernel``, ``blas_threads``, ``cpu``: :func:`nninit.record.blas.numerical_platform`),
        ``git_commit`` (None outside a checkout) and ``git_dirty`` (uncommitted changes to tracked files, when
        the process first asked: the code it runs is what it imported then).
    """
    software = dict(_software())
    env = {key: software[key] for key in ("python", "platform", "numpy", "scikit-learn", "hydra-core", "matplotlib",
                                          "nninit")}
    env.update(numerical_platform())
    env["git_commit"], env["git_dirty"] = software["git_commit"], software["git_dirty"]
    return env
