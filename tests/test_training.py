"""The training loop: recorded iterations, divergence, interruption, no side effects."""

import json
import logging
import math
import time
import warnings

import numpy as np
import pytest
from conftest import compose

import nninit.numerics.training as training
from nninit.app.experiment import run
from nninit.numerics.activations import Activation
from nninit.numerics.initializers import initialize_parameters
from nninit.numerics.recording import diagnostics, on_test_set
from nninit.numerics.training import TrainSettings, train


def _he(layers_dims=(2, 10, 5, 1)):
    return initialize_parameters(list(layers_dims), "he", np.random.RandomState(3))


def test_records_every_print_every_and_the_final_state(circles):
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 250, 100))
    assert [row["iteration"] for row in result.history] == [0, 100, 200, 250]
    assert result.iterations_run == 250 and result.status == "completed"


def test_input_parameters_are_not_modified(circles):
    params = _he()
    copy = {k: v.copy() for k, v in params.items()}
    train(circles.X_train, circles.Y_train, params, TrainSettings(0.01, 10, 5))
    assert all(np.array_equal(params[k], copy[k]) for k in params)


def test_zero_iterations_evaluates_the_initial_network(circles):
    params = _he()
    result = train(circles.X_train, circles.Y_train, params, TrainSettings(0.01, 0))
    assert [row["iteration"] for row in result.history] == [0]
    assert result.iterations_run == 0
    assert all(np.array_equal(params[k], result.parameters[k]) for k in params)


def test_divergence_is_a_recorded_result(circles):
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(1e300, 500, 50), records=[diagnostics])
    assert result.status == "diverged"
    assert result.diverged_at is not None and result.diverged_at <= 100
    assert result.history[-1]["iteration"] == result.diverged_at
    finite_parameters = all(np.isfinite(p).all() for p in result.parameters.values())
    assert not np.isfinite(result.history[-1]["cost"]) or not finite_parameters


def test_a_parameter_going_infinite_is_a_divergence_even_while_the_cost_stays_finite(caplog):
    """One ReLU unit that dies in one overflowing step: its bias becomes -inf, its output 0, the cost 0.

    Iteration 0: the output is wrong and saturated (cost 1e10), so the unit's bias gets the gradient
    1e10 and the step 1e300 * 1e10 overflows to inf: b1 = -inf. From iteration 1 on the unit outputs 0,
    the output pre-activation is -1e300 on a label 0, the cost is exactly 0 and every gradient is 0.
    The loop sees the infinite parameter at the next recorded iteration, 5, and stops there.
    """
    X, Y = np.array([[1.0]]), np.array([[0.0]])
    params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]]), "W2": np.array([[1e10]]), "b2": np.array([[0.0]])}
    with caplog.at_level(logging.INFO, logger="nninit.numerics.training"):
        result = train(X, Y, params, TrainSettings(1e300, 20, 5))
    assert [(row["iteration"], row["cost"]) for row in result.history] == [(0, 1e10), (5, 0.0)]
    assert result.status == "diverged" and result.diverged_at == 5 and result.iterations_run == 5
    assert result.parameters["b1"][0, 0] == -np.inf and np.isfinite(result.parameters["W2"]).all()
    assert caplog.messages[0] == "Cost after iteration 0: 10000000000.0"
    assert caplog.messages[-1] == "Diverged at iteration 5: the cost or a parameter is not finite (cost 0.0)"


def test_the_log_is_the_notebooks(caplog):
    """'Cost after iteration i: <cost>' at every recorded iteration before the last (the final state is not logged)."""
    X, Y = np.array([[0.5, -1.0, 2.0, 0.1]]), np.array([[1.0, 0.0, 1.0, 0.0]])
    with caplog.at_level(logging.INFO, logger="nninit.numerics.training"):
        result = train(X, Y, _he((1, 3, 1)), TrainSettings(0.1, 25, 10))
    assert [row["iteration"] for row in result.history] == [0, 10, 20, 25]
    assert caplog.messages == [f"Cost after iteration {row['iteration']}: {row['cost']}" for row in result.history[:3]]


def test_the_saturation_note_counts_the_examples_on_the_wrong_side_once(caplog):
    """Outputs exactly 1.0 on a label 0 or exactly 0.0 on a label 1 are where the notebook's log(A) gives inf."""
    X = np.array([[1.0, 1.0, -1.0, -1.0, 1e-4]])  # Z = 1000 x: sigmoid exactly 1, 1, 0, 0, and 0.52
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])  # wrong, right, wrong, right, unsaturated
    params = {"W1": np.array([[1000.0]]), "b1": np.array([[0.0]])}
    with caplog.at_level(logging.INFO, logger="nninit.numerics.training"):
        result = train(X, Y, params, TrainSettings(1e-6, 20, 10))
    notes = [m for m in caplog.messages if m.startswith("Note:")]
    assert notes == [f"Note: at iteration 0 the sigmoid output rounds to exactly 0 or 1 on the wrong side for 2 "
                     f"examples; the notebook's log(A) formula prints inf there, the true cross-entropy (computed "
                     f"from the pre-activation) is {result.history[0]['cost']}"]
    assert result.history[0]["cost"] == pytest.approx((1000 + 1000 + 2 * math.log1p(math.exp(-1000))
                                                       + math.log1p(math.exp(-0.1))) / 5, rel=1e-15)


def test_the_saturation_note_counts_softmax_columns_whose_true_class_underflows(caplog):
    """Three classes, Z = W x with the rows of W = 1000 * (1, 0, -1): for x = 1 the softmax is exactly
    (1, 0, 0) in float64 (exp(-1000) underflows), so a label of class 1 or 2 has probability exactly 0
    (log(A) = -inf); its cross-entropy from the log-sum-exp is 1000 or 2000 nats."""
    X = np.array([[1.0, 1.0, 1.0, 1e-4]])
    Y = np.eye(3)[:, [0, 1, 2, 1]]  # right, underflowed, underflowed, unsaturated
    params = {"W1": np.array([[1000.0], [0.0], [-1000.0]]), "b1": np.zeros((3, 1))}
    with caplog.at_level(logging.INFO, logger="nninit.numerics.training"):
        result = train(X, Y, params, TrainSettings(1e-9, 0))
    notes = [m for m in caplog.messages if m.startswith("Note:")]
    assert len(notes) == 1 and "softmax" in notes[0] and " for 2 examples" in notes[0], notes
    assert np.isfinite(result.history[0]["cost"]) and result.history[0]["cost"] > (1000 + 2000) / 4


def test_no_saturation_note_when_saturated_on_the_right_side(caplog):
    X, Y = np.array([[1.0, -1.0]]), np.array([[1.0, 0.0]])
    with caplog.at_level(logging.INFO, logger="nninit.numerics.training"):
        train(X, Y, {"W1": np.array([[1000.0]]), "b1": np.array([[0.0]])}, TrainSettings(0.1, 0))
    assert not [m for m in caplog.messages if m.startswith("Note:")]


def test_keyboard_interrupt_keeps_the_history(circles, monkeypatch, caplog):
    calls = {"n": 0}
    real_backward = training.backward_layers

    def interrupting_backward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 120:
            raise KeyboardInterrupt
        return real_backward(*args, **kwargs)

    monkeypatch.setattr(training, "backward_layers", interrupting_backward)
    with caplog.at_level(logging.WARNING, logger="nninit.numerics.training"):
        result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 1000, 50))
    assert caplog.messages == [
        "Interrupted after 119 iterations; recording the state there and keeping what was recorded"]
    assert result.status == "interrupted"
    assert [row["iteration"] for row in result.history] == [0, 50, 100, 119]  # the last row: where it stopped
    assert result.iterations_run == 119
    monkeypatch.undo()
    rerun = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 119, 50))
    assert result.history[-1]["cost"] == rerun.history[-1]["cost"]  # the cost of the parameters at the stop
    assert all(np.array_equal(result.parameters[k], rerun.parameters[k]) for k in result.parameters)


def test_diagnostics_do_not_change_the_numbers(circles):
    settings = TrainSettings(0.01, 300, 100)
    plain = train(circles.X_train, circles.Y_train, _he(), settings)
    diag = train(circles.X_train, circles.Y_train, _he(), settings, records=[diagnostics])
    assert [r["cost"] for r in plain.history] == [r["cost"] for r in diag.history]
    assert "a_std_1" in diag.history[0] and "grad_norm_3" in diag.history[0] and "dead_2" in diag.history[0]


@pytest.mark.parametrize("layers_dims", [(2, 10, 5, 1), (2, 1), (2, 8, 8, 8, 8, 1)])
def test_harness_loop_equals_the_naive_loop(circles, layers_dims):
    """The optimized loop computes the same parameters as the course-style loop, to 1e-12."""
    from nninit.numerics.naive import naive_train

    params = _he(layers_dims)
    naive, costs = naive_train(circles.X_train, circles.Y_train, params, 0.01, 2000)
    fast = train(circles.X_train, circles.Y_train, params, TrainSettings(0.01, 2000, 500))
    for key in params:
        np.testing.assert_allclose(fast.parameters[key], naive[key], rtol=1e-12, atol=0)
    recorded = {row["iteration"]: row["cost"] for row in fast.history}
    for i in (0, 500, 1000, 1500):
        assert recorded[i] == pytest.approx(costs[i], rel=1e-12)


def test_run_files_get_the_usual_permissions(tmp_path):
    """Atomic writes go through a temporary file (mode 0600); the result must be 0666 less the umask."""
    import stat

    from nninit.record import runfolder

    runfolder.write_json(tmp_path / "m.json", {"a": 1})
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o666 & ~runfolder._UMASK


def test_the_defaults(circles):
    """print_every 1000, no diagnostics, leaky ReLU's slope 0.01."""
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 2500))
    assert [row["iteration"] for row in result.history] == [0, 1000, 2000, 2500]
    assert all(sorted(row) == ["cost", "iteration"] for row in result.history)
    settings = TrainSettings(0.5, 30, 10)
    default = train(circles.X_train, circles.Y_train, _he(), settings, Activation("leaky_relu"))
    explicit = train(circles.X_train, circles.Y_train, _he(), settings, Activation("leaky_relu", 0.01))
    other = train(circles.X_train, circles.Y_train, _he(), settings, Activation("leaky_relu", 0.2))
    assert TrainSettings(0.5, 30).print_every == 1000
    assert all(np.array_equal(default.parameters[k], explicit.parameters[k]) for k in default.parameters)
    assert not np.array_equal(default.parameters["W1"], other.parameters["W1"])


def test_a_blow_up_is_logged_with_its_numbers(circles, caplog):
    with caplog.at_level(logging.WARNING, logger="nninit.numerics.training"):
        result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(1e6, 3000))
    first, last = result.history[0]["cost"], result.history[-1]["cost"]
    assert result.status == "diverged" and result.diverged_at == 1000 and result.iterations_run == 1000
    assert caplog.messages == [f"Diverged at iteration 1000: the cost {last} is more than 10 times max(initial cost "
                               f"{first}, ln 2)"]


def test_a_cost_exactly_at_the_blow_up_bound_is_not_a_blow_up():
    assert not training.blew_up(training.BLOWUP_FACTOR * 1773.6, 1773.6)
    assert not training.blew_up(training.BLOWUP_FACTOR * math.log(2.0), 0.01)
    assert training.blew_up(np.nextafter(training.BLOWUP_FACTOR * math.log(2.0), np.inf), 0.01)


def test_non_finite_values_are_checked_not_warned_about(circles):
    """A diverging run, and one interrupted after diverging values appeared, emit no floating-point warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(1e300, 200, 50))
    assert result.status == "diverged"


def test_an_interrupt_with_overflowing_parameters_warns_about_nothing(circles, monkeypatch):
    calls = {"n": 0}
    real_backward = training.backward_layers

    def interrupting_backward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_backward(*args, **kwargs)

    monkeypatch.setattr(training, "backward_layers", interrupting_backward)
    with warnings.catch_warnings():  # after one step of 1e200 the weights are ~1e200: the next pass overflows
        warnings.simplefilter("error")
        result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(1e200, 200, 100))
    assert result.status == "interrupted" and [row["iteration"] for row in result.history] == [0, 1]
    assert not np.isfinite(result.history[-1]["cost"])


def _interrupt_at_call(monkeypatch, n):
    calls = {"n": 0}
    real_backward = training.backward_layers

    def interrupting_backward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real_backward(*args, **kwargs)

    monkeypatch.setattr(training, "backward_layers", interrupting_backward)


def test_an_interrupt_keeps_its_message_for_the_run_record(circles, monkeypatch, tmp_path):
    """The loop stops on a KeyboardInterrupt and keeps its message (the signal handler's 'stopped by SIGTERM'),
    and the run's metrics.json records it: the test of a stopped joblib sweep reads it."""
    real_backward = training.backward_layers
    calls = {"n": 0}

    def interrupting_backward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("stopped by SIGTERM")
        return real_backward(*args, **kwargs)

    monkeypatch.setattr(training, "backward_layers", interrupting_backward)
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 100, 10))
    assert result.status == "interrupted" and result.stopped_by == "stopped by SIGTERM"
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt, match="stopped by SIGTERM"):
        run(compose(["train.num_iterations=100"]), tmp_path / "run", figures=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (metrics["status"], metrics["error"]) == ("interrupted", "KeyboardInterrupt: stopped by SIGTERM")


def test_an_interrupt_before_any_row_records_the_initial_state(circles, monkeypatch):
    _interrupt_at_call(monkeypatch, 1)
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 100, 10))
    monkeypatch.undo()
    assert result.status == "interrupted" and result.iterations_run == 0
    initial = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 0))
    assert result.history == initial.history


def test_an_interrupt_right_after_a_recorded_row_adds_no_second_row(circles):
    """Ctrl-C while the row of iteration 20 is being logged: that row is the state where it stopped."""

    class Interrupt(logging.Handler):
        def emit(self, record):
            if record.getMessage().startswith("Cost after iteration 20:"):
                raise KeyboardInterrupt

    handler = Interrupt()
    logger = logging.getLogger("nninit.numerics.training")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 100, 10))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert result.status == "interrupted" and result.iterations_run == 20
    assert [row["iteration"] for row in result.history] == [0, 10, 20]


def test_an_interrupted_leaky_run_records_the_cost_of_its_parameters(circles, monkeypatch):
    kwargs = dict(activation=Activation("leaky_relu", 0.3), records=[diagnostics])
    _interrupt_at_call(monkeypatch, 31)
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.5, 100, 50), **kwargs)
    monkeypatch.undo()
    rerun = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.5, 30, 50), **kwargs)
    assert result.history[-1] == rerun.history[-1]


def test_wall_time_is_the_time_in_the_loop(circles):
    start = time.perf_counter()
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 500))
    elapsed = time.perf_counter() - start
    assert 0 < result.wall_time <= elapsed


def test_test_set_rows_are_the_cost_and_accuracies_of_the_recorded_parameters(circles):
    """With X_test, Y_test each row also holds test_cost, train_accuracy and test_accuracy of that row's parameters."""
    from nninit.numerics.network import accuracy, cost_from_preactivation, output_preactivation

    leaky = Activation("leaky_relu", 0.3)
    sent = []  # on_snapshot: each snapshot as it is taken, with its history row (the frames of an animation)
    result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.5, 100, 40), leaky,
                   records=[on_test_set(circles.X_test, circles.Y_test)], snapshot_at={0, 40, 100},
                   on_snapshot=lambda i, params, row: sent.append((i, params, dict(row))))
    assert [row["iteration"] for row in result.history] == [0, 40, 80, 100]
    assert [i for i, _ in result.snapshots] == [0, 40, 100]
    assert [(i, params) for i, params, _ in sent] == [(i, params) for i, params in result.snapshots]
    assert [row for _, _, row in sent] == [result.history[0], result.history[1], result.history[3]]
    for (i, params), row in zip(result.snapshots, [result.history[0], result.history[1], result.history[3]]):
        assert row["iteration"] == i
        rerun = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.5, i, 40), leaky)
        assert all(np.array_equal(params[k], rerun.parameters[k]) for k in params)  # copies of that moment
        Z_test = output_preactivation(circles.X_test, params, leaky)
        assert row["test_cost"] == cost_from_preactivation(Z_test, circles.Y_test)
        assert row["train_accuracy"] == accuracy(circles.X_train, circles.Y_train, params, leaky)
        assert row["test_accuracy"] == accuracy(circles.X_test, circles.Y_test, params, leaky)
    assert result.history[0]["train_accuracy"] != result.history[-1]["train_accuracy"]
    assert result.snapshots[0][1]["W1"] is not result.snapshots[1][1]["W1"]
    assert not np.array_equal(result.snapshots[0][1]["W1"], result.snapshots[1][1]["W1"])


def test_accuracies_count_an_output_of_exactly_one_half_as_class_0():
    params = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}  # every output is exactly 0.5
    X, Y = np.ones((2, 4)), np.array([[0.0, 0.0, 0.0, 1.0]])
    row = train(X, Y, params, TrainSettings(1e-9, 0), records=[on_test_set(X, 1 - Y)]).history[0]
    assert (row["train_accuracy"], row["test_accuracy"]) == (0.75, 0.25)


def test_test_rows_of_a_saturated_network_warn_about_nothing():
    params = {"W1": np.array([[1e3, -1e3]]), "b1": np.array([[0.0]])}
    X = np.array([[1.0, -1.0], [0.0, 0.0]])
    X_test = np.array([[1.0, -1.0, 1e306, 1e306], [0.0, 0.0, -1e306, 1e306]])  # Z = 1000, -1000, inf, inf - inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = train(X, np.array([[1.0, 0.0]]), params, TrainSettings(1e-9, 0),
                    records=[on_test_set(X_test, np.array([[1.0, 0.0, 1.0, 1.0]]))]).history[0]
    assert row["test_accuracy"] == 3 / 4 and row["train_accuracy"] == 1.0 and np.isnan(row["test_cost"])


def test_progress_is_called_every_250_iterations(circles):
    seen = []
    train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 600, 100), progress=seen.append)
    assert training.PROGRESS_EVERY == 250
    assert {0, 250, 500} <= set(seen) and seen == sorted(seen)
    assert all(i % 250 == 0 or i % 100 == 0 or i == 600 for i in seen)  # and, maybe, at recorded iterations


def test_a_state_that_cannot_be_measured_at_the_interrupt_keeps_the_rows(circles, monkeypatch, caplog):
    """If the last row cannot be computed at Ctrl-C, the run keeps the rows it had, and says why."""
    _interrupt_at_call(monkeypatch, 16)

    def statistics(state):
        if calls["n"]:  # the row of the interrupt
            raise ValueError("half-written buffers")
        calls["n"] += 1
        return diagnostics(state)

    calls = {"n": 0}
    with caplog.at_level(logging.WARNING, logger="nninit.numerics.training"):
        result = train(circles.X_train, circles.Y_train, _he(), TrainSettings(0.01, 100, 50), records=[statistics])
    assert result.status == "interrupted" and result.iterations_run == 15
    assert [row["iteration"] for row in result.history] == [0]
    assert caplog.messages[-1] == "Could not record the state at the interrupt (half-written buffers)"


def test_a_new_recorded_metric_is_one_row_function(circles):
    """A row function's columns follow the cost in each recorded row, in the order given; it sees the state
    of that iteration (its parameters, gradients and passes), and adds nothing to the others' numbers."""
    seen = []

    def weight_norm(state):
        seen.append(state.iteration)
        assert state.cache.A[0] is circles.X_train and state.Y is circles.Y_train
        assert set(state.grads) == {f"d{key}" for key in state.parameters}
        return {"w_norm": float(sum(np.sum(w * w) for k, w in state.parameters.items() if k[0] == "W"))}

    settings = TrainSettings(0.01, 25, 10)
    plain = train(circles.X_train, circles.Y_train, _he(), settings)
    extra = train(circles.X_train, circles.Y_train, _he(), settings, records=[weight_norm, diagnostics])
    assert seen == [0, 10, 20, 25]
    assert list(extra.history[0])[:3] == ["iteration", "cost", "w_norm"] and "z_std_1" in extra.history[0]
    assert [r["cost"] for r in extra.history] == [r["cost"] for r in plain.history]
    assert extra.history[1]["w_norm"] != extra.history[0]["w_norm"]  # of the parameters at that iteration


@pytest.mark.parametrize("args, name", [
    ((0.0, 10), "learning_rate"), ((-1.0, 10), "learning_rate"), ((math.nan, 10), "learning_rate"),
    ((math.inf, 10), "learning_rate"), (("0.1", 10), "learning_rate"), ((0.1, -1), "num_iterations"),
    ((0.1, 2.5), "num_iterations"), ((0.1, True), "num_iterations"), ((0.1, 10, 0), "print_every"),
    ((0.1, 10, 1.0), "print_every"),
])
def test_settings_out_of_range_are_refused_by_name(args, name):
    with pytest.raises(ValueError, match=f"^{name}="):
        TrainSettings(*args)
    assert TrainSettings(np.float64(0.1), np.int64(10), 1).num_iterations == 10  # numpy numbers are numbers


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_an_interrupted_minibatch_run_records_where_it_stopped(circles, monkeypatch, optimizer):
    """Backward calls: a full pass at iterations 0 and 20 (for their rows) and one a batch, so the 32nd is
    iteration 29's batch: the last row is the parameters after 29 updates, with their epoch (5 batches an epoch)."""
    settings = TrainSettings(0.05, 100, 20, optimizer=optimizer, batch_size=64, shuffle_seed=2)
    _interrupt_at_call(monkeypatch, 32)
    result = train(circles.X_train, circles.Y_train, _he(), settings)
    monkeypatch.undo()
    assert result.status == "interrupted" and result.iterations_run == 29
    assert [(r["iteration"], r["epoch"]) for r in result.history] == [(0, 0.0), (20, 4.0), (29, 5 + 4 * 64 / 300)]
    rerun = train(circles.X_train, circles.Y_train, _he(), TrainSettings(**{**settings.__dict__, "num_iterations": 29}))
    assert result.history[-1] == rerun.history[-1]
    assert all(np.array_equal(result.parameters[k], rerun.parameters[k]) for k in result.parameters)
