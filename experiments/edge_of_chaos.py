"""Edge of chaos: deep tanh networks at initialization over the (sigma_w^2, sigma_b^2) plane, against mean-field theory.

Tanh networks 50 hidden layers deep and 300 wide with ``W ~ N(0, sigma_w^2 / fan_in)`` and ``b ~ N(0,
sigma_b^2)`` (``init=variance_scaling init.distribution=normal init.scale=sigma_w^2
init.bias_std=sigma_b``), at initialization, over a grid of 8 weight variances x 4 bias variances
(3 seeds; 5 on the row sigma_b^2 = 0.05, where the critical weight variance is measured): 112 runs.
From each run's saved weights the report measures, on 60 training points, the per-layer second
moment ``q_l``, the correlation ``c_l`` of pairs of inputs, the mean squared singular value
``chi_1`` of the layer Jacobians, the slope ``chi_c`` of the correlation map at its fixed point and
the depth scale ``xi_c``, and sets them beside :mod:`nninit.numerics.theory` (Poole et al. 2016;
Schoenholz et al. 2017). ``python experiments/edge_of_chaos.py --launcher joblib`` (112 runs, about
6 minutes on 2 free cores).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from common import heading, interval, load_runs, main, write_text
from depth_signal import decide

from nninit.analysis import stats
from nninit.figures.plots import POINT_COLORS, new_figure, save_figure
from nninit.numerics import theory
from nninit.numerics.activations import Activation
from nninit.numerics.network import predict_proba
from nninit.record import runfolder

NAME = "edge_of_chaos"
WIDTH, DEPTH = 300, 50
WEIGHT_VARIANCES = (1.0, 1.3, 1.6, 1.8, 2.0, 2.4, 3.0, 4.0)
BIAS_VARIANCES = (0.01, 0.05, 0.1, 0.2)
SEEDS = "1,2,3"
FIXED_BIAS, FIXED_SEEDS = 0.05, "1,2,3,4,5"
"""The row where the critical weight variance is measured, with more seeds."""
QUICK = {"width": 60, "depth": 12, "weight_variances": (1.0, 1.8, 3.0), "bias_variances": (0.05,), "seeds": "1,2"}
EXAMPLES = 60
"""Training points pushed through each network (their pairs give the correlations)."""
LATE = 0.5
"""q_l, chi_1 and chi_c are averaged over the last half of the layers (the transient of q_l is over)."""
Q_TOLERANCE, Q_BIAS_TOLERANCE = 0.10, 0.02
CRITICAL_TOLERANCE = 0.05
PICTURE_BIAS = 0.05
"""The bias variance of the layer-by-layer figure and of the decision regions."""
FLOOR_ORDERED, FLOOR_CHAOTIC, LINEAR = 1e-4, 0.02, 0.1
"""The fit of xi_c uses the layers where floor < |c_l - c*| <= LINEAR; 1 - c_l is measured to relative
precision, c_l around c* < 1 only to about 1/sqrt(width)."""


# ---- measurements from one run folder ----------------------------------------------------------------
def variances(run) -> tuple[float, float]:
    """(sigma_w^2, sigma_b^2) of a run, from its config."""
    return float(run.config["init.scale"]), round(float(run.config["init.bias_std"]) ** 2, 12)


def forward(run, examples: int = EXAMPLES) -> tuple[dict, list[np.ndarray], np.ndarray]:
    """The run's initial parameters, the hidden pre-activations ``Z_l`` (width x examples) and the inputs."""
    params = runfolder.load_arrays(run.path / runfolder.PARAMS_INIT)
    X = runfolder.load_arrays(run.path / runfolder.DATA)["X_train"][:, :examples]
    depth = len(params) // 2 - 1
    Z, A = [], X
    for l in range(1, depth + 1):
        z = params[f"W{l}"] @ A + params[f"b{l}"]
        Z.append(z)
        A = np.tanh(z)
    return params, Z, X


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
    params, Z, X = forward(run)
    scales = theory.depth_scales(Activation("tanh"), wv, bv)
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


# ---- theory curves ----------------------------------------------------------------------------------
def theory_curves(m: dict, depth: int, pairs: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean-field ``q_l`` (mean over the examples) and ``c_l`` of the first ``pairs`` pairs, iterated with
    :func:`nninit.numerics.theory.covariance_map` from each input's first layer ``sigma_w^2 x.x' / n_0 + sigma_b^2``."""
    wv, bv, X = m["wv"], m["bv"], m["X"]
    G = wv * X.T @ X / X.shape[0] + bv
    q = np.diag(G).copy()
    qs = [q.mean()]
    for _ in range(depth - 1):
        q = theory.length_map(Activation("tanh"), wv, bv, q)
        qs.append(q.mean())
    i, j = m["pairs"][0][:pairs], m["pairs"][1][:pairs]
    q1, q2, c = G[i, i], G[j, j], G[i, j] / np.sqrt(G[i, i] * G[j, j])
    cs = [c]
    for _ in range(depth - 1):
        q1, q2, c = theory.covariance_map(Activation("tanh"), wv, bv, q1, q2, c)
        cs.append(c)
    return np.arange(1, depth + 1), np.array(qs), np.array(cs)


# ---- the report -------------------------------------------------------------------------------------
def _fmt(mean: float, low: float, high: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "—"
    if not np.isfinite([low, high]).all():
        return f"{mean:.{digits}g}"
    return f"{mean:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


def critical_from_chi(points: list[tuple[float, float]]) -> float:
    """Where ``log chi_1`` crosses 0, linearly interpolated in sigma_w^2 between the two grid points
    that bracket it (NaN when none do)."""
    points = sorted(points)
    for (w0, x0), (w1, x1) in zip(points, points[1:]):
        if x0 < 1 <= x1:
            return w0 + (w1 - w0) * (0 - math.log(x0)) / (math.log(x1) - math.log(x0))
    return math.nan


def verdict_of_all(results: list[str]) -> str:
    """All of several sub-claims: holds if every one holds, does not hold if one does not, else not decided."""
    if any(r.startswith("not decided (quick") for r in results):
        return results[0]
    if all(r == "holds" for r in results):
        return "holds"
    if any(r == "does not hold" for r in results):
        return "does not hold"
    return next(r for r in results if r.startswith("not decided"))


def _xi_text(members: list[dict]) -> str:
    """The measured xi_c of a grid point: from the mean chi_c over seeds and its interval (xi_c is monotone
    in chi_c), ``inf`` where chi_c >= 1."""
    mean, low, high, _ = interval([m["chi_c"] for m in members], stats.NON_NEGATIVE)

    def xi(chi):
        return "inf" if chi >= 1 else "0" if chi <= 0 else f"{-1 / math.log(chi):.3g}"

    return f"{xi(mean)} [{xi(low)}, {xi(high)}]" if np.isfinite([low, high]).all() else xi(mean)


def _log_xi(v: float) -> float:
    if v == math.inf:
        return math.inf
    return math.log(v) if np.isfinite(v) and v > 0 else math.nan


def peak_claim(rows: dict, bv: float, quick: bool) -> tuple[str, str] | None:
    """Does the measured xi_c of the row sigma_b^2 = bv peak at the two grid points bracketing the critical
    sigma_w^2? Per other grid point, the paired-by-seed difference of log xi_c (peak minus it), t interval."""
    target = theory.critical_weight_variance(Activation("tanh"), bv)
    row = sorted(w for (w, b) in rows if b == bv)
    below, above = [w for w in row if w <= target], [w for w in row if w > target]
    if not below or not above or len(row) < 3:
        return None
    bracket = (below[-1], above[0])
    xi = {w: {m["seed"]: m["xi_c"] for m in rows[(w, bv)][0]} for w in row}
    seeds = sorted(set.intersection(*(set(v) for v in xi.values())))
    verdicts, worst = [], None
    for w in row:
        if w in bracket:
            continue
        gaps = np.array([max(_log_xi(xi[bracket[0]][s]), _log_xi(xi[bracket[1]][s])) - _log_xi(xi[w][s])
                         for s in seeds])
        gaps = np.where(np.isposinf(gaps), 10.0, gaps)  # no decay at the peak: as long as can be seen
        gaps = gaps[np.isfinite(gaps)]
        low, high, _ = stats.mean_interval(gaps)
        verdicts.append(decide(low, high, (0.0, math.inf), gaps.size, quick))
        mean = float(gaps.mean()) if gaps.size else math.nan
        if worst is None or not mean >= worst[0]:
            worst = (mean, low, high, w, gaps.size)
    if not verdicts:
        return None
    verdict = verdict_of_all(verdicts)
    g = worst
    return (f"σ_b² = {bv:g} (critical σ_w² {target:.3f}, bracketed by {bracket[0]:g} and {bracket[1]:g}): smallest "
            f"margin log ξ_c(peak) − log ξ_c(σ_w² = {g[3]:g}) = {g[0]:.2f} [95 % interval {g[1]:.2f}, {g[2]:.2f}], "
            f"n={g[4]} ({verdict})", verdict)


def report(out: Path, quick: bool = False) -> str:
    runs = load_runs(out, completed=True)
    ms = [measure(r) for r in runs]
    depth, width = len(ms[0]["q"]), ms[0]["width"]
    grid: dict[tuple[float, float], list[dict]] = {}
    for m in ms:
        grid.setdefault((m["wv"], m["bv"]), []).append(m)
    wvs, bvs = sorted({k[0] for k in grid}), sorted({k[1] for k in grid})
    reduced = (f"width {QUICK['width']} instead of {WIDTH}, depth {QUICK['depth']} instead of {DEPTH}, "
               f"{len(QUICK['weight_variances'])} weight variances instead of {len(WEIGHT_VARIANCES)}, "
               f"{len(QUICK['bias_variances'])} bias variance instead of {len(BIAS_VARIANCES)}, "
               f"{len(QUICK['seeds'].split(','))} seeds instead of {len(SEEDS.split(','))} "
               f"({len(FIXED_SEEDS.split(','))} at σ_b² = {FIXED_BIAS:g})")
    lines = heading("Edge of chaos: deep tanh networks at initialization, against mean-field theory", quick, reduced)
    late = int(depth * LATE) + 1
    lines += [
        f"Tanh networks {depth} hidden layers deep and {width} wide, `W ~ N(0, σ_w²/fan_in)`, `b ~ N(0, σ_b²)` "
        f"(`init=variance_scaling init.distribution=normal init.scale=σ_w² init.bias_std=σ_b`), at initialization: "
        f"{len(wvs)} weight variances × {len(bvs)} bias variances, {len(runs)} runs. Each network's saved weights are "
        f"applied to {EXAMPLES} training points of make_circles. Measured, over layers {late}–{depth} (after the "
        f"transient of q_l): `q*`, the mean second moment of the pre-activations; `χ₁`, the mean squared singular "
        f"value of the layer Jacobian `W_(l+1) D_l` (geometric mean over layers); `χ_c`, the same for a pair of "
        f"inputs, `(1/N) Σ_i φ'(z_ia) φ'(z_ib) |W_(l+1)[:, i]|²` over every pair (the slope of the correlation map "
        f"where the pairs are, at c*), and `ξ_c = −1/log χ_c`. In the ordered phase (c* = 1) `ξ_c` is also fitted "
        f"on the decay of `1 − c̄_l` (c̄_l the mean correlation of the pairs of inputs whose first-layer "
        f"correlation is below 0.7, fitted on the layers where `{FLOOR_ORDERED:g} < 1 − c̄_l ≤ {LINEAR:g}`); in the "
        f"chaotic phase `|c̄_l − c*|` meets the width-{width} noise (about 1/√width) within a few layers of the "
        f"asymptotic regime, too soon for a fit. Theory: `nninit.numerics.theory` (Poole et al. 2016; Schoenholz et al. "
        f"2017). Measured numbers are means over seeds with their 95 % t interval; `inf` when χ_c ≥ 1.", "",
        "| σ_w² | σ_b² | phase (theory) | seeds | q* theory | q* measured | χ₁ theory | χ₁ measured | ξ_c theory "
        "| ξ_c measured (χ_c) | ξ_c measured (decay fit) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    q_claims, rows, deviations = [], {}, []
    for (wv, bv), members in sorted(grid.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        scales = theory.depth_scales(Activation("tanh"), wv, bv)
        chi = theory.chi1(Activation("tanh"), wv, bv)
        phase = "ordered" if chi < 0.98 else ("chaotic" if chi > 1.02 else "critical")
        rows[(wv, bv)] = (members, scales, chi)
        rel = [m["q_star"] / scales.q_star - 1 for m in members]
        deviations += rel
        rel_mean, rel_low, rel_high, n = interval(rel)
        q_claims.append((abs(rel_mean), decide(rel_low, rel_high, (-Q_TOLERANCE, Q_TOLERANCE), n, quick),
                         wv, bv, rel_mean, rel_low, rel_high, n))
        qm, cm, fm = (interval([m[k] for m in members], stats.NON_NEGATIVE) for k in ("q_star", "chi1", "xi_c_fit"))
        lines.append(f"| {wv:g} | {bv:g} | {phase} | {len(members)} | {scales.q_star:.4g} | {_fmt(*qm[:3], 4)} | "
                     f"{chi:.4g} | {_fmt(*cm[:3], 4)} | {scales.xi_c:.3g} | {_xi_text(members)} | {_fmt(*fm[:3])} |")

    claims = []
    mean, low, high, n = interval(deviations)
    claims.append((
        f"On average over the grid the measured q* agrees with the theory's to within {100 * Q_BIAS_TOLERANCE:g}%: "
        f"mean relative deviation {100 * mean:+.2f}% [95 % interval {100 * low:+.2f}, {100 * high:+.2f}], n={n} runs "
        f"(Poole et al. 2016: the length map's fixed point)",
        decide(low, high, (-Q_BIAS_TOLERANCE, Q_BIAS_TOLERANCE), n, quick)))
    worst = max(q_claims)
    n_min = min(c[-1] for c in q_claims)
    claims.append((
        f"At every grid point the measured q* is within {100 * Q_TOLERANCE:g}% of the theory's ({len(q_claims)} "
        f"points, n ≥ {n_min} seeds each; a width-{width} network's q* varies by a few percent from seed to seed); "
        f"the largest deviation: {100 * worst[4]:+.2f}% [95 % interval {100 * worst[5]:+.2f}, {100 * worst[6]:+.2f}] "
        f"at σ_w² = {worst[2]:g}, σ_b² = {worst[3]:g}",
        f"not decided (quick run, n={n_min})" if quick else verdict_of_all([c[1] for c in q_claims])))

    fixed = min(bvs, key=lambda b: abs(b - FIXED_BIAS))
    parts, verdict = [], None
    for bv in [fixed] + [b for b in bvs if b != fixed]:
        by_seed: dict = {}
        for (wv, b), (members, _, _) in rows.items():
            if b == bv:
                for m in members:
                    by_seed.setdefault(m["seed"], []).append((wv, m["chi1"]))
        mean, low, high, n = interval([critical_from_chi(points) for points in by_seed.values()], stats.NON_NEGATIVE)
        target = theory.critical_weight_variance(Activation("tanh"), bv)
        text = f"{_fmt(mean, low, high, 4)} (n={n}) against {target:.4f}"
        if bv == fixed:
            verdict = decide(low, high, ((1 - CRITICAL_TOLERANCE) * target, (1 + CRITICAL_TOLERANCE) * target), n,
                             quick)
            parts.append(f"at σ_b² = {bv:g}: measured {text}")
        else:
            parts.append(f"σ_b² = {bv:g}: {text}")
    claims.append((f"The measured critical σ_w² (where the measured χ₁ crosses 1, interpolated between the grid "
                   f"points that bracket it, per seed) is within {100 * CRITICAL_TOLERANCE:g}% of "
                   f"`critical_weight_variance` {parts[0]}" + (f" (the other rows, not decided here: "
                   f"{'; '.join(parts[1:])})" if parts[1:] else "")
                   + " (Poole et al. 2016, Schoenholz et al. 2017: the order-to-chaos line)", verdict))

    peaks = [p for p in (peak_claim(rows, bv, quick) for bv in bvs) if p]
    if peaks:
        claims.append(("The measured ξ_c peaks at the critical line: in each row of the grid, the larger ξ_c of the "
                       "two grid points that bracket the critical σ_w² exceeds ξ_c at every other point (paired by "
                       "seed, on log ξ_c = log(−1/log χ_c); χ_c ≥ 1 counts as 10 above): "
                       + "; ".join(text for text, _ in peaks)
                       + " (Schoenholz et al. 2017: ξ_c diverges at the edge of chaos)",
                       verdict_of_all([v for _, v in peaks])))

    lines += ["", "## The theory's claims, measured", ""]
    lines += [f"- **{verdict}**: {text}" for text, verdict in claims]
    plot_layers(rows, out / "edge_of_chaos_layers.png")
    plot_phase_diagram(rows, out / "phase_diagram.png")
    plot_regions(rows, out / "decision_regions.png")
    lines += ["", "![q_l and c_l layer by layer against the theory](edge_of_chaos_layers.png)", "",
              "![phase diagram: measured ξ_c with the theory's critical line](phase_diagram.png)", "",
              "![the output at initialization over the input plane: ordered, critical, chaotic](decision_regions.png)", "",
              "The phase diagram's points mark where the usual schemes put a tanh network (biases zero): LeCun and "
              "Xavier (σ_w² = 1 for square layers) sit on the critical point of σ_b² = 0, He (σ_w² = 2) and Xavier "
              "with PyTorch's tanh gain 5/3 (σ_w² = 25/9) in the chaotic phase. The last figure shows what the phases "
              "mean for the function a network computes at initialization: its output pre-activation over the input "
              "plane (centred on its median, with the zero line: the decision boundary if the output bias put it "
              "there) is smooth when ordered, finely fragmented when chaotic.", "",
              "Per-run folders: one sweep per bias variance, `bias_*/`."]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


# ---- figures ----------------------------------------------------------------------------------------
def picture_points(rows) -> list[tuple[str, float, float]]:
    """An ordered, the most nearly critical and a chaotic grid point at PICTURE_BIAS (or the nearest bias)."""
    bv = min({b for _, b in rows}, key=lambda b: abs(b - PICTURE_BIAS))
    row = sorted(w for w, b in rows if b == bv)
    target = theory.critical_weight_variance(Activation("tanh"), bv)
    critical = min(row, key=lambda w: abs(w - target))
    return [("ordered", row[0], bv), ("near critical", critical, bv), ("chaotic", row[-1], bv)]


def plot_layers(rows, path: Path) -> None:
    fig = new_figure(12.0, 4.2)
    ax_q, ax_c = fig.subplots(1, 2)
    for k, (phase, wv, bv) in enumerate(picture_points(rows)):
        members, _, _ = rows[(wv, bv)]
        layers, q_theory, c_theory = theory_curves(members[0], len(members[0]["q"]))
        color = f"C{k}"
        for n, m in enumerate(members):
            ax_q.plot(layers, m["q"], color=color, alpha=0.5, linewidth=1,
                      label=f"{phase}: σ_w² = {wv:g}, measured" if n == 0 else None)
        ax_q.plot(layers, q_theory, color=color, linestyle="--", linewidth=2, label="theory" if k == 0 else None)
        m = members[0]
        for p in range(c_theory.shape[1]):
            ax_c.plot(layers, m["c"][:, p], color=color, alpha=0.6, linewidth=1,
                      label=f"{phase}: σ_w² = {wv:g}" if p == 0 else None)
            ax_c.plot(layers, c_theory[:, p], color=color, linestyle="--", linewidth=1.5)
    ax_q.set(xlabel="hidden layer", ylabel="q_l = E[z²]", title=f"second moment (σ_b² = {bv:g}); dashed: theory")
    ax_c.set(xlabel="hidden layer", ylabel="c_l", title="correlation of three pairs of inputs; dashed: theory")
    for ax in (ax_q, ax_c):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def _edges(v) -> np.ndarray:
    v = np.asarray(v, float)
    if v.size == 1:
        return np.array([v[0] - 0.05 * max(v[0], 1.0), v[0] + 0.05 * max(v[0], 1.0)])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[max(0.0, v[0] - (mid[0] - v[0]))], mid, [v[-1] + (v[-1] - mid[-1])]])


def plot_phase_diagram(rows, path: Path) -> None:
    wvs, bvs = sorted({w for w, _ in rows}), sorted({b for _, b in rows})
    xi = np.full((len(bvs), len(wvs)), np.nan)
    for (w, b), (members, _, _) in rows.items():
        chi_c = float(np.mean([m["chi_c"] for m in members]))
        xi[bvs.index(b), wvs.index(w)] = -1 / math.log(chi_c) if chi_c < 1 else np.nan
    fig = new_figure(7.0, 4.8)
    ax = fig.subplots()
    bv_edges = _edges(bvs)
    mesh = ax.pcolormesh(_edges(wvs), bv_edges, np.log10(xi), cmap="viridis", shading="flat")
    fig.colorbar(mesh, ax=ax, label="log10 measured ξ_c (layers)")
    b_line = np.linspace(0.0, bv_edges[-1], 60)
    w_line = [theory.critical_weight_variance(Activation("tanh"), b) for b in b_line]
    ax.plot(w_line, b_line, color="w", linewidth=2.5)
    ax.plot(w_line, b_line, color="k", linewidth=1.2, label="theory: χ₁ = 1 (edge of chaos)")
    for name, w, marker in (("LeCun, Xavier", 1.0, "o"), ("He", 2.0, "s"), ("Xavier, gain 5/3", 25 / 9, "^")):
        ax.plot([w], [0.0], marker=marker, color="r", markersize=8, linestyle="none", label=f"{name} (σ_b² = 0)",
                clip_on=False)
    ax.set(xlabel="σ_w² (weight variance × fan_in)", ylabel="σ_b² (bias variance)", ylim=(0, bv_edges[-1]),
           title="Measured ξ_c = −1/log χ_c: ordered left of the line, chaotic right")
    ax.legend(fontsize=7, loc="upper left")
    save_figure(fig, path)


def plot_regions(rows, path: Path, resolution: int = 150) -> None:
    """The output pre-activation of an ordered, a near-critical and a chaotic network over the input plane,
    centred on its median (the colour) with its zero contour: the decision regions the network would have
    if the output bias put the boundary at the median (the raw regions are often one class everywhere)."""
    points = picture_points(rows)
    fig = new_figure(4.2 * len(points), 4.0)
    axes = np.atleast_1d(fig.subplots(1, len(points)))
    for ax, (phase, wv, bv) in zip(axes, points):
        run = rows[(wv, bv)][0][0]["run"]
        params = runfolder.load_arrays(run.path / runfolder.PARAMS_INIT)
        data = runfolder.load_arrays(run.path / runfolder.DATA)
        X, Y = data["X_train"], data["Y_train"]
        lo, hi = X.min(axis=1) - 0.5, X.max(axis=1) + 0.5
        xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
        proba = predict_proba(np.vstack([xx.ravel(), yy.ravel()]), params, Activation("tanh"))
        with np.errstate(divide="ignore"):
            logit = np.log(proba) - np.log1p(-proba)
        z = (logit - np.median(logit)).reshape(xx.shape)
        top = np.max(np.abs(z)) or 1.0
        ax.imshow(z, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="RdBu", vmin=-top, vmax=top,
                  aspect="auto", interpolation="nearest")
        ax.contour(xx, yy, z, levels=[0.0], colors="k", linewidths=0.6)
        for label in (0, 1):
            on = Y.ravel() == label
            ax.scatter(X[0, on], X[1, on], color=POINT_COLORS[label], s=5, edgecolors="w", linewidths=0.2)
        ax.set(title=f"{phase}: σ_w² = {wv:g}, σ_b² = {bv:g}", xlabel="$x_1$", ylabel="$x_2$")
    save_figure(fig, path)


# ---- the sweeps -------------------------------------------------------------------------------------
def sweeps(args) -> list[tuple[list[str], str]]:
    if args.quick:
        width, depth, wvs, bvs, seeds = (QUICK["width"], QUICK["depth"], QUICK["weight_variances"],
                                         QUICK["bias_variances"], QUICK["seeds"])
    else:
        width, depth, wvs, bvs, seeds = WIDTH, DEPTH, WEIGHT_VARIANCES, BIAS_VARIANCES, SEEDS
    dims = f"[{','.join([str(width)] * depth)}]"
    return [(["init=variance_scaling", "init.distribution=normal", "init.mode=fan_in",
              f"init.scale={','.join(map(str, wvs))}", f"init.bias_std={math.sqrt(bv)!r}", "model.activation=tanh",
              f"model.hidden_dims={dims}", "train.num_iterations=0",
              f"seed={FIXED_SEEDS if bv == FIXED_BIAS and not args.quick else seeds}"], f"bias_{bv:g}")
            for bv in bvs]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, args.quick)))
