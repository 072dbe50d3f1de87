"""The decision boundary as numbers: the predicted class over a grid of the input plane, without matplotlib.

A run with an animation keeps these grids, one per frame (:class:`BoundaryFrames`, saved as
``boundary_frames.npz``), instead of copies of its parameters: a frame is at most 96 × 96 bytes whatever the
network's width, and ``decision_boundary.gif`` is painted from them (:mod:`nninit.figures.boundary`).
"""

from __future__ import annotations

import numpy as np

from nninit.numerics.activations import Activation
from nninit.numerics.network import predict_proba
from nninit.numerics.outputs import predicted_class

GRID_FLOP_BUDGET = 5e9
"""Floating-point operations allowed for one decision-boundary grid; deep, wide networks get a coarser grid."""
FRAME_RESOLUTION = 96
"""Grid points per side of an animation frame, at most."""
BLANK = 255
"""The class stored where the parameters are not finite (a diverged run): painted blank."""


def grid_resolution(parameters: dict[str, np.ndarray], largest: int = 250, smallest: int = 40) -> int:
    """Points per side of the decision-boundary grid that fit :data:`GRID_FLOP_BUDGET`."""
    flops_per_point = 2 * sum(W.size for key, W in parameters.items() if key.startswith("W"))
    return int(np.clip(np.sqrt(GRID_FLOP_BUDGET / max(flops_per_point, 1)), smallest, largest))


def plane(X: np.ndarray, resolution: int, pad: float = 0.5):
    """``(grid, extent, shape)``: ``resolution`` × ``resolution`` points (2, r²) spanning the inputs ``X`` (2, m)
    with ``pad`` around them, the extent ``(x_min, x_max, y_min, y_max)`` and the grid's shape (r, r)."""
    x_min, x_max = X[0].min() - pad, X[0].max() + pad
    y_min, y_max = X[1].min() - pad, X[1].max() + pad
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    return np.vstack([xx.ravel(), yy.ravel()]), (x_min, x_max, y_min, y_max), xx.shape


def n_classes_of(parameters: dict[str, np.ndarray]) -> int:
    """The classes a network tells apart: its output units, 2 for a single sigmoid unit."""
    L = max(int(key[1:]) for key in parameters if key.startswith("W"))
    return max(2, parameters[f"W{L}"].shape[0])


def regions(parameters, grid, shape, activation, negative_slope) -> np.ndarray:
    """The predicted class (0.0, 1.0, ..., K - 1 as floats: above 0.5 for one sigmoid unit, the argmax of a
    softmax) on the grid, of shape ``shape``; NaN everywhere when the parameters are not finite (left blank)."""
    if not all(np.isfinite(p).all() for p in parameters.values()):
        return np.full(shape, np.nan)
    probabilities = predict_proba(grid, parameters, Activation(activation, negative_slope))
    return predicted_class(probabilities).reshape(shape).astype(float)


class BoundaryFrames:
    """The animation's frames as numbers: the predicted class over the plane at each snapshot.

    Parameters
    ----------
    X : ndarray of shape (2, m)
        The training inputs (the plane spans them).
    first_parameters : dict of str to ndarray
        The parameters of the first frame: they set the grid's resolution (at most :data:`FRAME_RESOLUTION`,
        fewer for networks too large to evaluate that many points: :func:`grid_resolution`).
    activation : str
    negative_slope : float
    """

    def __init__(self, X: np.ndarray, first_parameters: dict[str, np.ndarray], activation: str = "relu",
                 negative_slope: float = 0.01):
        resolution = min(FRAME_RESOLUTION, grid_resolution(first_parameters))
        self.grid, _, self.shape = plane(X, resolution)
        self.activation, self.negative_slope = activation, negative_slope
        self.n_classes = n_classes_of(first_parameters)
        self.iterations: list[int] = []
        self.classes: list[np.ndarray] = []

    def add(self, iteration: int, parameters: dict[str, np.ndarray], row: dict | None = None) -> None:
        """Evaluate the frame of ``iteration`` (a callback for :func:`nninit.numerics.training.train`'s
        ``on_snapshot``; ``row`` is not used: the captions come from ``history.csv``)."""
        found = regions(parameters, self.grid, self.shape, self.activation, self.negative_slope)
        self.iterations.append(int(iteration))
        self.classes.append(np.where(np.isnan(found), BLANK, found).astype(np.uint8))

    def arrays(self) -> dict[str, np.ndarray]:
        """``boundary_frames.npz``: ``iteration`` (T,) int64, ``classes`` (T, r, r) uint8 (0 to K - 1, or
        :data:`BLANK`), row 0 at the bottom of the plane, and ``n_classes`` (K, 2 for one sigmoid unit)."""
        return {"iteration": np.array(self.iterations, dtype=np.int64), "classes": np.stack(self.classes),
                "n_classes": np.array(self.n_classes, dtype=np.int64)}
