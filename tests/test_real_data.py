"""Real data sets (digits, breast_cancer, wine, iris), the three-class blobs, K-class run folders and their figures."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, compose, run_cli

from nninit.app.config import validate
from nninit.data import describe, load_dataset, majority_rate, make_dataset, one_hot, stored_labels
from nninit.data.cache import cached_dataset, entry_path
from nninit.numerics.initializers import initialize_parameters
from nninit.numerics.network import predict
from nninit.numerics.outputs import class_of_labels
from nninit.numerics.training import TrainSettings, train
from nninit.options import ConfigError

REAL = ("digits", "breast_cancer", "wine", "iris")


@pytest.mark.parametrize("name", REAL)
def test_a_real_set_is_split_stratified_and_standardized_with_the_training_statistics(name):
    from sklearn import datasets

    X_all, y_all = getattr(datasets, f"load_{name}")(return_X_y=True)
    raw, data, described = load_dataset(name, standardize=False), load_dataset(name), describe({"name": name})
    assert (data.X_train.shape, data.X_test.shape) == ((described.n_features, described.n_train),
                                                       (described.n_features, described.n_test))
    assert described.n_train + described.n_test == len(y_all)
    assert data.Y_train.shape[0] == described.n_outputs == (1 if described.n_classes == 2 else described.n_classes)
    # the two splits are the whole set, each example once
    both = np.hstack([raw.X_train, raw.X_test]).T
    assert np.array_equal(both[np.lexsort(both.T)], X_all[np.lexsort(X_all.T)])
    # stratified: each class's test count is its share of n_test, to within one example
    shares = np.bincount(y_all) / len(y_all)
    assert np.all(np.abs(np.bincount(class_of_labels(data.Y_test)) - shares * described.n_test) <= 1)
    # standardized with the training split's mean and std (a constant pixel stays 0), the test split by the same
    mean, std = raw.X_train.mean(axis=1, keepdims=True), raw.X_train.std(axis=1, keepdims=True)
    std[std == 0] = 1
    assert np.allclose(data.X_train, (raw.X_train - mean) / std, atol=1e-12)
    assert np.allclose(data.X_test, (raw.X_test - mean) / std, atol=1e-12)
    assert np.allclose(data.X_train.mean(axis=1), 0, atol=1e-12)


def test_the_split_follows_its_seed_and_n_test_and_the_cache_keys_them():
    a, b = make_dataset({"name": "wine", "split_seed": 1}), make_dataset({"name": "wine", "split_seed": 2})
    assert not np.array_equal(a.X_test, b.X_test)
    assert np.array_equal(a.X_test, make_dataset({"name": "wine", "split_seed": 1}).X_test)
    assert make_dataset({"name": "iris", "n_test": 45}).X_test.shape == (4, 45)


def test_the_cache_keys_a_real_set_by_its_split(tmp_path):
    cfgs = [{"name": "iris", "n_test": 30, "split_seed": s, "standardize": True} for s in (0, 1)]
    paths = [entry_path(cfg, tmp_path) for cfg in cfgs]
    assert paths[0] != paths[1]
    for cfg, path in zip(cfgs, paths):
        first = cached_dataset(cfg, tmp_path)
        assert path.exists()
        again, made = cached_dataset(cfg, tmp_path), make_dataset(cfg)
        for key in ("X_train", "Y_train", "X_test", "Y_test"):
            assert getattr(again, key).tobytes() == getattr(made, key).tobytes() == getattr(first, key).tobytes()


@pytest.mark.parametrize("data, message", [
    ({"name": "digits", "n_test": 5}, r"^data.n_test=5 is not accepted: must be an integer from 10 to 1787"),
    ({"name": "iris", "split_seed": -1}, r"^data.split_seed=-1 is not accepted: must be an integer from 0 to"),
    ({"name": "wine", "standardize": "yes"}, r"^data.standardize='yes' is not accepted: must be true or false"),
    ({"name": "wine", "train_seed": 1}, r"^data.train_seed=1 is not accepted: data=wine has no such key; its keys: "
                                        r"name, n_test, split_seed, standardize"),
    ({"name": "blobs", "cluster_std": 0}, r"^data.cluster_std=0 is not accepted: must be a finite number > 0"),
])
def test_bad_data_keys_are_refused_naming_key_value_and_what_is_accepted(data, message):
    with pytest.raises(ConfigError, match=message):
        validate({**compose(), "data": data})


def test_blobs_have_three_one_hot_classes_and_labels_are_stored_as_indices():
    data = load_dataset("blobs", n_train=60, n_test=30)
    assert data.Y_train.shape == (3, 60) and np.array_equal(data.Y_train.sum(axis=0), np.ones(60))
    stored = stored_labels(data.Y_train)
    assert stored.shape == (1, 60) and stored.dtype == np.int64
    assert np.array_equal(one_hot(stored, 3), data.Y_train)
    circles = load_dataset("circles")
    assert stored_labels(circles.Y_train) is circles.Y_train  # two classes: stored as they are
    assert majority_rate(stored) == majority_rate(data.Y_train) == np.bincount(stored[0]).max() / 60
    assert majority_rate(circles.Y_train) == max(circles.Y_train.mean(), 1 - circles.Y_train.mean())
    assert majority_rate(np.array([[2, 2, 0, 1]])) == 0.5


def test_the_decision_boundary_has_a_colour_per_class(tmp_path):
    """Iris' first two features through the plotting function: three regions and three point colours."""
    from nninit.figures import style
    from nninit.figures.boundary import draw_decision_boundary
    from nninit.figures.classes import class_colors

    data = load_dataset("iris")
    X, Y = data.X_train[:2], data.Y_train
    params = train(X, Y, initialize_parameters([2, 8, 3], "he", np.random.RandomState(0)),
                   TrainSettings(0.1, 300, 300)).parameters
    fig = style.new_figure()
    ax = fig.subplots()
    image = draw_decision_boundary(ax, params, X, Y, resolution=60)
    regions = image.get_array()
    assert image.get_cmap().N == 3 and set(np.unique(regions)) == {0.0, 1.0, 2.0}
    # the regions are the network's argmax on the grid
    extent = image.get_extent()
    corner = np.array([[extent[0]], [extent[2]]])
    assert regions[0, 0] == predict(corner, params)[0, 0]
    colours = [tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in ax.collections]
    from matplotlib.colors import to_rgb

    assert colours == [tuple(np.round(to_rgb(c), 3)) for c in class_colors(3)[1]]


def test_the_confusion_matrix_counts_what_sklearn_counts(tmp_path):
    from sklearn.metrics import confusion_matrix

    from nninit.figures.classes import plot_confusion_matrix

    rng = np.random.RandomState(0)
    true, predicted = rng.randint(0, 4, 80), rng.randint(0, 4, 80)
    predicted[:3] = 3
    counts = plot_confusion_matrix(true, predicted, 5, tmp_path / "confusion_matrix.png", "t")
    assert counts.shape == (5, 5) and counts.sum() == 80
    assert np.array_equal(counts[:4, :4], confusion_matrix(true, predicted))
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 0


@pytest.mark.slow
def test_a_30_feature_two_class_run_and_a_k_class_run_in_4_d(tmp_path, caplog, monkeypatch):
    """breast_cancer (30 features, binary): a sigmoid output, the probability histogram and a confusion matrix;
    iris (4-d, 3 classes): a softmax output, no decision boundary (said in the log), a confusion matrix."""
    import logging

    from nninit.app.experiment import run
    from nninit.record.runs.read import Run

    caplog.set_level(logging.INFO)
    monkeypatch.setattr("nninit.figures.helper_process.ENABLED", False)  # figures (and their log) in this process
    cancer = run(compose(["data=breast_cancer", "train.num_iterations=300", "train.learning_rate=0.1"]),
                 tmp_path / "cancer")
    assert cancer["layers_dims"] == [30, 10, 5, 1] and cancer["test_accuracy"] > 0.85
    assert {p.name for p in (tmp_path / "cancer").glob("*.png")} >= {"decision_boundary.png", "confusion_matrix.png"}
    iris = run(compose(["data=iris", "train.num_iterations=500", "train.learning_rate=0.1"]), tmp_path / "iris")
    assert iris["layers_dims"] == [4, 10, 5, 3] and iris["status"] == "completed"
    pngs = {p.name for p in (tmp_path / "iris").glob("*.png")}
    assert "confusion_matrix.png" in pngs and "decision_boundary.png" not in pngs and "predictions.png" not in pngs
    assert "decision_boundary.png not drawn" in caplog.text and "4-d with 3 classes" in caplog.text
    stored = np.load(tmp_path / "iris" / "data.npz")
    assert stored["Y_train"].shape == (1, 120) and stored["Y_train"].dtype == np.int64
    folder = Run(tmp_path / "iris", iris)
    assert folder.majority("train") == pytest.approx(1 / 3) and folder.at_chance() is (iris["train_accuracy"] <= 1 / 3
                                                                                       + 0.01)


@pytest.mark.slow
def test_digits_end_to_end_ten_classes_learn_well_above_chance(tmp_path):
    """Issue 21's command: digits, He, [64, 32], Adam on minibatches of 64 at 0.001 for 3,000 updates trains
    to a test accuracy above 90 % (measured: 97.2 %), in a folder coherent for ten classes."""
    out = tmp_path / "digits"
    run_cli(["data=digits", "init=he", "model.hidden_dims=[64,32]", "train.optimizer=adam", "train.batch_size=64",
             "train.learning_rate=0.001", "train.num_iterations=3000", f"hydra.run.dir={out}"], tmp_path)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["layers_dims"] == [64, 64, 32, 10]
    chance = np.bincount(np.load(out / "data.npz")["Y_test"][0]).max() / 360
    assert chance < 0.11 and metrics["test_accuracy"] > 0.9  # ten classes: chance is about 10 %
    assert {"confusion_matrix.png", "predictions.png", "cost.png"} <= {p.name for p in out.glob("*.png")}
    assert not (out / "decision_boundary.png").exists()
    assert "decision_boundary.png not drawn" in (out / "run.log").read_text()
    summary = subprocess.run([sys.executable, str(REPO / "scripts" / "compare.py"), str(out), "--out",
                              str(tmp_path / "cmp")], capture_output=True, text=True, timeout=300)
    assert summary.returncode == 0, summary.stderr
    table = (tmp_path / "cmp" / "summary.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| all runs |"))
    assert f"{100 * metrics['test_accuracy']:.1f}%" in row and "| 1 | 0 | 0 | 0 |" in row  # not at chance

