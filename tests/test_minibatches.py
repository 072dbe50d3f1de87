"""Minibatches (train.batch_size, train.shuffle_seed): epochs, their order, what a minibatch run records."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import compose

from nninit.numerics.initializers import initialize_parameters
from nninit.numerics.minibatches import Minibatches
from nninit.numerics.training import TrainSettings, train


# ---- minibatches ------------------------------------------------------------------------------------
@pytest.mark.parametrize("m, batch_size", [(10, 3), (10, 5), (10, 10), (10, 25), (7, 1)])
def test_every_epoch_visits_every_example_once_in_a_fresh_order(m, batch_size):
    X = np.arange(2 * m, dtype=float).reshape(2, m)
    Y = np.arange(m, dtype=float).reshape(1, m)
    batches = Minibatches(X, Y, [2, 3, 1], batch_size, shuffle_seed=0)
    per_epoch = -(-m // min(batch_size, m))
    orders = []
    for _ in range(3):
        seen = []
        for _ in range(per_epoch):
            cache, Y_batch, index = batches.next()
            assert np.array_equal(cache.A[0], X[:, index]) and np.array_equal(Y_batch, Y[:, index])
            assert Y_batch.shape[1] == min(batch_size, m, m - len(seen))  # the last batch holds what is left
            seen += [int(v) for v in Y_batch.ravel()]
        assert sorted(seen) == list(range(m))
        orders.append(seen)
    assert m < 3 or orders[0] != orders[1] or orders[1] != orders[2]  # reshuffled
    assert batches.epoch(per_epoch) == 1.0 and batches.epoch(3 * per_epoch) == 3.0


def test_the_shuffle_seed_makes_a_run_reproducible_and_another_seed_another_run(circles):
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))

    def final(seed):
        s = TrainSettings(0.05, 30, 10, batch_size=32, shuffle_seed=seed)
        return train(circles.X_train, circles.Y_train, params, s)

    a, b, c = final(5), final(5), final(6)
    assert all(np.array_equal(a.parameters[k], b.parameters[k]) for k in params)
    assert a.history == b.history
    assert not np.array_equal(a.parameters["W1"], c.parameters["W1"])


def test_minibatch_history_has_epochs_and_the_whole_sets_cost(circles):
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    m = circles.X_train.shape[1]  # 300: ceil(300 / 64) = 5 updates an epoch
    result = train(circles.X_train, circles.Y_train, params, TrainSettings(0.05, 12, 5, batch_size=64))
    assert [list(r)[:3] for r in result.history] == [["iteration", "epoch", "cost"]] * 4
    assert [r["epoch"] for r in result.history] == [0.0, 1.0, 2.0, 2 + 2 * 64 / m]
    full = train(circles.X_train, circles.Y_train, result.parameters, TrainSettings(0.05, 0))
    assert result.history[-1]["cost"] == full.history[0]["cost"]  # the training set's, not the batch's
    gd = train(circles.X_train, circles.Y_train, params, TrainSettings(0.05, 12, 5))
    assert list(gd.history[0])[:2] == ["iteration", "cost"]  # full batch: no epoch column


def test_the_long_run_warning_counts_the_examples_an_update_sees(caplog):
    """A minibatch update sees batch_size examples, not the training set: a million updates of a [2, 1000, 1000, 1]
    net are long over the 300 examples (estimated 8.7 hours) or 64 of them (1.9 hours), not over 1 (2 minutes)."""
    import logging

    from nninit.app.long_runs import say_if_long

    def warned(**train_keys):
        caplog.clear()
        cfg = compose([f"train.{k}={v}" for k, v in train_keys.items()])
        with caplog.at_level(logging.WARNING, logger="nninit"):
            say_if_long(cfg, [2, 1000, 1000, 1])
        return "expected to take" in caplog.text

    assert warned(num_iterations=10**6) and warned(num_iterations=10**6, batch_size=1000)  # 1000 > 300: all
    assert warned(num_iterations=10**6, batch_size=64) and not warned(num_iterations=10**6, batch_size=1)


def test_the_shuffle_seed_is_a_seed_pooled_over_like_the_others():
    from nninit.record.runs import is_seed_key

    assert is_seed_key("train.shuffle_seed") and is_seed_key("data.train_seed") and is_seed_key("seed")
    assert not is_seed_key("train.batch_size") and not is_seed_key("model.shuffle_seed")
