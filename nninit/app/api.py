"""The Python API (``nninit.run``, ``load``, ``sweep``, ``compare``, ``runs``): the command line's runs, sweeps,
comparisons and listings, from a notebook or a script, with the same config, checks and folders.

    >>> import nninit
    >>> r = nninit.run(init="he")                      # python run.py init=he
    >>> r.history["cost"][-1], r.metrics["test_accuracy"]
    >>> s = nninit.sweep(init=["zeros", "he"], seed=range(1, 6))   # python run.py -m init=zeros,he seed=1,2,3,4,5
    >>> print(s.which_is_best)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

from nninit.app.results import Run, Sweep
from nninit.app.sweep_process import run_sweep


def _value(value) -> str:
    """A Python value as Hydra's override grammar writes it (``True`` -> ``true``, a list -> ``[1,2]``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    return str(value)


def _overrides(overrides: Iterable[str] | None, options: Mapping) -> list[str]:
    """``["init=he", ...]`` and ``{"train.num_iterations": 5000}`` as one list of Hydra overrides.

    Raises
    ------
    TypeError
        When ``overrides`` is a single string (give a list: ``["init=he"]``) or holds something else.
    """
    if isinstance(overrides, str):
        raise TypeError(f"overrides={overrides!r}: give a list of overrides, e.g. [{overrides!r}], or keywords")
    listed = list(overrides or [])
    for o in listed:
        if not isinstance(o, str):
            raise TypeError(f"override {o!r} is not accepted: each override is a string KEY=VALUE, e.g. 'init=he'")
    return listed + [f"{key}={_value(value)}" for key, value in options.items()]


def run(overrides: Iterable[str] | None = None, /, *, run_dir: str | Path | None = None, **options) -> Run:
    """One run, as ``python run.py OVERRIDES`` does it: composed, checked, written and logged the same way.

    Parameters
    ----------
    overrides : list of str, optional
        Hydra command-line overrides, e.g. ``["init=he", "train.num_iterations=5000"]``.
    run_dir : str or Path, optional
        The run folder (``hydra.run.dir``); default ``outputs/<date>/<time>_<name>`` under the working folder.
    **options
        More overrides as keywords, dotted keys through ``**{}``: ``init="he"``,
        ``**{"train.num_iterations": 5000, "model.hidden_dims": [10, 5]}``.

    Returns
    -------
    Run
        The finished run folder, read back.

    Raises
    ------
    nninit.app.hydra.compose.Refused
        A value outside what is accepted, or a folder that already holds a run: the message ``run.py`` prints.
    hydra.errors.HydraException
        An unknown key or option, with Hydra's message.
    KeyboardInterrupt
        After the run folder recorded ``interrupted``.
    """
    from nninit.app.hydra.compose import run_in_process
    from nninit.app.hydra.naming import override

    args = _overrides(overrides, options)
    if run_dir is not None:
        args.append(override("hydra.run.dir", str(run_dir)))
    metrics = run_in_process([*args, "hydra.mode=RUN"])  # hydra.mode: as @hydra.main records a single run
    return Run(metrics.get("run_dir") or run_dir)


def load(folder: str | Path) -> Run | Sweep:
    """A finished run folder as a :class:`Run`, or a sweep folder (one with ``summary.md`` and job folders) as
    a :class:`Sweep`.

    Raises
    ------
    FileNotFoundError
        When ``folder`` is neither.
    """
    folder = Path(folder)
    if (folder / "metrics.json").is_file():
        return Run(folder)
    if (folder / "summary.md").is_file():
        return Sweep(folder)
    raise FileNotFoundError(f"{folder}: neither a run folder (metrics.json) nor a sweep folder (summary.md)")


def _swept(key: str, value) -> str:
    """``seed=range(1, 4)`` -> ``seed=1,2,3``; a single value as in :func:`run`."""
    if isinstance(value, (list, tuple, range)):
        return f"{key}=" + ",".join(_value(v) for v in value)
    return f"{key}={_value(value)}"


def sweep(overrides: Iterable[str] | None = None, /, *, sweep_dir: str | Path | None = None,
          launcher: str = "basic", progress: bool = True, **options) -> Sweep:
    """A sweep, as ``python run.py -m OVERRIDES`` does it (in a child process: see
    :mod:`nninit.app.sweep_process`): the same job folders, the same summary, the same checks.

    Parameters
    ----------
    overrides : list of str, optional
        Hydra overrides, swept ones comma-separated: ``["init=zeros,he", "seed=1,2,3"]``.
    sweep_dir : str or Path, optional
        The sweep folder (``hydra.sweep.dir``); default ``outputs/<date>/<time>_sweep`` under the working folder.
    launcher : {'basic', 'joblib', 'slurm'}, default='basic'
        Hydra's launcher: one job at a time, all cores (joblib), or a cluster.
    progress : bool, default=True
        A progress bar (``tqdm.auto``) instead of the jobs' log lines; False: the log as ``run.py -m`` prints it.
    **options
        Overrides as keywords; a list or range is swept: ``init=["zeros", "he"], seed=range(1, 6)``.

    Returns
    -------
    Sweep

    Raises
    ------
    ValueError
        For another launcher; :class:`~nninit.app.hydra.compose.Refused` (a ValueError) when the command is
        refused, with its message.
    nninit.app.sweep_process.SweepFailed
        When no summary could be written (every job failed).
    KeyboardInterrupt
        Forwarded to the sweep, which records what its jobs could; raised once it ended.
    """
    from nninit.app.hydra.naming import override, unique_dir

    if launcher not in ("basic", "joblib", "slurm"):
        raise ValueError(f"launcher={launcher!r} is not accepted: one of basic, joblib, slurm")
    args = _overrides(overrides, {})
    args += [_swept(key, value) for key, value in options.items()]
    if sweep_dir is None:
        now = dt.datetime.now()
        sweep_dir = unique_dir(f"outputs/{now:%Y-%m-%d}/{now:%H-%M-%S}_sweep")
    args.append(override("hydra.sweep.dir", str(sweep_dir)))
    if launcher != "basic":
        args.append(f"hydra/launcher={launcher}")
    run_sweep(args, Path(sweep_dir), progress)
    return Sweep(sweep_dir)


class Comparison:
    """What ``scripts/compare.py`` prints (:attr:`text`) and computes (:attr:`result`: the runs, groups,
    summaries and differences of :class:`nninit.analysis.compare.Comparison`)."""

    def __init__(self, result, text: str, markdown: str, written: list[Path]):
        self.result, self.text, self.markdown, self.written = result, text, markdown, written

    @property
    def which_is_best(self) -> str:
        """The "Which is best?" section: the verdict in words, with how sure it is."""
        return self.markdown.split("## Which is best?", 1)[1].split("\n## ", 1)[0].strip()

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.text


def compare(folders, *, group_by: str | list[str] | None = None, metric: str | list[str] | None = None,
            baseline: str | None = None, where: str | list[str] | None = None,
            out: str | Path | None = None) -> Comparison:
    """Compare finished runs as ``scripts/compare.py FOLDERS --group-by ... --metric ...`` does.

    Parameters
    ----------
    folders : path or list of paths
        Run folders and folders holding runs (searched recursively).
    group_by, baseline, where
        As ``--group-by``, ``--baseline`` and ``--where`` (:func:`nninit.app.report.write_summary`); one key or
        condition may be given as a string.
    metric : str or list of str, optional
        As ``--metric``: the first is the primary metric ("Which is best?" is about it).
    out : path, optional
        Also write the tables and figures there, as ``--out`` does.

    Raises
    ------
    LookupError
        When no run is found; ValueError for an unknown key, metric or condition (the script's messages).
    """
    from nninit.analysis.compare import summarize
    from nninit.analysis.summary import summary_text
    from nninit.app.report import write_comparison

    paths = [folders] if isinstance(folders, (str, Path)) else list(folders)
    metrics = [metric] if isinstance(metric, str) else list(metric or [])
    title = "Comparison of " + ", ".join(str(p) for p in paths)
    result = summarize(paths, group_by=_strings(group_by) or None, metrics=tuple(dict.fromkeys(metrics)) or None,
                       primary=metrics[0] if metrics else "test_accuracy", baseline=baseline, where=_strings(where))
    written = write_comparison(result, out, title=title)[1] if out is not None else []
    markdown, text = summary_text(result, title=title, plots=out is not None, quick=False)
    return Comparison(result, text, markdown, written)


def _strings(value: str | list[str] | None) -> list[str]:
    """A list of strings from one string or a list (a string is one item, not its characters)."""
    return [value] if isinstance(value, str) else list(value or [])


class Listing(list):
    """The runs ``scripts/runs.py`` lists (a list of :class:`Run`); printed as it prints them."""

    def __init__(self, runs: list, rows: list[dict], render):
        super().__init__(Run(r.path) for r in runs)
        self.rows, self._render = rows, render

    def __str__(self) -> str:
        return self._render(self.rows, "table")

    def _repr_markdown_(self) -> str:
        return self._render(self.rows, "md")


def runs(root: str | Path | list = "outputs", *, where: str | list[str] | None = None, sort: str = "started",
         reverse: bool = False) -> Listing:
    """The runs under ``root`` that meet every ``where`` condition, as ``scripts/runs.py ROOT --where ... --sort ...
    [--reverse]`` lists them; none, when none does (the script says so and exits 2).

    Parameters
    ----------
    root : path or list of paths, default="outputs"
    where : str or list of str, optional
        ``KEY=VALUE`` conditions, all of which must hold (one may be given as a string).
    sort : str, default="started"
        A column, a config key or a ``metrics.json`` number; runs without a value come last.
    reverse : bool, default=False
        The largest (or latest) first.

    Raises
    ------
    ValueError
        For a malformed condition or an unknown sort key (the script's messages).
    LookupError
        When no run is found under ``root``.
    """
    from nninit.record.runs.listing import listed, render, row

    _, selected = listed([root] if isinstance(root, (str, Path)) else list(root), _strings(where), sort,
                         reverse=reverse)
    return Listing(selected, [row(r) for r in selected], render)
