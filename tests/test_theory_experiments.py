"""The theory experiments run with one command (``--quick``), say they are quick, decide nothing; their
measurements are checked against known values on small networks drawn here."""

import math

import numpy as np
import pytest
from conftest import assert_quick_and_undecided, run_experiment

from nninit.analysis import mean_field as E


@pytest.mark.slow
def test_edge_of_chaos_quick(tmp_path):
    out, report = run_experiment("edge_of_chaos", tmp_path, "--quick")
    assert_quick_and_undecided(report, 4)
    for name in ("edge_of_chaos_layers.png", "phase_diagram.png", "decision_regions.png"):
        assert (out / name).stat().st_size > 10_000
    assert "| 1.8 | 0.05 | critical | 2 |" in report  # the theory's phase, on the grid


@pytest.mark.slow
def test_dynamical_isometry_quick(tmp_path):
    out, report = run_experiment("dynamical_isometry", tmp_path, "--quick")
    assert_quick_and_undecided(report, 5)
    assert (out / "dynamical_isometry.png").is_file()
    # four weight/activation sweeps, each with its summary
    assert sorted(p.parent.relative_to(out).as_posix() for p in out.glob("*/*/summary.md")) == [
        "relu/gaussian", "relu/orthogonal", "tanh/gaussian", "tanh/orthogonal"]


@pytest.mark.slow
def test_deep_relu_quick(tmp_path):
    out, report = run_experiment("deep_relu", tmp_path, "--quick")
    assert_quick_and_undecided(report, 6)
    assert report.count("This is a reduced (quick) run: it decides nothing and ranks nothing.") == 2
    assert (out / "deep_relu.png").is_file() and (out / "depth_8" / "summary.md").is_file()


@pytest.mark.slow
def test_deep_relu_quick_checked_under_a_second_blas_kernel(tmp_path):
    """--check-kernel reruns the sweeps under another OpenBLAS kernel and tabulates every claim under both
    (a quick run decides nothing under either, so every verdict is kept)."""
    from test_platforms import selectable_kernels

    from nninit.record.blas import numerical_platform

    others = [k for k in selectable_kernels() if k != numerical_platform()["blas_kernel"]]
    if not others:
        pytest.skip(f"no second OpenBLAS kernel to select here (selectable: {selectable_kernels()})")
    out, report = run_experiment("deep_relu", tmp_path, "--quick", "--check-kernel", others[0])
    assert (out / f"kernel_{others[0]}" / "depth_8" / "summary.md").is_file()
    section = report.split(f"## Under another BLAS kernel: {others[0]}")[1]
    assert "6 of 6 verdicts kept, 0 flipped" in section and section.count("| kept |") == 6


# ---- the measurements, on networks drawn here (fast) ------------------------------------------------------
def test_jacobian_chi1_is_the_theorys_on_a_wide_network():
    from nninit.numerics import initializers as ini
    from nninit.numerics import theory
    from nninit.numerics.activations import Activation

    wv, bv, width, depth = 4.0, 0.05, 600, 24  # chaotic, xi_c = 7: the pairs reach c* by layer 12
    params = ini.initialize_parameters([2] + [width] * depth, "variance_scaling", np.random.RandomState(0),
                                       bias_std=math.sqrt(bv), scale=wv, distribution="normal")
    X = np.random.RandomState(1).standard_normal((2, 20))
    Z, A = [], X
    for l in range(1, depth + 1):
        Z.append(params[f"W{l}"] @ A + params[f"b{l}"])
        A = np.tanh(Z[-1])
    # the network module's forward gives the same numbers (its last layer here is the output)
    hidden = E.hidden_preactivations(params, X, Activation("tanh"))
    assert len(hidden) == depth - 1 and all(np.array_equal(a, b) for a, b in zip(hidden, Z))
    chi1 = np.exp(np.mean(np.log(E.jacobian_chi1(params, Z)[6:])))
    assert chi1 == pytest.approx(theory.chi1(Activation("tanh"), wv, bv), rel=0.03)
    chi_c = E.jacobian_chi_c(params, Z, 13)
    assert chi_c == pytest.approx(theory.depth_scales(Activation("tanh"), wv, bv).chi_c, rel=0.025)  # +1 % measured


def test_depth_scale_fit_recovers_an_exponential():
    d = 0.8 * np.exp(-np.arange(1, 51) / 6.0)
    assert E.fit_depth_scale(d, 1e-4) == pytest.approx(6.0, rel=1e-9)
    # a constant sequence does not decrease: inf by construction, whatever the rounding of its fitted
    # slope (seen as -1e-17 with one BLAS, +0 with another); tried over constants whose logs round differently
    for value in (0.05, 0.3, 1e-3, 0.0123456789, 0.999):
        assert E.fit_depth_scale(np.full(50, value), 1e-4) == math.inf
    assert E.fit_depth_scale(0.05 * (1 + 1e-3 * np.arange(50)), 1e-4) == math.inf  # an increase
    assert E.fit_depth_scale(0.05 * np.exp(-np.arange(50) / 1e4), 1e-4) == pytest.approx(1e4, rel=1e-6)  # a slow decay
    assert math.isnan(E.fit_depth_scale(np.full(50, 1e-6), 1e-4))


def test_critical_point_interpolation():
    # chi = exp(0.5 (w - 1.7)): log chi is linear, the crossing is exactly 1.7
    points = [(w, math.exp(0.5 * (w - 1.7))) for w in (1.0, 1.6, 1.8, 3.0)]
    assert E.critical_from_chi(points) == pytest.approx(1.7, rel=1e-12)
    assert math.isnan(E.critical_from_chi([(1.0, 0.5), (2.0, 0.9)]))


def test_jacobian_singular_values_of_orthogonal_linear_layers(tmp_path):
    """With tanh near 0 (tiny inputs, no bias) an orthogonal network's J is orthogonal: every singular value 1."""
    from nninit.numerics import initializers as ini
    from nninit.record import runfolder

    width, depth = 30, 6
    params = ini.initialize_parameters([width] * (depth + 1) + [1], "orthogonal", np.random.RandomState(0))
    runfolder.save_arrays(tmp_path / runfolder.PARAMS_INIT, params)
    runfolder.save_arrays(tmp_path / runfolder.DATA, {"X_train": 1e-7 * np.ones((width, 3))})

    class Run:
        path = tmp_path
        config = {"model.activation": "tanh"}

    s = E.jacobian_singular_values(Run(), examples=2)
    assert s.shape == (2 * width,)
    np.testing.assert_allclose(s, 1.0, atol=1e-9)
    # one ReLU layer: J = D W with W orthogonal, so J J^T = D: singular values 1 (active units) and 0 (dead)
    params = ini.initialize_parameters([width, width, 1], "orthogonal", np.random.RandomState(0))
    runfolder.save_arrays(tmp_path / runfolder.PARAMS_INIT, params)
    runfolder.save_arrays(tmp_path / runfolder.DATA, {"X_train": np.random.RandomState(2).standard_normal((width, 1))})
    Run.config = {"model.activation": "relu"}
    s = E.jacobian_singular_values(Run(), examples=1)
    active = int(np.sum(params["W1"] @ np.random.RandomState(2).standard_normal((width, 1)) > 0))
    assert np.sum(np.abs(s - 1.0) < 1e-9) == active and np.sum(s < 1e-9) == width - active
