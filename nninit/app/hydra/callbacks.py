"""Hydra's callbacks: the checks before a run or a sweep starts (:class:`ValidateBeforeStart`), and the
summary when a sweep ends (:class:`SummarizeSweep`). ``conf/config.yaml`` names both."""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, read_write

from nninit.app.config import ConfigError, validate
from nninit.app.hydra import sweep, workers
from nninit.app.hydra.job import job_config, labels, resuming
from nninit.app.hydra.naming import claim_dir, unique_dir
from nninit.app.hydra.resume import finished_run, kept
from nninit.record.folder_lock import FolderBusy, lock_folder, release
from nninit.record.signals import unblock_stop_signals
from nninit.record.sweep_progress import record_sweep

log = logging.getLogger("nninit")

_SUMMARY: list = []
"""The process prepared to write the sweep's summary (:class:`nninit.figures.helper_process.Prepared`)."""
_SWEEP_DIR: list[str] = []
"""The folder of the sweep this process runs (for the advice printed on Ctrl-C)."""


def sweep_dir_of_this_process() -> str | None:
    """The folder of the sweep this process started; None in a single run."""
    return _SWEEP_DIR[0] if _SWEEP_DIR else None


def refuse(message: str) -> None:
    """End the command: ``nninit: error: <message>`` on stderr, exit code 2."""
    print(f"nninit: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _holds_runs(folder: str) -> bool:
    return os.path.isdir(folder) and any(name == "metrics.json" for _, _, files in os.walk(folder) for name in files)


def _named_by_default(config: DictConfig, key: str) -> bool:
    """True when ``hydra.<key>.dir`` is the default, uniquely named folder (not the user's own)."""
    return "nninit_unique_dir" in str(OmegaConf.to_container(config.hydra[key], resolve=False).get("dir"))


def _own(folder: str, fresh: bool = False) -> None:
    """Lock ``folder`` for this command (:func:`nninit.record.folder_lock.lock_folder`), or refuse the command."""
    try:
        lock_folder(folder, fresh)
    except FolderBusy as busy:
        refuse(str(busy))


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
            refuse(f"the command could not be checked before it starts: {type(error).__name__}: {reason}")

    return checked


def _finished_or_refuse(folder: str, config: DictConfig) -> dict | None:
    """:func:`finished_run` of the job's config in ``folder``; a run of another config refuses the command."""
    try:
        return finished_run(folder, job_config(config))
    except ConfigError as error:
        refuse(str(error))


def _check_values(config: DictConfig, jobs: list[list[str]] | None = None) -> None:
    """Refuse a bad value; in a sweep, only a value every job shares (a swept one is checked job by job)."""
    try:
        validate(job_config(config if not jobs else sweep.compose_job(config, sweep.common(jobs), None)))
        labels(config)
    except ConfigError as error:
        if not sweep.swept(jobs, error.key):
            refuse(str(error))


def _claim_run_dir(config: DictConfig) -> str:
    """The run folder, created here when it is the default one (a free name: no two runs share one)."""
    run_dir = str(config.hydra.run.dir)
    if _named_by_default(config, "run"):
        while not claim_dir(run_dir):  # taken a moment ago by a run started in the same second
            run_dir = unique_dir(run_dir)
        with read_write(config.hydra.run):
            config.hydra.run.dir = run_dir
    return run_dir


def _job_folders(config: DictConfig, jobs: list[list[str]] | None) -> list[sweep.Job]:
    """Every job's folder when it must be known before the sweep (:func:`sweep.needs_folders`); refuses a
    sweep whose jobs would share one."""
    try:
        if not sweep.needs_folders(config, jobs):
            return []
    except ValueError as error:
        refuse(str(error))
    folders = sweep.job_folders(config, jobs)
    shared = sweep.shared(folders)
    if shared:
        folder, names = shared
        refuse(f"jobs {' and '.join(names)} would write into the same folder "
               f"{os.path.relpath(folder, str(config.hydra.sweep.dir))} "
               f"(hydra.sweep.subdir={sweep.subdir_of(config)}); "
               f"make hydra.sweep.subdir tell the jobs apart, e.g. start it with ${{hydra.job.num}}_")
    return folders


def _jobs_to_run(config: DictConfig, sweep_dir: str, jobs: list[list[str]] | None,
                 folders: list[sweep.Job]) -> int | None:
    """How many jobs the sweep runs (None: the sweeper decides as it goes). Resuming a sweep whose jobs all
    finished ends the command; a new sweep into a folder that holds runs is refused."""
    if not resuming(config):
        if _holds_runs(sweep_dir):
            refuse(f"hydra.sweep.dir={sweep_dir} already holds runs; choose a new folder, or add resume=true to "
                   f"rerun only the jobs that did not finish")
        return None if jobs is None else len(jobs)
    to_run = None if jobs is None else sum(not kept(folder, job_cfg) for folder, _, job_cfg in folders)
    if to_run == 0 and os.path.exists(os.path.join(sweep_dir, "summary.md")):
        log.info("resume: every job of %s already finished; left as it is", sweep_dir)
        raise SystemExit(0)
    return to_run


def _start_helpers(config: DictConfig, sweep_dir: str) -> None:
    """The summary's imports in a process of their own, and the stop signals' handling of the launcher."""
    from nninit.figures.helper_process import Prepared

    # the summary's imports, in a process of their own on the core left idle while Hydra
    # composes every job's config to check it (a second or more, on one core)
    _SUMMARY[:] = [Prepared(("nninit.app.report",))]
    launcher = str(config.hydra.launcher.get("_target_", ""))
    if "joblib" in launcher:
        workers.stop_workers_after_they_record(sweep_dir, launcher)
    elif "basic_launcher" not in launcher:  # jobs elsewhere (a cluster): this process waits, and stops on Ctrl-C
        unblock_stop_signals()


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
    launch (:func:`nninit.app.hydra.sweep.launched_jobs`), wherever the sweep was defined: a sweep whose
    jobs would share a folder is refused before any job runs, and so is a bad value every job shares (a
    value that differs between jobs is checked job by job: a bad job is recorded as ``failed`` without
    stopping the others).
    """

    @_or_refuse
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_values(config)
        run_dir = _claim_run_dir(config)
        _own(run_dir, fresh=_named_by_default(config, "run"))
        if resuming(config):
            done = _finished_or_refuse(run_dir, config)
            if done is not None:  # nothing to do: Hydra would rewrite .hydra/ and append to run.log
                log.info("resume: %s already holds a %s run of this config; left as it is", run_dir, done["status"])
                raise SystemExit(0)
        elif _holds_runs(run_dir):
            refuse(f"hydra.run.dir={run_dir} already holds a run (metrics.json); choose a new folder, "
                   f"or add resume=true to finish it (the same config only)")
        unblock_stop_signals()  # Hydra's set-up is done (run.py held them): a Ctrl-C that came meanwhile stops here

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        release()

    @_or_refuse
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = str(config.hydra.sweep.dir)
        _SWEEP_DIR[:] = [sweep_dir]
        jobs = sweep.launched_jobs(config)
        _check_values(config, jobs)  # a value every job shares is refused once, before any job runs
        folders = _job_folders(config, jobs)
        if _named_by_default(config, "sweep") and not claim_dir(sweep_dir):
            refuse(f"the sweep folder {sweep_dir} was created by another command a moment ago; start again")
        _own(sweep_dir, fresh=_named_by_default(config, "sweep"))
        record_sweep(sweep_dir, _jobs_to_run(config, sweep_dir, jobs, folders))
        _start_helpers(config, sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        release()  # after SummarizeSweep wrote the summary (Hydra ends the callbacks in reverse order)


def _statuses(sweep_dir: str) -> list[tuple[str, str]]:
    from nninit.record.runs import find_runs

    runs, skipped = find_runs([sweep_dir])
    return [(str(r.path), r.metrics.get("status")) for r in runs] + [(str(p), "failed") for p, _ in skipped]


def _failed(sweep_dir: str) -> list[tuple[str, str]]:
    return [p for p in _statuses(sweep_dir) if p[1] in ("failed", "interrupted")]


def _write_summary(*args: Any, **kwargs: Any):
    """:func:`nninit.app.report.write_summary`, imported where it runs: in the process prepared for it
    (:class:`nninit.figures.helper_process.Prepared`), not in the sweep's (scipy and matplotlib: seconds)."""
    from nninit.app.report import write_summary

    return write_summary(*args, **kwargs)


class SummarizeSweep(Callback):
    """At the end of a multirun, write the sweep summary and plots into the sweep folder.

    Every job returns normally (failures are recorded in its ``metrics.json`` by
    :func:`nninit.app.hydra.task.task`), so Hydra reaches ``on_multirun_end``; if something still
    prevents it, ``scripts/compare.py`` on the sweep folder writes the same files. The command exits 1
    when a job failed.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        unblock_stop_signals()  # the summary can be stopped (its files are written all or nothing)

        sweep_dir = config.hydra.sweep.dir
        summary = _SUMMARY.pop() if _SUMMARY else None
        try:
            arguments = ([sweep_dir], sweep_dir)
            options = {"title": f"Sweep {sweep_dir}"}
            table, written = (summary.call(_write_summary, *arguments, **options) if summary is not None
                              else _write_summary(*arguments, **options))
        except ValueError:  # no job has the numbers to summarize: every one failed
            log.error("No summary: no job of %s completed (%d failed; see their metrics.json)", sweep_dir,
                      len(_failed(sweep_dir)))
            raise SystemExit(1) from None
        except LookupError as error:
            log.error("No summary: %s", error)
            raise SystemExit(1) from None
        print(f"\n{table}\n")
        log.info("Sweep summary: %s", ", ".join(str(p) for p in written))
        failed = _failed(sweep_dir)
        if failed:
            log.error("%d job(s) failed: %s", len(failed), ", ".join(str(p[0]) for p in failed))
            raise SystemExit(1)
