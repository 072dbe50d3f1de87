"""Dynamical isometry: the input-output Jacobian's singular values at the edge of chaos, orthogonal against Gaussian.

Pennington, Schoenholz & Ganguli 2017 ("Resurrecting the sigmoid in deep learning through dynamical
isometry"): at a critical point of tanh (chi_1 = 1) with a small q*, orthogonal weights keep the
singular values of ``J = d x_L / d x_0 = prod_l D_l W_l`` near 1 at any depth, Gaussian weights
spread them more and more as depth grows; ReLU networks cannot be isometric (D_l zeroes half the
directions), orthogonal or not. Networks 200 wide at depths 4 ... 128, 5 seeds, at initialization:
tanh at (sigma_w^2, sigma_b^2) on the critical line with sigma_b^2 = 1e-4 (q* = 0.046), and ReLU
with He's (2, 0); inputs are 200-dimensional Gaussians with second moment q* per coordinate, so the
signal starts at the fixed point (``data=gaussian_quantiles data.n_features=200 data.cov=...``).
``python experiments/dynamical_isometry.py --launcher joblib`` (120 runs, a few minutes).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats as sps

from nninit.analysis import stats
from nninit.analysis.claims import decide, interval
from nninit.analysis.mean_field import jacobian_singular_values
from nninit.app.study import heading, load_runs, main, write_text
from nninit.figures.plots import new_figure, save_figure
from nninit.numerics import theory
from nninit.numerics.activations import TANH

NAME = "dynamical_isometry"
WIDTH = 200
DEPTHS = (4, 8, 16, 32, 64, 128)
SEEDS = "1,2,3,4,5"
TANH_BIAS_VARIANCE = 1e-4
RELU = (2.0, 0.0)
EXAMPLES = 6
"""Inputs at which each network's Jacobian is computed (their singular values are pooled)."""
NEAR = 2.0
"""'Near 1': the 5th and the 95th percentile of the singular values within a factor NEAR of 1."""
QUICK = {"width": 40, "depths": (2, 8), "seeds": "1,2"}


def critical_tanh() -> tuple[float, float, float]:
    """(sigma_w^2, sigma_b^2, q*) of the tanh critical point used."""
    wv = theory.critical_weight_variance(TANH, TANH_BIAS_VARIANCE)
    return wv, TANH_BIAS_VARIANCE, theory.q_star(TANH, wv, TANH_BIAS_VARIANCE)


def spread(s: np.ndarray) -> dict:
    """The percentiles, the largest singular value, and the mean and variance of the eigenvalues ``s**2`` of
    ``J J^T`` (Pennington et al. 2017 measure the spread by that variance; its mean is chi_1**depth = 1
    at criticality). ReLU's J has exact zeros (dead units), so only the variance is a spread for it."""
    p5, p95 = np.percentile(s, [5, 95])
    sq = s * s
    return {"p5": p5, "p95": p95, "max": s.max(), "mean_sq": float(np.mean(sq)),
            "log_var": math.log10(max(float(np.var(sq)), 1e-300))}


def _label(run) -> tuple[str, str]:
    init = "orthogonal" if run.config["init.name"] == "orthogonal" else "Gaussian"
    return run.config["model.activation"], init


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a − mean of b with Welch's 95 % interval."""
    if a.size < 2 or b.size < 2:
        return float(a.mean() - b.mean()), math.nan, math.nan
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    return float(a.mean() - b.mean()), float(ci.low), float(ci.high)


def report(out: Path, quick: bool = False) -> str:
    runs = load_runs(out, completed=True)
    table: dict[tuple[str, str, int], list[dict]] = {}
    singular: dict[tuple[str, str, int], np.ndarray] = {}
    for r in runs:
        s = jacobian_singular_values(r, EXAMPLES)
        key = (*_label(r), len(r.metrics["layers_dims"]) - 2)
        table.setdefault(key, []).append(spread(s))
        singular.setdefault(key, s)
    depths = sorted({k[2] for k in table})
    width = runs[0].metrics["layers_dims"][1]
    wv, bv, q = critical_tanh()
    reduced = (f"width {QUICK['width']} instead of {WIDTH}, depths {', '.join(map(str, QUICK['depths']))} instead of "
               f"{', '.join(map(str, DEPTHS))}, {len(QUICK['seeds'].split(','))} seeds instead of "
               f"{len(SEEDS.split(','))}")
    lines = heading("Dynamical isometry: the Jacobian's singular values against depth", quick, reduced)
    lines += [f"Networks {width} wide at initialization, at depths {', '.join(map(str, depths))}. tanh at the critical "
              f"point σ_w² = {wv:.4f}, σ_b² = {bv:g} (χ₁ = 1, q* = {q:.4f}, from `nninit.numerics.theory`), with "
              f"Gaussian weights (`init=variance_scaling init.distribution=normal init.scale=σ_w²`) or orthogonal ones "
              f"(`init=orthogonal init.gain=σ_w`); ReLU with He's σ_w² = 2, σ_b² = 0, Gaussian or orthogonal "
              f"(gain √2). Inputs: {width}-dimensional Gaussians whose second moment puts the first layer at q*. "
              f"For each network, the singular values s of `J = ∏ D_l W_l` at {EXAMPLES} inputs, pooled; the spread is "
              f"the variance of s² (the eigenvalues of `J Jᵀ`, whose mean is χ₁^depth = 1 here), shown as "
              f"log10 var(s²), and the 5th and 95th percentiles s₅, s₉₅ (ReLU's J has exact zeros: half its units "
              f"are off). Numbers are means over seeds [95 % t interval].", "",
              "| activation | weights | depth | seeds | s₅ | s₉₅ | largest s | mean s² | log10 var(s²) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(table, key=lambda k: (k[0] != "tanh", k[1], k[2])):
        rows = table[key]

        def f(name, digits=3, rows=rows):  # log10 var(s²) can be negative; the singular values cannot
            bounds = stats.UNBOUNDED if name == "log_var" else stats.NON_NEGATIVE
            m, lo, hi, _ = interval([r[name] for r in rows], bounds)
            return f"{m:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]" if np.isfinite(lo) else f"{m:.{digits}g}"

        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {len(rows)} | {f('p5')} | {f('p95')} | {f('max')} | "
                     f"{f('mean_sq')} | {f('log_var')} |")

    claims = []
    deepest, shallowest = depths[-1], depths[0]

    def values(act, init, depth, name="log_var"):
        return np.array([r[name] for r in table.get((act, init, depth), [])])

    ortho_p5, ortho_p95 = values("tanh", "orthogonal", deepest, "p5"), values("tanh", "orthogonal", deepest, "p95")
    if ortho_p5.size:
        m5, lo5, hi5, n = interval(np.log10(ortho_p5))
        m95, lo95, hi95, _ = interval(np.log10(ortho_p95))
        band = (-math.log10(NEAR), math.log10(NEAR))
        v5, v95 = decide(lo5, hi5, band, n, quick), decide(lo95, hi95, band, n, quick)
        verdict = v5 if v5 == v95 else ("does not hold" if "does not hold" in (v5, v95) else
                                        next(v for v in (v5, v95) if v != "holds"))
        claims.append((f"Orthogonal tanh at the critical point stays near 1 at depth {deepest}: s₅ = {10 ** m5:.3f} "
                       f"[95 % interval {10 ** lo5:.3f}, {10 ** hi5:.3f}], s₉₅ = {10 ** m95:.3f} [{10 ** lo95:.3f}, "
                       f"{10 ** hi95:.3f}], n={n}; both within a factor {NEAR:g} of 1? (Pennington et al. 2017)",
                       verdict))
    for act, init in (("tanh", "Gaussian"), ("tanh", "orthogonal"), ("relu", "Gaussian"), ("relu", "orthogonal")):
        deep, shallow = values(act, init, deepest), values(act, init, shallowest)
        if deep.size and shallow.size:
            d, lo, hi = _welch(deep, shallow)
            expected = "no isometry for ReLU, orthogonal or not" if act == "relu" else (
                "Gaussian weights cannot keep isometry" if init == "Gaussian" else "measured for comparison")
            if act == "tanh" and init == "orthogonal":
                continue
            claims.append((f"{init} {act}: the spread grows from depth {shallowest} to {deepest}: log10 var(s²) "
                           f"{deep.mean():.2f} against {shallow.mean():.2f}, difference {d:+.2f} [95 % Welch interval "
                           f"{lo:+.2f}, {hi:+.2f}], n={deep.size}, {shallow.size} ({expected}; Pennington et al. 2017)",
                           decide(lo, hi, (0.0, math.inf), min(deep.size, shallow.size), quick)))
    gauss, ortho = values("tanh", "Gaussian", deepest), values("tanh", "orthogonal", deepest)
    if gauss.size and ortho.size:
        d, lo, hi = _welch(gauss, ortho)
        claims.append((f"At depth {deepest}, tanh's spread is larger with Gaussian than with orthogonal weights: "
                       f"difference in log10 var(s²) {d:+.2f} [95 % Welch interval {lo:+.2f}, {hi:+.2f}], "
                       f"n={gauss.size}, {ortho.size} (Pennington et al. 2017, Fig. 1)",
                       decide(lo, hi, (0.0, math.inf), min(gauss.size, ortho.size), quick)))
    lines += ["", "## The paper's claims, measured", ""]
    lines += [f"- **{verdict}**: {text}" for text, verdict in claims]
    plot(table, singular, depths, out / "dynamical_isometry.png")
    lines += ["", "![spread against depth, and the singular values at the largest depth](dynamical_isometry.png)", "",
              "Per-run folders: `tanh/` and `relu/` (one sweep each)."]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def plot(table, singular, depths, path: Path) -> None:
    fig = new_figure(12.0, 4.2)
    ax_s, ax_h = fig.subplots(1, 2)
    combos = sorted({k[:2] for k in table})
    for k, combo in enumerate(combos):
        ds = [d for d in depths if (*combo, d) in table]
        means, lows, highs = [], [], []
        for d in ds:
            m, lo, hi, _ = interval([r["log_var"] for r in table[(*combo, d)]])
            means.append(m)
            lows.append(m - lo if np.isfinite(lo) else 0.0)
            highs.append(hi - m if np.isfinite(hi) else 0.0)
        ax_s.errorbar(ds, means, yerr=[lows, highs], marker="o", capsize=3, color=f"C{k}",
                      label=f"{combo[0]}, {combo[1]}")
        s = singular.get((*combo, depths[-1]))
        if s is not None:
            positive = s[s > 0]
            bins = np.logspace(max(np.log10(positive.min()), -12), np.log10(positive.max()) + 1e-9, 50)
            ax_h.hist(np.clip(positive, bins[0], None), bins=bins, histtype="step", color=f"C{k}", linewidth=1.5,
                      label=f"{combo[0]}, {combo[1]}")
    ax_s.set(xscale="log", xlabel="depth (hidden layers)", ylabel="log10 var(s²), mean over seeds [95 %]",
             title="Spread of the Jacobian's singular values")
    ax_s.set_xticks(depths, [str(d) for d in depths])
    ax_h.set(xscale="log", xlabel="singular value of J", ylabel="count (one network, pooled inputs)",
             title=f"Singular values at depth {depths[-1]}")
    ax_h.axvline(1.0, color="k", linewidth=0.8, linestyle=":")
    for ax in (ax_s, ax_h):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)


def sweeps(args) -> list[tuple[list[str], str]]:
    width, depths, seeds = (QUICK["width"], QUICK["depths"], QUICK["seeds"]) if args.quick else (WIDTH, DEPTHS, SEEDS)
    dims = ",".join(f"[{','.join([str(width)] * d)}]" for d in depths)
    wv, bv, q = critical_tanh()
    common = [f"model.hidden_dims=choice({dims})", "train.num_iterations=0", f"seed={seeds}", "data=gaussian_quantiles",
              f"data.n_features={width}", "data.n_train=20", "data.n_test=20"]
    tanh = (["model.activation=tanh", f"data.cov={(q - bv) / wv!r}", f"init.bias_std={math.sqrt(bv)!r}"], wv)
    relu = (["model.activation=relu", "data.cov=1.0", "init.bias_std=0.0"], RELU[0])
    out = []
    for name, (extra, variance) in (("tanh", tanh), ("relu", relu)):
        # one sweep per weight distribution: the init groups have different keys
        out.append(([*common, *extra, "init=variance_scaling", "init.distribution=normal", "init.mode=fan_in",
                     f"init.scale={variance!r}"], f"{name}/gaussian"))
        out.append(([*common, *extra, "init=orthogonal", f"init.gain={math.sqrt(variance)!r}"], f"{name}/orthogonal"))
    return out


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, args.quick)))
