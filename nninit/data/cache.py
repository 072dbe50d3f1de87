"""Data sets kept on disk, so that a run whose data set was drawn before does not import scikit-learn.

Drawing a toy data set takes a millisecond; importing scikit-learn to draw it takes about 0.7 s, more
than the seed run's training. :func:`cached_dataset` keeps each data set it draws in a cache folder,
as scikit-learn's own data home does (``sklearn.datasets.get_data_home``), under a key made of the
``data`` config node and the installed scikit-learn's version (read from the package's metadata,
without importing it): a new version of scikit-learn, which may draw other arrays, gets entries of
its own. The arrays read back are those :func:`nninit.data.make_dataset` draws, byte for byte.

Where the cache lives: ``$NNINIT_CACHE`` when set (an empty value turns the cache off), else
``$XDG_CACHE_HOME/nninit``, else ``~/.cache/nninit`` (:func:`cache_dir`); data sets go in its ``datasets/`` folder, one
``.npz`` file each. Entries are written atomically (a temporary file, then a rename) and checked
when read (the key they were written for, each array's SHA-256): an entry that is missing, corrupt
or unreadable is drawn again and rewritten, never trusted. A cache folder that cannot be written
leaves the data set drawn, as without a cache. Delete the folder at any time to empty it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from nninit.data.toy import CACHE_MAX_VALUES, Dataset, make_dataset

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "NNINIT_CACHE"
"""The cache folder, when set; set to an empty value to turn the cache off."""
FORMAT = 1
"""Part of every key: a change of what an entry holds makes the old entries unused."""
SPLITS = ("X_train", "Y_train", "X_test", "Y_test")


def cache_dir(env=os.environ) -> Path | None:
    """The cache folder (not created here), or None when ``NNINIT_CACHE`` is set empty (no cache)."""
    if ENVIRONMENT_VARIABLE in env:
        return Path(env[ENVIRONMENT_VARIABLE]).expanduser() if env[ENVIRONMENT_VARIABLE] else None
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nninit"


def _drawer_version() -> str:
    """The installed scikit-learn's version, from its metadata (scikit-learn is not imported)."""
    try:
        return metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return "none"


def cache_key(data_cfg: dict) -> str:
    """What an entry is drawn from: the ``data`` config node, the versions of scikit-learn and numpy
    (whose legacy ``RandomState`` scikit-learn draws with) and :data:`FORMAT`, as one JSON text (keys sorted)."""
    versions = {"scikit-learn": _drawer_version(), "numpy": np.__version__, "format": FORMAT}
    return json.dumps({"data": data_cfg, **versions}, sort_keys=True, default=repr)


def entry_path(data_cfg: dict, folder: Path) -> Path:
    """The file of ``data_cfg``'s entry in ``folder``: ``datasets/<name>-<SHA-256 of the key, 16 hex>.npz``."""
    digest = hashlib.sha256(cache_key(data_cfg).encode()).hexdigest()[:16]
    return folder / "datasets" / f"{data_cfg.get('name', 'data')}-{digest}.npz"


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _read(path: Path, key: str) -> Dataset | None:
    """The entry at ``path`` when it holds the data set of ``key``, whole; else None."""
    try:
        with np.load(path, allow_pickle=False) as entry:
            if str(entry["key"]) != key:
                return None
            arrays = {name: entry[name] for name in SPLITS}
            digests = json.loads(str(entry["sha256"]))
    except FileNotFoundError:
        return None
    except Exception as error:  # a torn, truncated or foreign file: drawn again
        log.debug("data cache entry %s unreadable (%s); drawing the data set", path, error)
        return None
    if any(arrays[name].dtype != np.float64 or _digest(arrays[name]) != digests.get(name) for name in SPLITS):
        log.debug("data cache entry %s corrupt; drawing the data set", path)
        return None
    return Dataset(**arrays)


def _write(path: Path, key: str, data: Dataset) -> None:
    """Write the entry atomically; a folder that cannot be written is left as it is (said at debug level)."""
    arrays = {name: getattr(data, name) for name in SPLITS}
    digests = json.dumps({name: _digest(a) for name, a in arrays.items()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(file, key=np.array(key), sha256=np.array(digests), **arrays)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as error:
        log.debug("data cache entry %s not written (%s)", path, error)


def cached_dataset(data_cfg: dict, folder: str | Path | None = None) -> Dataset:
    """:func:`nninit.data.make_dataset` of ``data_cfg``, read from the cache when it was drawn before.

    Parameters
    ----------
    data_cfg : dict
        The ``data`` config node (plain containers).
    folder : str or Path, optional
        The cache folder; by default :func:`cache_dir` (which may say: no cache, the data set is drawn).

    Returns
    -------
    Dataset
        Byte for byte the arrays ``make_dataset(data_cfg)`` returns (float64, C-contiguous, writeable).
        Data sets of more than :data:`nninit.data.CACHE_MAX_VALUES` values are drawn, not kept.

    Raises
    ------
    ValueError
        From :func:`nninit.data.make_dataset`, for a data set it does not know; the cache itself raises
        nothing (an entry it cannot read is drawn again, a folder it cannot write is left alone).
    """
    folder = cache_dir() if folder is None else folder
    if folder is None:
        return make_dataset(data_cfg)
    path, key = entry_path(data_cfg, Path(folder)), cache_key(data_cfg)
    data = _read(path, key)
    if data is None:
        data = make_dataset(data_cfg)
        if sum(getattr(data, name).size for name in SPLITS) <= CACHE_MAX_VALUES:
            _write(path, key, data)
    return data
