"""Folder names: a free name next to a taken one, claiming a folder atomically, a job's folder name from its
overrides, a run's folder name, and one value quoted as a Hydra override. Imports no Hydra."""

from __future__ import annotations

import hashlib
import os
import re


def unique_dir(base: str) -> str:
    """``base``, or ``base_1``, ``base_2``, ... : the first name that does not exist yet.

    Only a name: nothing is created when a path is resolved (``--cfg hydra --resolve`` writes
    nothing). The folder is claimed atomically when the run or sweep starts (:func:`claim_dir`).

    Raises
    ------
    FileExistsError
        When 100 000 names are taken.
    """
    for k in range(100_000):
        path = base if k == 0 else f"{base}_{k}"
        if not os.path.lexists(path):
            return path
    raise FileExistsError(f"no free folder name next to {base}")


def claim_dir(path: str) -> bool:
    """Create ``path`` (and its parents); False when it exists already. ``os.makedirs`` with
    ``exist_ok=False`` is atomic, so two runs started in the same second (or on two machines
    sharing a file system) never share a folder."""
    try:
        os.makedirs(path)
        return True
    except FileExistsError:
        return False


def override(key: str, value: str) -> str:
    """``key='value'``: a path or user value as one Hydra command-line override, quoted by
    Hydra's override grammar so that ``=``, ``,``, ``[``, ``]``, quotes, spaces and ``$`` are
    data, not grammar (a quote and backslashes before it or at the end are escaped; ``${`` is
    escaped so that it is not an interpolation)."""
    text = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, str(value))
    text = text.replace("'", "\\'").replace("${", "\\${")
    return f"{key}='{text}'"


def job_dirname(override_dirname: str, max_length: int = 120) -> str:
    """A job's folder name from its overrides: slashes replaced, long names shortened with a hash.

    File systems limit a name to 255 bytes, not characters (a CJK character is 3 bytes of UTF-8):
    a name longer than ``max_length`` bytes is cut on a character boundary and ends with a hash of
    the whole, which leaves room for the time before it and a ``_1`` after it. The full overrides
    are in the job's ``.hydra/overrides.yaml`` anyway. (A character that UTF-8 cannot encode, a
    lone surrogate from undecodable command-line bytes, becomes ``?``.)
    """
    encoded = (override_dirname.replace("/", "_") or "defaults").encode("utf-8", "replace")
    if len(encoded) <= max_length:
        return encoded.decode()
    digest = hashlib.sha1(encoded).hexdigest()[:10]
    return f"{encoded[: max_length - 12].decode('utf-8', 'ignore')}..{digest}"


def run_name(init: str, override_dirname: str, name: str | None = None) -> str:
    """A run folder's name after its time: the run's ``name`` when given, else the init and the
    overrides that differ from the defaults (``he_train.learning_rate=1e6``), shortened as job
    folders are (:func:`job_dirname`)."""
    if name:
        return job_dirname(str(name))
    rest = ",".join(part for part in override_dirname.split(",") if part and not part.startswith("init="))
    return job_dirname(f"{init}_{rest}" if rest else str(init))
