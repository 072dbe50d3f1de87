"""The run folder's writers and the environment record."""

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from nninit.record import runfolder


def test_a_writer_failing_half_way_leaves_the_previous_file_intact(tmp_path):
    """Atomic write: the old content survives a failure mid-write, and no temporary file is left."""
    path = tmp_path / "metrics.json"
    path.write_bytes(b'{"status": "completed"}\n')

    def half_then_fail(f):
        f.write(b'{"status": "diver')
        f.flush()
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        runfolder.atomic_write(path, half_then_fail)
    assert path.read_bytes() == b'{"status": "completed"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_a_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        runfolder.atomic_write(tmp_path / "history.csv", lambda f: (f.write(b"iteration,cost\n"), _interrupt()))
    assert list(tmp_path.iterdir()) == []


def _interrupt():
    raise KeyboardInterrupt


def test_a_successful_write_replaces_the_file(tmp_path):
    path = tmp_path / "m.json"
    runfolder.write_json(path, {"a": 1, "b": float("nan"), "c": [np.float64(2.5), float("inf")]})
    runfolder.write_json(path, {"a": 2, "b": float("nan"), "c": [np.float64(2.5), float("-inf")]})
    assert json.loads(path.read_text()) == {"a": 2, "b": None, "c": [2.5, None]}
    assert runfolder.read_json(path) == {"a": 2, "b": None, "c": [2.5, None]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_history_round_trip_keeps_every_digit(tmp_path):
    rows = [{"iteration": 0, "cost": 0.1 + 0.2, "dead_1": 0.0}, {"iteration": 5, "cost": float("nan")}]
    runfolder.write_history(tmp_path / "history.csv", rows)
    history = runfolder.read_history(tmp_path / "history.csv")
    assert history["iteration"].tolist() == [0, 5] and history["cost"][0] == 0.1 + 0.2
    assert np.isnan(history["cost"][1]) and history["dead_1"][0] == 0.0 and np.isnan(history["dead_1"][1])


def test_environment_records_the_versions_in_use_and_the_commit():
    import hydra
    import matplotlib
    import sklearn

    env = runfolder.environment()
    assert env["python"] == platform.python_version()
    assert env["numpy"] == np.__version__
    assert env["scikit-learn"] == sklearn.__version__
    assert env["hydra-core"] == hydra.__version__
    assert env["matplotlib"] == matplotlib.__version__
    assert env["platform"] == platform.platform()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode == 0:  # a checkout (as in CI): the commit of the code that ran
        assert env["git_commit"] == head.stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                                capture_output=True, text=True).stdout
        assert env["git_dirty"] is bool(status.strip())
    else:
        assert env["git_commit"] is None and env["git_dirty"] is None


def _try_lock_elsewhere(folder):
    """What another process gets when it tries to lock ``folder``: 'locked', or its FolderBusy message."""
    code = ("import sys\nfrom nninit.record.folder_lock import FolderBusy, lock_folder\n"
            "try:\n    lock_folder(sys.argv[1])\n    print('locked')\nexcept FolderBusy as busy:\n    print(busy)")
    return subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def test_a_locked_folder_is_refused_to_another_process_naming_the_owner(tmp_path):
    from nninit.record import folder_lock

    folder = tmp_path / "run"
    folder_lock.lock_folder(folder)
    try:
        folder_lock.lock_folder(folder)  # again in the same process: nothing happens
        message = _try_lock_elsewhere(folder)
        assert message.startswith(f"{folder} is in use by another command (pid {os.getpid()}: ")
        assert "\n" not in message
    finally:
        folder_lock.release(folder)
    assert not (folder / folder_lock.LOCK_FILE).exists()  # released: no lock file left
    assert _try_lock_elsewhere(folder) == "locked"  # ... and the other process then gets it


def test_a_forked_child_never_releases_its_parents_folder(tmp_path):
    from nninit.record import folder_lock

    folder = tmp_path / "sweep"
    folder_lock.lock_folder(folder)
    try:
        pid = os.fork()
        if pid == 0:  # the child inherits the table of held folders, not their ownership
            folder_lock.release()
            os._exit(0)
        os.waitpid(pid, 0)
        assert (folder / folder_lock.LOCK_FILE).exists()
        assert "is in use" in _try_lock_elsewhere(folder)
    finally:
        folder_lock.release()


def test_a_folder_made_for_a_lock_and_left_empty_is_removed_with_it(tmp_path):
    """A command stopped or refused before it wrote anything leaves no empty folder (nor the parents
    made for it); a folder that holds something, or that existed before, stays."""
    from nninit.record import folder_lock

    empty = tmp_path / "a" / "b" / "run"
    folder_lock.lock_folder(empty)
    folder_lock.release(empty)
    assert not (tmp_path / "a").exists()
    written = tmp_path / "c" / "run"
    folder_lock.lock_folder(written)
    (written / "metrics.json").write_text("{}")
    folder_lock.release(written)
    assert (written / "metrics.json").exists() and not (written / folder_lock.LOCK_FILE).exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    folder_lock.lock_folder(existing)
    folder_lock.release(existing)
    assert existing.is_dir()
    claimed = tmp_path / "claimed"
    claimed.mkdir()  # as nninit.app.hydra.naming.claim_dir makes a default folder just before locking it
    folder_lock.lock_folder(claimed, fresh=True)
    folder_lock.release(claimed)
    assert not claimed.exists()


def test_a_folder_inside_an_owned_folder_is_refused_to_another_process(tmp_path):
    """A run into a job folder of a running sweep (the fresh-eyes review's defect 1): the sweep's lock
    covers every folder below it; once released, the folder below can be taken."""
    from nninit.record import folder_lock

    sweep = tmp_path / "sweep"
    sweep.mkdir()
    folder_lock.lock_folder(sweep)
    try:
        message = _try_lock_elsewhere(sweep / "5_init=xavier,seed=3")
        assert message.startswith(f"{sweep} is in use by another command (pid {os.getpid()}: "), message
    finally:
        folder_lock.release(sweep)
    (sweep / "5_init=xavier,seed=3").mkdir()
    assert _try_lock_elsewhere(sweep / "5_init=xavier,seed=3") == "locked"
