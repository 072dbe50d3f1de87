"""The update rules (train.optimizer), minibatches (train.batch_size, train.shuffle_seed) and weight decay.

The references here are written from the papers, independently of nninit.numerics.optimizers: heavy-ball
momentum as Sutskever et al. 2013 eq. 1-2, Nesterov momentum in their original look-ahead form (eq. 3-4,
not the reformulation the package uses), Adam as Kingma & Ba 2015 Algorithm 1.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import compose, numeric_gradient, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from nninit.numerics.activations import Activation
from nninit.numerics.initializers import initialize_parameters
from nninit.numerics.optimizers import OPTIMIZERS, Adam
from nninit.numerics.training import TrainSettings, train
from nninit.options import ConfigError

HYPER = {"momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


# ---- an independent network: plain numpy, the formulas written out ------------------------------------
def _binary_labels(rng, m):
    return (rng.uniform(size=(1, m)) > 0.5).astype(float)


def _binary_cost(ZL, Y):
    A = 1.0 / (1.0 + np.exp(-ZL))
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def _binary_output(ZL):
    return 1.0 / (1.0 + np.exp(-ZL))


def _one_hot_labels(rng, m, K=3):
    return np.eye(K)[rng.randint(K, size=m)].T


def _softmax_output(ZL):
    E = np.exp(ZL)  # small pre-activations here: the plain formula, without the shift the package uses
    return E / E.sum(axis=0)


def _categorical_cost(ZL, Y):
    return float(-np.mean(np.sum(Y * np.log(_softmax_output(ZL)), axis=0)))


OUTPUTS = {"sigmoid": (_binary_labels, _binary_cost, _binary_output, 1),
           "softmax": (_one_hot_labels, _categorical_cost, _softmax_output, 3)}
"""output -> (labels(rng, m), cost(ZL, Y), output(ZL), units)."""
HIDDEN = {"relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
          "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2)}


def _forward(params, X, g):
    L = len(params) // 2
    A, Zs, As = X, [], [X]
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        Zs.append(Z)
        A = g(Z) if l < L else Z
        As.append(A)
    return Zs, As


def _gradient(params, X, Y, activation, output, weight_decay=0.0):
    """Backpropagation of the mean cross-entropy (dZ = A - Y at the output), plus weight_decay * W."""
    g, dg = HIDDEN[activation]
    Zs, As = _forward(params, X, g)
    L, m = len(params) // 2, X.shape[1]
    dZ = (OUTPUTS[output][2](Zs[-1]) - Y) / m
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = dZ @ As[l - 1].T + weight_decay * params[f"W{l}"]
        grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * dg(Zs[l - 2])
    return grads


def _reference_steps(name, params, X, Y, activation, output, lr, steps, weight_decay=0.0):
    """``steps`` full-batch updates by the papers' rules, on dicts of arrays."""
    mu, b1, b2, eps = HYPER["momentum"], HYPER["beta1"], HYPER["beta2"], HYPER["epsilon"]
    theta = {k: v.copy() for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in theta.items()}
    m = {k: np.zeros_like(p) for k, p in theta.items()}
    for t in range(1, steps + 1):
        if name == "nesterov":  # Sutskever et al. eq. 3-4: the gradient at the look-ahead point theta + mu v
            ahead = {k: theta[k] + mu * v[k] for k in theta}
            g = _gradient(ahead, X, Y, activation, output, weight_decay)
        else:
            g = _gradient(theta, X, Y, activation, output, weight_decay)
        for k in theta:
            if name == "gd":
                theta[k] = theta[k] - lr * g[k]
            elif name in ("momentum", "nesterov"):
                v[k] = mu * v[k] - lr * g[k]
                theta[k] = theta[k] + v[k]
            else:  # adam
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
                theta[k] = theta[k] - lr * (m[k] / (1 - b1**t)) / (np.sqrt(v[k] / (1 - b2**t)) + eps)
    if name == "nesterov":  # the network is evaluated, and nninit stores, the look-ahead point
        theta = {k: theta[k] + mu * v[k] for k in theta}
    return theta


# ---- each optimizer's first three updates: the run's own files against the papers --------------------
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_first_three_updates_of_a_run_equal_the_papers_rules(name, tmp_path):
    from nninit.app.experiment import run

    cfg = compose([f"train.optimizer={name}", "train.num_iterations=3", "train.learning_rate=0.05",
                   "model.hidden_dims=[6,4]", "data.n_train=40", "data.n_test=10", "model.activation=tanh",
                   "train.weight_decay=0.01"])
    metrics = run(cfg, tmp_path, figures=False)
    assert metrics["status"] == "completed"
    with np.load(tmp_path / "params_init.npz") as f:
        init = dict(f)
    with np.load(tmp_path / "params_final.npz") as f:
        final = dict(f)
    with np.load(tmp_path / "data.npz") as f:
        X, Y = f["X_train"], f["Y_train"]
    expected = _reference_steps(name, init, X, Y, "tanh", "sigmoid", 0.05, 3, weight_decay=0.01)
    for key in init:
        np.testing.assert_allclose(final[key], expected[key], rtol=0, atol=1e-10, err_msg=key)
        assert not np.allclose(final[key], init[key], rtol=0, atol=1e-6), key  # it moved


# ---- end-to-end gradient checks: the loop's first step against centred differences ---------------------
def _numeric_gradient(params, X, Y, activation, output, weight_decay, h=1e-6):
    g = HIDDEN[activation][0]
    cost = OUTPUTS[output][1]

    def objective():
        penalty = 0.5 * weight_decay * sum(np.sum(p**2) for k, p in params.items() if k.startswith("W"))
        return cost(_forward(params, X, g)[0][-1], Y) + penalty

    return numeric_gradient(params, objective, h)


def _first_step(name, G, lr):
    """One step from zero state on the gradient G: what every rule does at t = 1."""
    mu, eps = HYPER["momentum"], 1e-3
    if name == "nesterov":
        return {k: -lr * (1 + mu) * g for k, g in G.items()}
    if name == "adam":
        return {k: -lr * g / (np.abs(g) + eps) for k, g in G.items()}
    return {k: -lr * g for k, g in G.items()}


@pytest.mark.parametrize("batch_size", [None, 7])
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("activation", list(HIDDEN))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_gradient_check_end_to_end(name, activation, output, batch_size):
    """The first update train() makes equals the rule applied to centred differences (float64, h = 1e-6)
    of the cost plus the L2 penalty, over the whole set or the first minibatch the seed draws."""
    labels, _, _, units = OUTPUTS[output]
    rng = np.random.RandomState(1)
    m, dims = 16, [3, 5, 4, units]
    X, Y = rng.standard_normal((3, m)), labels(rng, m)
    params = initialize_parameters(dims, "xavier", rng, gain=1.5)
    for l in range(1, len(dims)):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    lr, wd = 0.1, 0.05
    s = TrainSettings(lr, 1, optimizer=name, epsilon=1e-3, batch_size=batch_size, shuffle_seed=4, weight_decay=wd)
    moved = train(X, Y, params, s, Activation(activation)).parameters
    batch = slice(None) if batch_size is None else np.random.RandomState(4).permutation(m)[:batch_size]
    G = _numeric_gradient({k: v.copy() for k, v in params.items()}, X[:, batch], Y[:, batch], activation, output, wd)
    expected = _first_step(name, G, lr)
    for key in params:
        step = moved[key] - params[key]
        err = np.linalg.norm(step - expected[key]) / (np.linalg.norm(step) + np.linalg.norm(expected[key]))
        assert err < 1e-6, f"{key}: relative error {err:.1e}"


# ---- weight decay, Adam's step, the defaults, the settings' rules ---------------------------------------
def test_weight_decay_adds_lambda_w_to_the_weights_gradient_only(circles):
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    plain = train(circles.X_train, circles.Y_train, params, TrainSettings(0.1, 1)).parameters
    decayed = train(circles.X_train, circles.Y_train, params, TrainSettings(0.1, 1, weight_decay=0.3)).parameters
    for key in params:
        expected = plain[key] - (0.1 * 0.3 * params[key] if key.startswith("W") else 0.0)
        np.testing.assert_allclose(decayed[key], expected, rtol=1e-13, atol=1e-15, err_msg=key)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1e-6, 1e6).map(float) | st.floats(-1e6, -1e-6).map(float), min_size=1, max_size=20),
       st.floats(1e-4, 1.0), st.floats(0.01, 0.99), st.floats(0.01, 0.999))
def test_adams_first_step_is_the_learning_rate_per_coordinate(g, lr, beta1, beta2):
    """Kingma & Ba 2015, sec. 2.1: with bias correction the first step is -lr * g / (|g| + eps) ≈ -lr sign(g)."""
    g = np.array(g)
    theta = np.zeros_like(g)
    Adam(g.size, lr, beta1, beta2, 1e-8).step(theta, g.copy())
    np.testing.assert_allclose(theta, -lr * np.sign(g), rtol=1e-8 / 1e-6 * 1.01)


def test_the_defaults_are_the_notebooks_gradient_descent():
    s = TrainSettings(0.01, 10)
    assert (s.optimizer, s.batch_size, s.weight_decay) == ("gd", None, 0.0)
    assert (s.momentum, s.beta1, s.beta2, s.epsilon, s.shuffle_seed) == (0.9, 0.9, 0.999, 1e-8, 0)


@pytest.mark.parametrize("key, value", [
    ("optimizer", "sgd"), ("momentum", 1.0), ("momentum", -0.1), ("beta1", 0.0), ("beta1", 1.0), ("beta2", 1.0),
    ("epsilon", 0.0), ("batch_size", 0), ("batch_size", 2.5), ("shuffle_seed", -1), ("shuffle_seed", 2**32),
    ("weight_decay", -1e-3), ("weight_decay", float("nan")),
])
def test_settings_out_of_range_are_refused_by_name(key, value):
    with pytest.raises(ConfigError, match=f"^{key}="):
        TrainSettings(0.01, 10, **{key: value})
    with pytest.raises(ConfigError, match=f"^train.{key}="):
        from nninit.app.config import validate

        cfg = compose()
        cfg["train"][key] = value
        validate(cfg)


@pytest.mark.slow
def test_a_sweep_over_the_optimizers_with_minibatches_writes_runs_summary_and_figures(tmp_path):
    sweep_dir = tmp_path / "optimizers"
    run_cli(["-m", "train.optimizer=gd,momentum,nesterov,adam", "train.batch_size=50", "train.num_iterations=20",
             "train.print_every=10", "train.weight_decay=0.001", "data.n_train=100", "data.n_test=50",
             "plots.figures=true", f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path)
    with open(sweep_dir / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    assert sorted(r["group"] for r in runs) == sorted(f"train.optimizer={name}" for name in OPTIMIZERS)
    assert all(r["status"] == "completed" for r in runs)
    for run in runs:
        folder = sweep_dir / run["run_dir"]
        with open(folder / "history.csv", newline="") as f:
            history = list(csv.DictReader(f))
        assert [float(r["epoch"]) for r in history] == [0.0, 5.0, 10.0]  # 2 batches of 50 an epoch
        assert (folder / "cost.png").is_file() and (folder / "decision_boundary.png").is_file()
    summary = (sweep_dir / "summary.md").read_text()
    assert all(f"train.optimizer={name}" in summary for name in OPTIMIZERS)
    assert (sweep_dir / "cost_curves.png").is_file() and (sweep_dir / "accuracy.png").is_file()


@pytest.mark.slow
def test_the_epoch_benchmark_runs_and_both_loops_agree(tmp_path):
    """scripts/benchmark_optim.py (timings are not tested: the machine may be busy)."""
    import json
    import subprocess
    import sys

    from conftest import REPO

    subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark_optim.py"), "--repeats", "1", "--out",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    rows = json.loads((tmp_path / "benchmark_optim.json").read_text())
    assert [r["optimizer"] for r in rows] == list(OPTIMIZERS)
    assert all(r["max_abs_difference"] < 1e-12 and r["ratio"] > 0 for r in rows)
