"""The figures' common ground: matplotlib imported whatever ``MPLBACKEND`` says, a figure on the Agg
canvas, its atomic save, and the styles every figure shares (colours, log axes, a run's label).

Uses matplotlib's object-oriented API (``matplotlib.figure.Figure`` with the Agg canvas), so no
global pyplot state is touched and no figure is left open. Importing this module imports matplotlib.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np


def _import_matplotlib(env=os.environ) -> None:
    """Import matplotlib whatever ``MPLBACKEND`` says: nninit only writes files, on the Agg canvas
    whatever the backend, but matplotlib's import stops with a ValueError on a backend it does not
    know (``MPLBACKEND=inline`` outside Jupyter). Such a value is replaced by Agg, for this process
    and the ones it starts, with one warning naming it; a valid one is kept for the user's own plots."""
    if "matplotlib" in sys.modules:
        return
    backend = env.pop("MPLBACKEND", None)
    try:
        import matplotlib
    finally:
        if backend is not None:
            env["MPLBACKEND"] = backend
    if backend:
        try:
            matplotlib.rcParams["backend"] = backend  # what matplotlib's import does with MPLBACKEND
        except ValueError:
            env["MPLBACKEND"] = "agg"
            logging.getLogger(__name__).warning(
                "MPLBACKEND=%s is not a matplotlib backend; nninit draws its figures with Agg (it only "
                "writes files)", backend)


_import_matplotlib()
from matplotlib.colors import ListedColormap  # noqa: E402, F401  (after the backend is checked; for boundary.py)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from nninit.record import runfolder  # noqa: E402

DPI = 100
REGION_COLORS = ("#f6c3a8", "#b9d7ea")  # predicted class 0, 1 (light)
POINT_COLORS = ("#b2182b", "#2166ac")  # label 0, 1 (strong)
LINE_STYLES = ("-", "--", ":", "-.")


def new_figure(width: float = 6.0, height: float = 4.0, *, layout: str | None = "constrained", dpi: int = DPI):
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot, nothing to close). ``layout=None``
    for a fixed layout (faster: set the margins with ``fig.subplots_adjust``)."""
    return Figure(figsize=(width, height), layout=layout, dpi=dpi)


def warm_up() -> None:
    """Load what the first figure of a process would otherwise load while it is drawn: the font
    cache, the glyphs and the mathtext parser (about 0.1 s). A run's processes call it while they
    wait for something else."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = new_figure(1.0, 1.0, layout=None)
    fig.text(0.5, 0.5, "warm-up 0.1 $x_1$")
    FigureCanvasAgg(fig).draw()


def save_figure(fig, path: Path, dpi: int = DPI) -> None:
    """Write ``fig`` as a PNG atomically."""
    with warnings.catch_warnings():
        # many panels or long labels can leave no room for the layout engine; the figure is still drawn
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        runfolder.atomic_write(Path(path), lambda f: fig.savefig(f, format="png", dpi=dpi))


def spans_decades(values: np.ndarray) -> bool:
    """True when the positive finite ``values`` span more than a factor of 10 (use a log axis)."""
    v = values[np.isfinite(values) & (values > 0)]
    return v.size > 1 and v.max() / v.min() > 10.0


def group_styles(n: int) -> list[tuple[str, str]]:
    """``n`` distinguishable (colour, line style) pairs: tab10 up to 10, tab20 up to 20, then
    tab10 colours crossed with four line styles."""
    if n <= 10:
        return [(f"C{k}", "-") for k in range(n)]
    if n <= 20:
        from matplotlib import colormaps

        return [(colormaps["tab20"](k), "-") for k in range(n)]
    return [(f"C{k % 10}", LINE_STYLES[(k // 10) % len(LINE_STYLES)]) for k in range(n)]


def log_axis(ax, values: np.ndarray, axis: str = "y") -> None:
    """A log axis when ``values`` span decades; with plain decimal tick labels (0.2, 0.5, not
    2×10⁻¹) when they span fewer than three."""
    if not spans_decades(values):
        return
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    v = values[np.isfinite(values) & (values > 0)]
    if v.max() / v.min() < 1e3:
        target = ax.yaxis if axis == "y" else ax.xaxis
        target.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        target.set_minor_formatter(FuncFormatter(lambda x, _: f"{x:g}" if f"{x:.0e}"[0] in "25" else ""))


def plot_series(ax, x: np.ndarray, y: np.ndarray, **style) -> None:
    """A line with small markers; a single point is drawn as a point, with an axis around it."""
    if len(x) == 1:
        point = {k: v for k, v in style.items() if k != "linestyle"}
        ax.plot(x, y, marker="o", linestyle="none", markersize=6, **point)
        ax.set_xlim(x[0] - 1, x[0] + 1)
    else:
        ax.plot(x, y, marker="o" if len(x) <= 40 else None, markersize=2.5, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def run_label(metrics: dict) -> str:
    """How a run is named in titles: its ``name``, else the command-line overrides (what makes it
    differ from the defaults), else 'defaults'; with the status when it did not complete."""
    label = metrics.get("name") or " ".join(o for o in metrics.get("overrides", []) if not o.startswith("hydra"))
    label = label or f"init={metrics.get('init', '?')} (defaults)"
    if len(label) > 70:
        label = label[:67] + "..."
    status = metrics.get("status")
    return label if status in ("completed", "running", None) else f"{label} ({status})"
