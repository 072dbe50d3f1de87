"""What the Python API returns: a finished run (:class:`Run`) and a finished sweep (:class:`Sweep`), both read
from their folders, so that ``nninit.load(folder)`` gives the same object as the call that made it.

Figures are matplotlib ``Figure`` objects drawn by :mod:`nninit.figures` (no pyplot: nothing is left open);
in a notebook they show inline (:func:`show_figures_inline`).
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

import numpy as np

from nninit.record import runfolder

PARAMETER_FILES = {"init": runfolder.PARAMS_INIT, "final": runfolder.PARAMS_FINAL}
"""``Run.parameters(which)``: which -> file of the run folder."""


def show_figures_inline() -> None:
    """In IPython, show a matplotlib ``Figure`` as its PNG (the figures of :mod:`nninit.figures` use no pyplot,
    so IPython's own inline support does not know them). Does nothing outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    def png(fig) -> bytes:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()

    shell.display_formatter.formatters["image/png"].for_type(Figure, png)


class History(dict):
    """``history.csv`` by column: name -> float array of shape (T,), one value per recorded iteration."""

    def to_pandas(self):
        """The history as a ``pandas.DataFrame`` (one column per recorded quantity).

        Raises
        ------
        ImportError
            When pandas is not installed (``pip install pandas``).
        """
        try:
            import pandas
        except ImportError as error:
            raise ImportError("History.to_pandas() needs pandas, which is not installed: pip install pandas") from error
        return pandas.DataFrame(dict(self))


def _shown(figures: dict[str, Path], name: str, owner: str):
    """``figures[name]`` as an ``IPython.display.Image``; a KeyError naming those there are otherwise."""
    from IPython.display import Image

    if name not in figures:
        raise KeyError(f"figure {name!r}: this {owner} has {', '.join(figures) or 'none'}")
    return Image(filename=str(figures[name]))


class Run:
    """A run folder, read back: its config, metrics, history, parameters, data set and figures.

    Parameters
    ----------
    folder : str or Path
        A run folder (it holds ``metrics.json``).

    Raises
    ------
    FileNotFoundError
        When ``folder`` holds no ``metrics.json``.
    """

    def __init__(self, folder: str | Path):
        self.path = Path(folder).resolve()
        self.metrics: dict = runfolder.read_json(self.path / runfolder.METRICS)

    @property
    def config(self) -> dict:
        """The run's configuration (nested dict, without the control keys), as recorded."""
        return self.metrics.get("config", {})

    @property
    def status(self) -> str | None:
        """``completed``, ``diverged``, ``interrupted``, ``failed`` (or ``running``)."""
        return self.metrics.get("status")

    @property
    def history(self) -> History:
        """``history.csv``: column name -> array of shape (T,); ``iteration``, ``cost`` (cross-entropy in nats,
        before that iteration's update), the accuracies and the diagnostics recorded."""
        return History(runfolder.read_history(self.path / runfolder.HISTORY))

    def parameters(self, which: str = "final") -> dict[str, np.ndarray]:
        """The weights and biases ``W1, b1, W2, ...`` (``W[l]`` of shape (n[l], n[l-1]), ``b[l]`` (n[l], 1)).

        Parameters
        ----------
        which : {'init', 'final'}

        Raises
        ------
        ValueError
            For another ``which``.
        """
        if which not in PARAMETER_FILES:
            raise ValueError(f"which={which!r} is not accepted: one of {', '.join(PARAMETER_FILES)}")
        return runfolder.load_arrays(self.path / PARAMETER_FILES[which])

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The data set the run trained on: ``X_train`` (n_features, m), ``Y_train`` (1, m), ``X_test``, ``Y_test``."""
        return runfolder.load_arrays(self.path / runfolder.DATA)

    def plot_cost(self):
        """The train and test cost and accuracy over training (``cost.png``), as a matplotlib ``Figure``."""
        from nninit.figures.plots import run_label, training_figure

        show_figures_inline()
        from nninit.data import majority_rate

        return training_figure(self.history, f"Training: {run_label(self.metrics)}",
                               chance=majority_rate(self.data["Y_train"]))

    def plot_decision_boundary(self, ax=None):
        """The predicted regions with the train (filled) and test (hollow) points, drawn on ``ax`` (a new figure
        when None) by :func:`nninit.figures.boundary.draw_decision_boundary`; returns the ``Figure``."""
        from nninit.figures.boundary import draw_decision_boundary
        from nninit.figures.style import new_figure, run_label

        show_figures_inline()
        if ax is None:
            ax = new_figure(5.5, 5.2).subplots()
        data, model = self.data, self.config["model"]
        draw_decision_boundary(ax, self.parameters("final"), data["X_train"], data["Y_train"], model["activation"],
                               model["negative_slope"], X_test=data["X_test"], Y_test=data["Y_test"])
        ax.set_title(run_label(self.metrics), fontsize=9)
        return ax.figure

    def animation(self):
        """``decision_boundary.gif`` (the regions while the run trained) as an ``IPython.display.Image``.

        Raises
        ------
        FileNotFoundError
            When the run drew no animation (``plots.animation=false``, or a sweep's job).
        """
        from IPython.display import Image

        gif = self.path / "decision_boundary.gif"
        if not gif.exists():
            raise FileNotFoundError(f"{gif}: this run drew no animation (plots.animation=true draws one)")
        return Image(filename=str(gif))

    @property
    def figures(self) -> dict[str, Path]:
        """The figures the run drew, by name: ``cost``, ``decision_boundary``, ``confusion_matrix``,
        ``predictions``, ``signal_propagation``, ``layer_stats`` (those its data and settings called for)."""
        return {p.stem: p for p in sorted(self.path.glob("*.png"))}

    def figure(self, name: str):
        """One of :attr:`figures` as an ``IPython.display.Image`` (e.g. ``confusion_matrix`` of a real data set).

        Raises
        ------
        KeyError
            For a figure this run does not have; the message lists those it has.
        """
        return _shown(self.figures, name, "run")

    def _facts(self) -> list[tuple[str, str]]:
        m = self.metrics

        def pct(v):
            return "-" if v is None else f"{100 * v:.1f} %"

        cost = m.get("final_cost")
        return [("folder", str(self.path)), ("init", str(m.get("init"))), ("status", str(self.status)),
                ("iterations", str(m.get("iterations_run"))), ("final cost", "-" if cost is None else f"{cost:.6g}"),
                ("train accuracy", pct(m.get("train_accuracy"))), ("test accuracy", pct(m.get("test_accuracy")))]

    def _repr_markdown_(self) -> str:
        return "**nninit run**\n\n| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in self._facts())

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in self._facts())
        return f"<b>nninit run</b><table>{rows}</table>"

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status!r})"


class Sweep:
    """A sweep folder, read back: its runs, its summary (``summary.md``: "Which is best?", the grouped table)
    and its figures, as ``python run.py -m`` wrote them (:class:`nninit.app.hydra.callbacks.SummarizeSweep`).

    Parameters
    ----------
    folder : str or Path
        A sweep folder (job folders below it).
    """

    def __init__(self, folder: str | Path):
        self.path = Path(folder).resolve()

    @property
    def runs(self) -> list[Run]:
        """The job folders' runs, in job order."""
        from nninit.record.runs import find_runs

        return [Run(r.path) for r in find_runs([self.path])[0]]

    @property
    def summary(self) -> str:
        """``summary.md``: the whole written comparison (Markdown)."""
        return (self.path / "summary.md").read_text(encoding="utf-8")

    @property
    def which_is_best(self) -> str:
        """The "Which is best?" section of the summary: the verdict, in words, with how sure it is."""
        return self.summary.split("## Which is best?", 1)[1].split("\n## ", 1)[0].strip()

    @property
    def table(self) -> list[dict]:
        """``summary.csv``: one row per group (means, 95 % intervals, n), values as text."""
        with open(self.path / "summary.csv", encoding="utf-8", newline="") as file:
            return list(csv.DictReader(file))

    @property
    def figures(self) -> dict[str, Path]:
        """The comparison figures written (``cost_curves``, ``accuracy``, ``differences``, ``decision_boundaries``)."""
        from nninit.analysis.summary import FIGURE_FILES

        return {Path(name).stem: self.path / name for name in FIGURE_FILES if (self.path / name).exists()}

    def figure(self, name: str):
        """One of :attr:`figures` as an ``IPython.display.Image``.

        Raises
        ------
        KeyError
            For a figure this sweep does not have; the message lists those it has.
        """
        return _shown(self.figures, name, "sweep")

    def _repr_markdown_(self) -> str:
        return f"**nninit sweep** `{self.path}`: {len(self.runs)} runs\n\n## Which is best?\n\n{self.which_is_best}"

    def __repr__(self) -> str:
        return f"Sweep({str(self.path)!r})"
