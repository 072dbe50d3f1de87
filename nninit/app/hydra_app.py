"""Everything that touches Hydra: the config store, the run-folder resolver, the callbacks and
the task function that ``run.py`` wraps. The rest of the package takes plain containers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sys
import time
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nninit.app.config import ConfigError, register_configs, tag_list, validate
from nninit.record.folder_lock import FolderBusy, lock_folder, release
from nninit.record.signals import block_stop_signals, unblock_stop_signals, wait_until

log = logging.getLogger("nninit")


def unique_dir(base: str) -> str:
    """``base``, or ``base_1``, ``base_2``, ... : the first name that does not exist yet.

    Only a name: nothing is created when a path is resolved (``--cfg hydra --resolve`` writes
    nothing). The folder is claimed atomically when the run or sweep starts (:func:`claim_dir`).
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


def setup() -> None:
    """Register the structured configs and the resolvers used by ``conf/config.yaml`` (idempotent).

    Called on import, so that Hydra's worker processes (joblib, submitit) have them too.
    """
    register_configs()
    if not OmegaConf.has_resolver("nninit_unique_dir"):
        OmegaConf.register_new_resolver("nninit_unique_dir", unique_dir, use_cache=True)
    if not OmegaConf.has_resolver("nninit_dirname"):
        OmegaConf.register_new_resolver("nninit_dirname", job_dirname)
    if not OmegaConf.has_resolver("nninit_run_name"):
        OmegaConf.register_new_resolver("nninit_run_name", run_name)
    if not OmegaConf.has_resolver("nninit_unless_kept"):
        OmegaConf.register_new_resolver("nninit_unless_kept", unless_kept)


def unless_kept(value: Any, replacement: Any, *, _root_: DictConfig) -> Any:
    """``value``, or ``replacement`` in a job that a resumed sweep keeps as it is: its folder holds a
    finished run of its config (skipped) or a run of another config (refused, never overwritten).

    ``conf/config.yaml`` routes Hydra's own writes into a job's folder before the job starts
    through it (``hydra.output_subdir``: ``.hydra/`` or none; the job log: ``run.log`` or
    ``/dev/null``), so that resuming leaves a kept folder byte for byte as it was. Evaluated
    in whichever process runs the job, after Hydra has set ``hydra.runtime.output_dir``.
    """
    if _root_.get("resume") and _kept(str(OmegaConf.select(_root_, "hydra.runtime.output_dir")), _root_):
        return replacement
    return value


def _kept(folder: str, job_cfg: DictConfig) -> bool:
    """True when resuming leaves ``folder`` as it is and does not run its job: it holds a finished
    run of ``job_cfg``, or a run of another config (which the job refuses)."""
    try:
        return finished_run(folder, job_config(job_cfg)) is not None
    except ConfigError:
        return True


CONTROL_KEYS = ("hydra", "resume", "name", "tags", "plots", "tracker")
"""Top-level keys that say how to run or how to label it, not what is run: left out of a run's
recorded config (``name`` and ``tags`` are recorded beside it in ``metrics.json``)."""


def job_config(cfg: DictConfig) -> dict:
    """The job's configuration, without the ``hydra`` node and ``resume``, as plain resolved containers."""
    return {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
            for k in cfg if k not in CONTROL_KEYS}


setup()


def _refuse(message: str) -> None:
    print(f"nninit: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _holds_runs(folder: str) -> bool:
    return os.path.isdir(folder) and any(name == "metrics.json" for _, _, files in os.walk(folder) for name in files)


def _named_by_default(config: DictConfig, key: str) -> bool:
    """True when ``hydra.<key>.dir`` is the default, uniquely named folder (not the user's own)."""
    return "nninit_unique_dir" in str(OmegaConf.to_container(config.hydra[key], resolve=False).get("dir"))


def _resume(config: DictConfig) -> bool:
    return bool(config.get("resume", False))


def _or_refuse(check):
    """``check`` with any error ending the command (exit code 2, one line): Hydra turns an error
    raised in a callback into a warning and goes on, which would run the command unchecked and
    its folder unowned."""

    @functools.wraps(check)
    def checked(*args: Any, **kwargs: Any) -> None:
        try:
            check(*args, **kwargs)
        except Exception as error:  # SystemExit (a refusal, a resume with nothing to do) passes
            reason = " ".join(str(error).split())  # one line
            _refuse(f"the command could not be checked before it starts: {type(error).__name__}: {reason}")

    return checked


class ValidateBeforeStart(Callback):
    """Check a run before Hydra creates or writes its folder, and own the folder while it runs.

    A bad value ends the command with exit code 2 and one line naming the key, the value and
    what is accepted; nothing is written. The default folder is created here, atomically, so that
    no two runs share one; a read-only command (``--cfg``, ``--help``, ``--info``) never reaches
    this and writes nothing. The run or sweep folder is then locked for the command's lifetime
    (:mod:`nninit.record.folder_lock`): a second command into it is refused, and nothing of the first
    is touched. A folder that already holds a finished run (an explicit ``hydra.run.dir`` /
    ``hydra.sweep.dir``) is refused the same way, unless ``resume=true``; resuming a folder whose
    runs all finished changes nothing in it. Every sweep check reads the jobs the sweeper will
    launch (:func:`launched_jobs`), wherever the sweep was defined: a sweep whose jobs would share
    a folder is refused before any job runs, and so is a bad value every job shares (a value that
    differs between jobs is checked job by job: a bad job is recorded as ``failed`` without
    stopping the others).
    """

    @_or_refuse
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            validate(job_config(config))
            labels(config)
        except ConfigError as error:
            _refuse(str(error))
        run_dir = str(config.hydra.run.dir)
        if _named_by_default(config, "run"):
            while not claim_dir(run_dir):  # taken a moment ago by a run started in the same second
                run_dir = unique_dir(run_dir)
            with read_write(config.hydra.run):
                config.hydra.run.dir = run_dir
        _own(run_dir, fresh=_named_by_default(config, "run"))
        if _resume(config):
            try:
                done = finished_run(run_dir, job_config(config))
            except ConfigError as error:
                _refuse(str(error))
            if done is not None:  # nothing to do: Hydra would rewrite .hydra/ and append to run.log
                log.info("resume: %s already holds a %s run of this config; left as it is", run_dir, done["status"])
                raise SystemExit(0)
        elif _holds_runs(run_dir):
            _refuse(f"hydra.run.dir={run_dir} already holds a run (metrics.json); choose a new folder, "
                    f"or add resume=true to finish it (the same config only)")
        unblock_stop_signals()  # Hydra's set-up is done (run.py held them): a Ctrl-C that came meanwhile stops here

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        release()

    @_or_refuse
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _SWEEP_DIR[:] = [str(config.hydra.sweep.dir)]
        jobs = launched_jobs(config)
        try:  # a value every job shares is refused once, before any job runs
            validate(job_config(config if not jobs else _compose_job(config, _common(jobs), None)))
            labels(config)
        except ConfigError as error:
            if not _swept(jobs, error.key):
                _refuse(str(error))
        folders = _job_folders(config, jobs)
        shared = _shared(folders)
        if shared:
            folder, names = shared
            _refuse(f"jobs {' and '.join(names)} would write into the same folder "
                    f"{os.path.relpath(folder, str(config.hydra.sweep.dir))} "
                    f"(hydra.sweep.subdir={OmegaConf.to_container(config.hydra.sweep, resolve=False)['subdir']}); "
                    f"make hydra.sweep.subdir tell the jobs apart, e.g. start it with ${{hydra.job.num}}_")
        sweep_dir = str(config.hydra.sweep.dir)
        if _named_by_default(config, "sweep"):
            if not claim_dir(sweep_dir):
                _refuse(f"the sweep folder {sweep_dir} was created by another command a moment ago; start again")
        _own(sweep_dir, fresh=_named_by_default(config, "sweep"))
        to_run = None if jobs is None else len(jobs)
        if _resume(config):
            to_run = None if jobs is None else sum(not _kept(folder, job_cfg) for folder, _, job_cfg in folders)
            if to_run == 0 and os.path.exists(os.path.join(sweep_dir, "summary.md")):
                log.info("resume: every job of %s already finished; left as it is", sweep_dir)
                raise SystemExit(0)
        elif _holds_runs(sweep_dir):
            _refuse(f"hydra.sweep.dir={sweep_dir} already holds runs; choose a new folder, or add resume=true to "
                    f"rerun only the jobs that did not finish")
        _record_sweep(sweep_dir, to_run)
        from nninit.figures.helper_process import Prepared

        # the summary's imports, in a process of their own on the core left idle while Hydra
        # composes every job's config to check it (a second or more, on one core)
        _SUMMARY[:] = [Prepared(("nninit.app.report",))]
        launcher = str(config.hydra.launcher.get("_target_", ""))
        if "joblib" in launcher:
            _stop_workers_after_they_record(sweep_dir)
        elif "basic_launcher" not in launcher:  # jobs elsewhere (a cluster): this process waits, and stops on Ctrl-C
            unblock_stop_signals()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        release()  # after SummarizeSweep wrote the summary (Hydra ends the callbacks in reverse order)


def _stop_workers_after_they_record(sweep_dir: str) -> None:
    """A joblib sweep stopped by Ctrl-C or SIGTERM: the workers record ``interrupted`` before the
    launcher kills them (:func:`nninit.record.signals.forward_stop_signals`), and a job a worker could not
    record in time is recorded by this process once the launcher has stopped (:func:`record_stopped_jobs`)."""
    from nninit.record.signals import child_processes, forward_stop_signals

    workers_started = lambda: any("loky" in command for command in child_processes().values())  # noqa: E731
    forward_stop_signals(lambda: not running_jobs(sweep_dir), workers_started)
    _LOCAL_WORKERS[:] = [sweep_dir]


_LOCAL_WORKERS: list[str] = []
"""The sweep folder, when this process runs its jobs in local worker processes (joblib)."""


def running_jobs(sweep_dir: str) -> list[str]:
    """The job folders of ``sweep_dir`` whose ``metrics.json`` says ``running``."""
    from nninit.record.runfolder import METRICS, read_json

    found = []
    with os.scandir(sweep_dir) as entries:
        for entry in entries:
            metrics = os.path.join(entry.path, METRICS)
            try:
                if entry.is_dir() and read_json(metrics).get("status") == "running":
                    found.append(entry.path)
            except (OSError, ValueError):
                continue
    return found


def record_stopped_jobs() -> list[str]:
    """After a joblib sweep was stopped (its workers are gone): a job folder still saying ``running``
    was ended by the launcher before its worker could record it; record it ``interrupted``, with that
    reason, so that the folder tells the truth and ``resume=true`` reruns it. Returns those folders."""
    from nninit.record.runfolder import METRICS, read_json, write_json

    if not _LOCAL_WORKERS:
        return []
    stopped = running_jobs(_LOCAL_WORKERS[0])
    for folder in stopped:
        metrics = read_json(os.path.join(folder, METRICS))
        metrics.update(status="interrupted", error="KeyboardInterrupt: the sweep stopped its worker before the "
                       "run could record where it was")
        write_json(os.path.join(folder, METRICS), metrics)
    return stopped


def _own(folder: str, fresh: bool = False) -> None:
    """Lock ``folder`` for this command (:func:`nninit.record.folder_lock.lock_folder`), or refuse the command."""
    try:
        lock_folder(folder, fresh)
    except FolderBusy as busy:
        _refuse(str(busy))


_SUMMARY: list = []
"""The process prepared to write the sweep's summary (:class:`nninit.figures.helper_process.Prepared`)."""
_SWEEP_DIR: list[str] = []
"""The folder of the sweep this process runs (for the advice printed on Ctrl-C)."""


def sweep_dir_of_this_process() -> str | None:
    return _SWEEP_DIR[0] if _SWEEP_DIR else None


def launched_jobs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of every job the sweep will launch, in launch order; None when the sweeper
    chooses its jobs as the sweep goes (a plugin such as Optuna or Ax).

    Hydra's basic sweeper launches the product of its ``params`` (``hydra.sweeper.params``, from
    any config) and the command line's overrides. Hydra has no public way to ask for that list;
    this is the one function that reads Hydra's internals for it: the ``BasicSweeper`` class,
    built from ``hydra.sweeper`` as Hydra builds it, and its own expansion
    (``_parse_config`` then ``split_arguments``, as ``BasicSweeper.sweep`` does). Its behaviour
    is pinned by ``tests/test_locks.py``, which compares it with the jobs a real sweep ran.
    """
    if OmegaConf.select(config, "hydra.sweeper._target_") != "hydra._internal.core_plugins.basic_sweeper.BasicSweeper":
        return None
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    settings = OmegaConf.to_container(config.hydra.sweeper, resolve=False)
    sweeper = BasicSweeper(max_batch_size=None, params=settings.get("params"))
    arguments = sweeper._parse_config() + list(config.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    return [list(job) for batch in BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
            for job in batch]


def _common(jobs: list[list[str]]) -> list[str]:
    """The overrides every job has (``train.learning_rate=-1`` in all): what a bad shared value comes from."""
    return [item for item in jobs[0] if all(item in job for job in jobs[1:])]


def _swept(jobs: list[list[str]] | None, key: str) -> bool:
    """True when ``key`` (or the group it belongs to) differs between the jobs: checked job by job."""
    if not jobs:
        return False
    common = _common(jobs)
    names = {item.split("=", 1)[0].lstrip("+~") for job in jobs for item in job if item not in common}
    return any(key == name or key.startswith(name + ".") for name in names)


def _compose_job(config: DictConfig, overrides: list[str], num: int | None) -> DictConfig:
    """Job ``num``'s config as the launcher will compose it (Hydra's config loader), with
    ``hydra.job.num`` set and the Hydra config pointed at it so that its folder resolves."""
    from hydra.core.global_hydra import GlobalHydra

    job_cfg = GlobalHydra.instance().config_loader().load_sweep_config(config, list(overrides))
    if num is not None:
        with open_dict(job_cfg.hydra.job):
            job_cfg.hydra.job.num = num
            job_cfg.hydra.job.id = str(num)
    return job_cfg


def _job_folders(config: DictConfig, jobs: list[list[str]] | None) -> list[tuple[str, list[str], DictConfig]]:
    """``(folder, overrides, job config)`` of every job, composed and resolved as the launcher will;
    only when needed (else ``[]``): a ``hydra.sweep.subdir`` that is not unique by construction
    (the default starts with the job number), or ``resume=true``."""
    subdir = str(OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir"))
    by_number = subdir.startswith("${hydra.job.num}")
    if jobs is None:
        if not by_number:
            _refuse(f"hydra.sweeper={config.hydra.sweeper.get('_target_')} chooses its jobs as it goes, so "
                    f"hydra.sweep.subdir={subdir} cannot be checked to tell them apart; start it with "
                    f"${{hydra.job.num}}_")
        return []
    if by_number and not _resume(config):
        return []
    previous = HydraConfig.instance().cfg
    folders = []
    try:
        for num, job in enumerate(jobs):
            job_cfg = _compose_job(config, job, num)
            HydraConfig.instance().set_config(job_cfg)
            folders.append((os.path.join(str(config.hydra.sweep.dir), str(OmegaConf.select(job_cfg, "hydra.sweep.subdir"))),
                            job, job_cfg))
    finally:
        if previous is not None:
            HydraConfig.instance().set_config(previous)
    return folders


def _shared(folders: list[tuple[str, list[str], Any]]) -> tuple[str, list[str]] | None:
    """The first folder more than one job would write into, and those jobs (``#0 (a=1)``)."""
    names: dict[str, list[str]] = {}
    for num, (folder, job, _) in enumerate(folders):
        names.setdefault(folder, []).append(f"#{num} ({' '.join(job)})")
    return next(((f, n) for f, n in names.items() if len(n) > 1), None)


SWEEP_STATE = ".nninit_sweep.json"
"""In a sweep folder: how many jobs this sweep runs and when it started (for the jobs' progress lines)."""
SWEEP_PROGRESS = ".nninit_progress"
"""In a sweep folder: one line per job of this sweep that ended (appended by whichever process ran it)."""


def _record_sweep(sweep_dir: str, to_run: int | None) -> None:
    from nninit.record.runfolder import write_json

    write_json(os.path.join(sweep_dir, SWEEP_STATE), {"jobs": to_run, "started": time.time()})
    try:
        os.unlink(os.path.join(sweep_dir, SWEEP_PROGRESS))  # a previous sweep's (resumed now)
    except FileNotFoundError:
        pass


def _log_sweep_progress(sweep_dir: str, status: str) -> None:
    """``job k/N done (status), about T left``: k counts the jobs of this sweep that ended, N the
    jobs it runs (a resumed sweep does not count the jobs it keeps)."""
    from nninit.record.runfolder import read_json

    try:
        fd = os.open(os.path.join(sweep_dir, SWEEP_PROGRESS), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, f"{status}\n".encode())  # one short append: whole, whichever process writes it
        finally:
            os.close(fd)
        with open(os.path.join(sweep_dir, SWEEP_PROGRESS), encoding="utf-8") as f:
            done = sum(1 for _ in f)
        state = read_json(os.path.join(sweep_dir, SWEEP_STATE))
    except (OSError, ValueError):
        return
    if state.get("jobs") is None:
        log.info("job %d done (%s)", done, status)
        return
    total, elapsed = int(state["jobs"]), time.time() - float(state["started"])
    left = elapsed / done * (total - done)
    about = "" if done >= total else f", about {left:.0f} s left"
    log.info("job %d/%d done (%s)%s", min(done, total), total, status, about)


def labels(cfg: DictConfig) -> dict:
    """``name`` and ``tags`` of a run, as plain values (``tags`` a list of strings).

    Raises
    ------
    ConfigError
        When ``name`` is not a string or a tag is not a string or number.
    """
    name = cfg.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError("name", name, "a free label (text) or null")
    tags = cfg.get("tags")
    return {"name": name, "tags": tag_list(OmegaConf.to_container(tags) if OmegaConf.is_config(tags) else tags)}


_LIMITED = []


def _one_blas_thread_per_worker() -> None:
    """In a worker process of a launcher (joblib runs one per core), BLAS gets one thread: the
    workers already keep the cores busy, and more threads per worker only compete (threadpoolctl,
    which scikit-learn brings)."""
    import multiprocessing

    if _LIMITED or multiprocessing.parent_process() is None:
        return
    from threadpoolctl import threadpool_limits

    _LIMITED.append(threadpool_limits(limits=1))


def finished_run(folder: str, cfg: dict) -> dict | None:
    """The ``metrics.json`` of ``folder`` when it records a ``completed`` or ``diverged`` run of
    exactly ``cfg`` (a result to keep when resuming); None when there is none to keep (missing,
    failed, interrupted, still running).

    Raises
    ------
    ConfigError
        When the folder holds a run of another config: resuming never overwrites it.
    """
    from nninit.record.runfolder import METRICS, read_json
    from nninit.record.runs import flatten

    try:
        metrics = read_json(os.path.join(folder, METRICS))
    except (OSError, ValueError):
        return None
    if json.dumps(metrics.get("config"), sort_keys=True) != json.dumps(cfg, sort_keys=True):
        old, new = flatten(metrics.get("config") or {}), flatten(cfg)
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise ConfigError("resume", True, f"{folder} holds a run of another config ("
                          + ", ".join(f"{k}: {old.get(k)} there, {new.get(k)} here" for k in keys[:3])
                          + "); resume only finishes the same runs, it never overwrites another")
    return metrics if metrics.get("status") in ("completed", "diverged") else None


def task(cfg: DictConfig) -> dict:
    """Hydra's task function: run one experiment in the job's output folder.

    In a sweep, a job that raises is logged and returned as ``{'status': 'failed'}`` (its
    ``metrics.json`` says so too), so that the other jobs and the sweep summary go on.
    """
    # in whatever process runs the job (run.py, a joblib worker, a submitit job): Ctrl-C, SIGTERM and submitit's
    # SIGUSR2 stop the run as Ctrl-C does, so that it records 'interrupted'
    from nninit.record.signals import interrupt_on_ctrl_c, interrupt_on_scheduler_signals

    interrupt_on_ctrl_c()
    interrupt_on_scheduler_signals()
    try:
        return _task(cfg)
    finally:  # between jobs (Hydra composes the next one; a joblib worker waits) a stop signal waits
        block_stop_signals()  # for the next job, or the summary (SummarizeSweep) or the exit


def _task(cfg: DictConfig) -> dict:
    unblock_stop_signals()  # a joblib worker starts with them held (forward_stop_signals); one pending now stops the job
    from nninit.app.experiment import run
    from nninit.app.tracking import track

    hydra_cfg = HydraConfig.get()
    if _resume(cfg):
        try:
            done = finished_run(hydra_cfg.runtime.output_dir, job_config(cfg))
        except ConfigError as error:
            if hydra_cfg.mode != RunMode.MULTIRUN:
                _refuse(str(error))
            log.error("Job %s not run: %s", hydra_cfg.job.num, error)
            return {"status": "failed", "error": str(error)}
        if done is not None:
            log.info("resume: %s already holds a %s run of this config; skipped", hydra_cfg.runtime.output_dir,
                     done["status"])
            return done  # kept, not run: not counted in the sweep's progress
    single = hydra_cfg.mode != RunMode.MULTIRUN
    if not single:
        _one_blas_thread_per_worker()
    plots = cfg.get("plots") or {}
    figures = single if plots.get("figures") is None else bool(plots.get("figures"))
    animation = single if plots.get("animation") is None else bool(plots.get("animation"))
    try:
        result = run(job_config(cfg), hydra_cfg.runtime.output_dir, overrides=list(hydra_cfg.overrides.task),
                     labels=labels(cfg), figures=figures, animation=animation and figures)
    except KeyboardInterrupt:
        if single or "SUBMITIT_FOLDER" not in os.environ:
            if not single:  # the launcher stops every worker once one job raises: the others record first
                wait_until(lambda: not running_jobs(str(hydra_cfg.sweep.dir)))
            raise  # Ctrl-C on this machine stops the sweep
        # a cluster job stopped by its time limit or scancel: recorded 'interrupted' in its folder; returning
        # lets the sweep's other jobs and its summary go on (resume=true reruns this one)
        log.warning("Job %s interrupted by the scheduler; resume=true reruns it", hydra_cfg.job.num)
        result = {"status": "interrupted"}
    except Exception as error:
        if single:
            raise
        log.error("Job %s failed: %s; the sweep goes on", hydra_cfg.job.num, error, exc_info=not isinstance(error, ConfigError))
        result = {"status": "failed", "error": str(error)}
    finally:
        track(cfg, hydra_cfg)  # tracker=mlflow: log the final run folder; never raises, never changes the run
    if not single:
        _log_sweep_progress(str(hydra_cfg.sweep.dir), result.get("status"))
    return result


class SummarizeSweep(Callback):
    """At the end of a multirun, write the sweep summary and plots into the sweep folder.

    Every job returns normally (failures are recorded in its ``metrics.json`` by :func:`task`),
    so Hydra reaches ``on_multirun_end``; if something still prevents it, ``scripts/compare.py``
    on the sweep folder writes the same files. The command exits 1 when a job failed.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from nninit.app.report import write_summary

        unblock_stop_signals()  # the summary can be stopped (its files are written all or nothing)

        sweep_dir = config.hydra.sweep.dir
        summary = _SUMMARY.pop() if _SUMMARY else None
        try:
            arguments = ([sweep_dir], sweep_dir)
            options = {"title": f"Sweep {sweep_dir}"}
            table, written = (summary.call(write_summary, *arguments, **options) if summary is not None
                              else write_summary(*arguments, **options))
        except ValueError:  # no job has the numbers to summarize: every one failed
            failed = [p for p in _statuses(sweep_dir) if p[1] in ("failed", "interrupted")]
            log.error("No summary: no job of %s completed (%d failed; see their metrics.json)", sweep_dir, len(failed))
            raise SystemExit(1) from None
        except LookupError as error:
            log.error("No summary: %s", error)
            raise SystemExit(1) from None
        print(f"\n{table}\n")
        log.info("Sweep summary: %s", ", ".join(str(p) for p in written))
        failed = [p for p in _statuses(sweep_dir) if p[1] in ("failed", "interrupted")]
        if failed:
            log.error("%d job(s) failed: %s", len(failed), ", ".join(str(p[0]) for p in failed))
            raise SystemExit(1)


def _statuses(sweep_dir: str) -> list[tuple[str, str]]:
    from nninit.record.runs import find_runs

    runs, skipped = find_runs([sweep_dir])
    return [(str(r.path), r.metrics.get("status")) for r in runs] + [(str(p), "failed") for p, _ in skipped]
