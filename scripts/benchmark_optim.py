"""Benchmark: one minibatch epoch of a digits-shaped problem through nninit's train() against a plain numpy loop.

    python scripts/benchmark_optim.py            # about 20 seconds; prints the table, writes benchmark_optim.json
    python scripts/benchmark_optim.py --repeats 5

The problem is scikit-learn's digits as ``data=digits`` gives it (64 features, the 1,437 examples of its
standardized training split, 10 classes, one-hot), a network of two hidden ReLU layers of width 100 with a
softmax output, and batches of 64 (22 of 64 and one of 29 an epoch). Each side trains one epoch
from the same He initialization: ``train()`` with ``num_iterations`` = one epoch of updates, recording only
the initial and final state (each a forward and backward pass over the whole training set, as train()
records them), and a plain loop written as a student would (fancy-indexed batches, dicts of arrays, the
same permutation and arithmetic), which computes the whole set's cost at the start and the end the same
way. The two give the same parameters (checked). Timings alternate the sides and report the median of
the repeats with its spread; the target is a ratio of at most 1.5. BLAS runs one thread unless
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS say otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

# one BLAS thread (unless set): matrices of 100 x 64 gain nothing from threads, and on a shared machine threads
# that wait for a busy core make the timings scatter by a factor of ten
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from nninit.data import load_dataset  # noqa: E402
from nninit.numerics.initializers import initialize_parameters  # noqa: E402
from nninit.numerics.optimizers import OPTIMIZERS  # noqa: E402
from nninit.numerics.training import TrainSettings, train  # noqa: E402

TARGET = 1.5
BATCH, WIDTH, LR, SHUFFLE_SEED = 64, 100, 0.01, 0


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The training split of ``data=digits``: inputs ``(64, 1437)``, one-hot labels ``(10, 1437)``."""
    data = load_dataset("digits")
    return data.X_train, data.Y_train


def _plain_passes(params: dict, X: np.ndarray, Y: np.ndarray, L: int) -> tuple[dict, float]:
    """Forward and backward passes of a ReLU net with a softmax output; returns the gradients and the cost."""
    A, caches = X, []
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        caches.append((A, Z))
        if l < L:
            A = np.maximum(Z, 0.0)
    ZL = caches[-1][1]
    E = np.exp(ZL - ZL.max(axis=0))
    A = E / E.sum(axis=0)
    cost = float(np.mean(np.log(E.sum(axis=0)) + ZL.max(axis=0) - (ZL * Y).sum(axis=0)))
    dZ, grads = (A - Y) / Y.shape[1], {}
    for l in range(L, 0, -1):
        A_prev, _ = caches[l - 1]
        grads[f"W{l}"], grads[f"b{l}"] = dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * (caches[l - 2][1] > 0)
    return grads, cost


def _plain_step(name: str, params: dict, grads: dict, state: dict, t: int) -> None:
    """The optimizers' rules on dicts of arrays (Sutskever et al. 2013; Kingma & Ba 2015)."""
    for k, g in grads.items():
        if name == "gd":
            params[k] -= LR * g
        elif name == "momentum":
            state["v"][k] = 0.9 * state["v"][k] - LR * g
            params[k] += state["v"][k]
        elif name == "nesterov":
            state["v"][k] = 0.9 * state["v"][k] - LR * g
            params[k] += 0.9 * state["v"][k] - LR * g
        else:
            state["m"][k] = 0.9 * state["m"][k] + 0.1 * g
            state["v"][k] = 0.999 * state["v"][k] + 0.001 * g * g
            m_hat, v_hat = state["m"][k] / (1 - 0.9**t), state["v"][k] / (1 - 0.999**t)
            params[k] -= LR * m_hat / (np.sqrt(v_hat) + 1e-8)


def plain_epoch(name: str, X: np.ndarray, Y: np.ndarray, params: dict) -> tuple[dict, list[float]]:
    """One epoch of minibatch training as a plain script would write it; the whole set's cost before and after."""
    params = {k: v.copy() for k, v in params.items()}
    L, m = len(params) // 2, X.shape[1]
    state = {s: {k: np.zeros_like(v) for k, v in params.items()} for s in ("v", "m")}
    costs = [_plain_passes(params, X, Y, L)[1]]
    order = np.random.RandomState(SHUFFLE_SEED).permutation(m)
    for t, start in enumerate(range(0, m, BATCH), start=1):
        index = order[start : start + BATCH]
        grads, _ = _plain_passes(params, X[:, index], Y[:, index], L)
        _plain_step(name, params, grads, state, t)
    costs.append(_plain_passes(params, X, Y, L)[1])
    return params, costs


def harness_epoch(name: str, X: np.ndarray, Y: np.ndarray, params: dict):
    updates = -(-X.shape[1] // BATCH)
    settings = TrainSettings(LR, updates, 10**9, optimizer=name, batch_size=BATCH, shuffle_seed=SHUFFLE_SEED)
    return train(X, Y, params, settings)


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(name: str, repeats: int) -> dict:
    X, Y = digits()
    params = initialize_parameters([64, WIDTH, WIDTH, 10], "he", np.random.RandomState(3))
    harness_epoch(name, X, Y, params), plain_epoch(name, X, Y, params)  # warm-up
    harness, plain = [], []
    for _ in range(repeats):  # alternated, so that drifts in the machine's speed hit both alike
        t = time.perf_counter()
        result = harness_epoch(name, X, Y, params)
        harness.append(time.perf_counter() - t)
        t = time.perf_counter()
        plain_params, costs = plain_epoch(name, X, Y, params)
        plain.append(time.perf_counter() - t)
    worst = max(float(np.max(np.abs(result.parameters[k] - plain_params[k]))) for k in params)
    h, p = spread(harness), spread(plain)
    return {"optimizer": name, "examples": X.shape[1], "harness_s": h, "plain_s": p, "ratio": h["median"] / p["median"],
            "max_abs_difference": worst, "final_cost": [result.history[-1]["cost"], costs[-1]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed epochs per side and optimizer (default 30)")
    parser.add_argument("--out", type=Path, help="write benchmark_optim.json into this folder")
    args = parser.parse_args(argv)
    rows = [measure(name, args.repeats) for name in OPTIMIZERS]
    print(f"One epoch of digits (64 x {rows[0]['examples']}, 10 classes), hidden [{WIDTH}, {WIDTH}], batch {BATCH}: "
          f"median of {args.repeats} "
          f"(min-max), target ratio <= {TARGET}")
    print("| optimizer | train() | plain numpy | ratio | max |difference| |\n|---|---|---|---|---|")
    for r in rows:
        h, p = r["harness_s"], r["plain_s"]
        mark = "" if r["ratio"] <= TARGET else " **MISSED**"
        print(f"| {r['optimizer']} | {h['median'] * 1e3:.2f} ms ({h['min'] * 1e3:.2f}-{h['max'] * 1e3:.2f}) | "
              f"{p['median'] * 1e3:.2f} ms ({p['min'] * 1e3:.2f}-{p['max'] * 1e3:.2f}) | {r['ratio']:.2f}{mark} | "
              f"{r['max_abs_difference']:.1e} |")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmark_optim.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
