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

from nninit.analysis import stats
from nninit.analysis.claims import decide, interval, quick_verdict, verdict_of_all
from nninit.analysis.mean_field import EXAMPLES, FLOOR_ORDERED, LATE, LINEAR, critical_from_chi, measure
from nninit.app.study import heading, load_runs, main, write_text
from nninit.figures.mean_field import plot_layers, plot_phase_diagram, plot_regions
from nninit.numerics import theory
from nninit.numerics.activations import TANH

NAME = "edge_of_chaos"
WIDTH, DEPTH = 300, 50
WEIGHT_VARIANCES = (1.0, 1.3, 1.6, 1.8, 2.0, 2.4, 3.0, 4.0)
BIAS_VARIANCES = (0.01, 0.05, 0.1, 0.2)
SEEDS = "1,2,3"
FIXED_BIAS, FIXED_SEEDS = 0.05, "1,2,3,4,5"
"""The row where the critical weight variance is measured, with more seeds."""
Q_TOLERANCE, Q_BIAS_TOLERANCE = 0.10, 0.02
CRITICAL_TOLERANCE = 0.05
QUICK = {"width": 60, "depth": 12, "weight_variances": (1.0, 1.8, 3.0), "bias_variances": (0.05,), "seeds": "1,2"}


# ---- the report -------------------------------------------------------------------------------------
def _fmt(mean: float, low: float, high: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "—"
    if not np.isfinite([low, high]).all():
        return f"{mean:.{digits}g}"
    return f"{mean:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


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
    target = theory.critical_weight_variance(TANH, bv)
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
        "asymptotic regime, too soon for a fit. Theory: `nninit.numerics.theory` (Poole et al. 2016; Schoenholz "
        "et al. 2017). Measured numbers are means over seeds with their 95 % t interval; `inf` when χ_c ≥ 1.", "",
        "| σ_w² | σ_b² | phase (theory) | seeds | q* theory | q* measured | χ₁ theory | χ₁ measured | ξ_c theory "
        "| ξ_c measured (χ_c) | ξ_c measured (decay fit) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    q_claims, rows, deviations = [], {}, []
    for (wv, bv), members in sorted(grid.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        scales = theory.depth_scales(TANH, wv, bv)
        chi = theory.chi1(TANH, wv, bv)
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
        quick_verdict(n_min) if quick else verdict_of_all([c[1] for c in q_claims])))

    fixed = min(bvs, key=lambda b: abs(b - FIXED_BIAS))
    parts, verdict = [], None
    for bv in [fixed] + [b for b in bvs if b != fixed]:
        by_seed: dict = {}
        for (wv, b), (members, _, _) in rows.items():
            if b == bv:
                for m in members:
                    by_seed.setdefault(m["seed"], []).append((wv, m["chi1"]))
        mean, low, high, n = interval([critical_from_chi(points) for points in by_seed.values()], stats.NON_NEGATIVE)
        target = theory.critical_weight_variance(TANH, bv)
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
              "![the output at initialization over the input plane: ordered, critical, chaotic]"
              "(decision_regions.png)", "",
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
