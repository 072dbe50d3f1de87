"""Mean-field measurements of a deep network at initialization, from its run folder.

From a run's saved initial weights (``params_init``) and training inputs: the per-layer second moment
``q_l`` and correlation ``c_l`` of pairs of inputs (Poole et al. 2016), the mean squared singular value
``chi_1`` of the layer Jacobians, the slope ``chi_c`` of the correlation map at its fixed point and the
depth scale ``xi_c`` (Schoenholz et al. 2017), and the singular values of the input-output Jacobian
(Pennington et al. 2017), set beside :mod:`nninit.numerics.theory`. The pre-activations come from
:func:`nninit.numerics.network.forward`, the harness's own forward pass.
"""

from __future__ import annotations

import math

import numpy as np

from nninit.numerics import theory
from nninit.numerics.activations import TANH, Activation
from nninit.numerics.network import Cache, forward
from nninit.record import runfolder

EXAMPLES = 60
"""Training points pushed through each network (their pairs give the correlations)."""
LATE = 0.5
"""q_l, chi_1 and chi_c are averaged over the last half of the layers (the transient of q_l is over)."""
FLOOR_ORDERED, FLOOR_CHAOTIC, LINEAR = 1e-4, 0.02, 0.1
"""The fit of xi_c uses the layers where floor < |c_l - c*| <= LINEAR; 1 - c_l is measured to relative
precision, c_l around c* < 1 only to about 1/sqrt(width)."""


def hidden_preactivations(params: dict, X: np.ndarray, activation: Activation) -> list[np.ndarray]:
    """The hidden layers' pre-activations ``Z_1 ... Z_(L-1)``, each ``(n[l], m)``, of the network
    ``params`` on the inputs ``X`` of shape ``(n_x, m)`` (:func:`nninit.numerics.network.forward`)."""
    cache = Cache([X.shape[0]] + [params[f"b{l}"].shape[0] for l in range(1, len(params) // 2 + 1)], X)
    with np.errstate(over="ignore"):  # the output's sigmoid, not used here
        forward(params, cache, activation)
    return cache.Z[1:-1]


def variances(run) -> tuple[float, float]:
    """(sigma_w^2, sigma_b^2) of a run, from its config."""
    return float(run.config["init.scale"]), round(float(run.config["init.bias_std"]) ** 2, 12)


def initial_preactivations(run, examples: int = EXAMPLES) -> tuple[dict, list[np.ndarray], np.ndarray]:
    """The run's initial parameters, the hidden pre-activations ``Z_l`` (width x examples) of its tanh network
    at its first ``examples`` training inputs, and those inputs."""
    params = runfolder.load_arrays(run.path / runfolder.PARAMS_INIT)
    X = runfolder.load_arrays(run.path / runfolder.DATA)["X_train"][:, :examples]
    return params, hidden_preactivations(params, X, TANH), X


def far_pairs(Z1: np.ndarray, c_star: float, gap: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of inputs whose first-layer correlation starts at least ``gap`` below c* (above it when fewer
    than 5 such pairs exist), so that every pair approaches c* from the same side and ``|c_l - c*|``
    starts large enough to be followed over many layers."""
    C = Z1.T @ Z1
    c = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    i, j = np.triu_indices(c.shape[0], 1)
    keep = c[i, j] <= c_star - gap
    if keep.sum() < 5:
        keep = c[i, j] >= c_star + gap
    return i[keep], j[keep]


def correlations(Z: list[np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``c_l`` of each pair at each layer, shape (layers, pairs)."""
    out = []
    for z in Z:
        sq = np.einsum("ij,ij->j", z, z)
        out.append(np.einsum("ij,ij->j", z[:, i], z[:, j]) / np.sqrt(sq[i] * sq[j]))
    return np.array(out)


def jacobian_chi1(params: dict, Z: list[np.ndarray]) -> np.ndarray:
    """Per hidden layer l (but the last), the mean squared singular value of the Jacobian
    ``d z_(l+1) / d z_l = W_(l+1) D_l`` (``D_l = diag(tanh'(z_l))``): ``||W D||_F^2 / width``, averaged
    over the examples (its mean-field value is chi_1; Pennington et al. 2017)."""
    out = []
    for l, z in enumerate(Z[:-1], start=1):
        column_norms = np.sum(params[f"W{l + 1}"] ** 2, axis=0)
        out.append(np.mean(column_norms @ (1.0 - np.tanh(z) ** 2) ** 2) / z.shape[0])
    return np.array(out)


def jacobian_chi_c(params: dict, Z: list[np.ndarray], first: int) -> float:
    """The measured slope of the correlation map at its fixed point: ``(1/width) sum_i tanh'(z_ia) tanh'(z_ib)
    |W_(l+1)[:, i]|^2`` averaged over every pair of inputs ``a != b`` and the hidden layers from ``first`` on
    (but the last), where the pairs have reached c*. Its mean-field value is ``chi_c = sigma_w^2 E[phi'(u1)
    phi'(u2)]`` at (q*, c*) (Schoenholz et al. 2017; Price's theorem); at c* = 1 it is chi_1."""
    values = []
    for l in range(first, len(Z)):
        d = 1.0 - np.tanh(Z[l - 1]) ** 2
        column_norms = np.sum(params[f"W{l + 1}"] ** 2, axis=0)
        K = (d * column_norms[:, None]).T @ d / d.shape[0]
        m = K.shape[0]
        values.append((K.sum() - np.trace(K)) / (m * (m - 1)))
    return float(np.exp(np.mean(np.log(values))))


def fit_depth_scale(d: np.ndarray, floor: float, linear: float = LINEAR) -> float:
    """``xi`` from ``d_l ~ exp(-l / xi)``: least squares of ``log d_l`` on the layer ``l`` (from the second)
    over the layers where ``floor < d_l <= linear`` (the asymptotic regime, where the correlation map is
    linear around c*, above the finite-width noise); over all layers with ``d_l > floor`` when fewer
    than 3 are that close (a slow decay). NaN with fewer than 3 layers; inf when ``d`` does not decrease
    measurably: when the fitted fall of ``log d`` across the window is within the rounding of the logs
    themselves (a constant sequence gives inf whatever sign its fitted slope's rounding error has)."""
    layers = np.arange(1, d.size + 1)
    usable = (layers >= 2) & (d > floor)
    window = usable & (d <= linear)
    if window.sum() < 3:
        window = usable
    if window.sum() < 3:
        return math.nan
    log_d = np.log(d[window])
    slope = np.polyfit(layers[window], log_d, 1)[0]
    fall = -slope * np.ptp(layers[window])  # the fitted decrease of log d over the window
    rounding = 64 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(log_d)))) * log_d.size
    return math.inf if fall <= rounding else -1.0 / slope


def measure(run) -> dict:
    """Everything the report needs from one run."""
    wv, bv = variances(run)
    params, Z, X = initial_preactivations(run)
    scales = theory.depth_scales(TANH, wv, bv)
    q = np.array([np.mean(z * z) for z in Z])
    i, j = far_pairs(Z[0], scales.c_star)
    c = correlations(Z, i, j)
    d = np.abs(c.mean(axis=1) - scales.c_star)
    floor = FLOOR_ORDERED if scales.c_star == 1.0 else FLOOR_CHAOTIC
    chi = jacobian_chi1(params, Z)
    late = int(len(Z) * LATE)
    chi_c = jacobian_chi_c(params, Z, late + 1)
    return {"wv": wv, "bv": bv, "seed": run.config["seed"], "q": q, "q_star": float(np.mean(q[late:])),
            "chi1": float(np.exp(np.mean(np.log(chi[late:])))), "chi_c": chi_c,
            "xi_c": math.inf if chi_c >= 1 else -1.0 / math.log(chi_c),
            "xi_c_fit": fit_depth_scale(d, floor) if scales.c_star == 1.0 else math.nan,
            "c": c, "pairs": (i, j), "X": X, "width": Z[0].shape[0], "run": run}


def theory_curves(m: dict, depth: int, pairs: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean-field ``q_l`` (mean over the examples) and ``c_l`` of the first ``pairs`` pairs, iterated with
    :func:`nninit.numerics.theory.covariance_map` from each input's first layer ``sigma_w^2 x.x' / n_0 + sigma_b^2``."""
    wv, bv, X = m["wv"], m["bv"], m["X"]
    G = wv * X.T @ X / X.shape[0] + bv
    q = np.diag(G).copy()
    qs = [q.mean()]
    for _ in range(depth - 1):
        q = theory.length_map(TANH, wv, bv, q)
        qs.append(q.mean())
    i, j = m["pairs"][0][:pairs], m["pairs"][1][:pairs]
    q1, q2, c = G[i, i], G[j, j], G[i, j] / np.sqrt(G[i, i] * G[j, j])
    cs = [c]
    for _ in range(depth - 1):
        q1, q2, c = theory.covariance_map(TANH, wv, bv, q1, q2, c)
        cs.append(c)
    return np.arange(1, depth + 1), np.array(qs), np.array(cs)


def critical_from_chi(points: list[tuple[float, float]]) -> float:
    """Where ``log chi_1`` crosses 0, linearly interpolated in sigma_w^2 between the two grid points
    that bracket it (NaN when none do)."""
    points = sorted(points)
    for (w0, x0), (w1, x1) in zip(points, points[1:]):
        if x0 < 1 <= x1:
            return w0 + (w1 - w0) * (0 - math.log(x0)) / (math.log(x1) - math.log(x0))
    return math.nan


def jacobian_singular_values(run, examples: int = 6) -> np.ndarray:
    """Singular values of ``J = prod_l D_l W_l`` (input to the last hidden layer's activation; Pennington
    et al. 2017, eq. 2) at the first ``examples`` training inputs of a tanh or ReLU run, pooled: shape
    (examples * width,)."""
    params = runfolder.load_arrays(run.path / runfolder.PARAMS_INIT)
    X = runfolder.load_arrays(run.path / runfolder.DATA)["X_train"][:, :examples]
    activation = Activation(run.config["model.activation"], run.config.get("model.negative_slope", 0.01))
    out = []
    for k in range(X.shape[1]):
        J = np.eye(X.shape[0])
        for l, z in enumerate(hidden_preactivations(params, X[:, k:k + 1], activation), start=1):
            if activation.name == "tanh":
                a = np.tanh(z)
                d = 1.0 - a * a
            else:
                d = (z > 0).astype(float)
            J = (d * params[f"W{l}"]) @ J
        out.append(np.linalg.svd(J, compute_uv=False))
    return np.concatenate(out)
