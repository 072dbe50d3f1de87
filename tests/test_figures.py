"""Figures and what a run records over training: each figure is checked by what it draws (its
artists, or its pixels), not only by its file (fast)."""

import logging

import numpy as np
import pytest
from conftest import compose
from matplotlib.image import imread

from nninit.app.experiment import MAX_FRAMES, run, snapshot_iterations
from nninit.figures import boundary_grid, plots, style
from nninit.numerics.network import accuracy, cost_from_preactivation, output_preactivation
from nninit.record import runfolder


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plotting functions save, kept for inspection (and still written)."""
    figures = {}
    save = plots.save_figure

    def keep(fig, path, dpi=plots.DPI):
        figures[path.name] = fig
        save(fig, path, dpi)

    monkeypatch.setattr(style, "save_figure", keep)
    monkeypatch.setattr("nninit.figures.helper_process.ENABLED", False)  # every figure drawn here, where they are kept
    return figures


def _color_pixels(path, hex_color, tol=0.08):
    rgb = np.array([int(hex_color[k:k + 2], 16) / 255 for k in (1, 3, 5)])
    image = imread(path)[..., :3]
    return int(np.sum(np.all(np.abs(image - rgb) < tol, axis=-1)))


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """The notebook's run, shortened to 3000 iterations recorded every 100, with its animation."""
    folder = tmp_path_factory.mktemp("seed_run")
    metrics = run(compose(["train.num_iterations=3000", "train.print_every=100"]), folder,
                  overrides=["train.num_iterations=3000"], animation=True)
    return folder, metrics


def test_history_holds_test_cost_and_both_accuracies(seed_run, circles):
    folder, metrics = seed_run
    h = runfolder.read_history(folder / "history.csv")
    assert {"test_cost", "train_accuracy", "test_accuracy"} <= set(h)
    final = runfolder.load_arrays(folder / "params_final.npz")
    assert h["train_accuracy"][-1] == metrics["train_accuracy"] == accuracy(circles.X_train, circles.Y_train, final)
    assert h["test_accuracy"][-1] == metrics["test_accuracy"]
    direct = cost_from_preactivation(output_preactivation(circles.X_test, final), circles.Y_test)
    assert h["test_cost"][-1] == pytest.approx(direct, rel=1e-12)
    init = runfolder.load_arrays(folder / "params_init.npz")
    assert h["test_accuracy"][0] == accuracy(circles.X_test, circles.Y_test, init)


def test_the_animation_keeps_at_most_31_evenly_chosen_frames(seed_run):
    folder, _ = seed_run
    frames = runfolder.load_arrays(folder / "boundary_frames.npz")
    assert list(frames["iteration"]) == sorted(snapshot_iterations(3000, 100))
    assert len(frames["iteration"]) == MAX_FRAMES and frames["iteration"][0] == 0 and frames["iteration"][-1] == 3000
    assert frames["classes"].shape == (MAX_FRAMES, 96, 96) and frames["classes"].dtype == np.uint8
    assert not (folder / "params_history.npz").exists()  # the frames, not the parameters
    final = runfolder.load_arrays(folder / "params_final.npz")
    grid, _, shape = boundary_grid.plane(runfolder.load_arrays(folder / "data.npz")["X_train"], 96)
    assert np.array_equal(frames["classes"][-1], boundary_grid.regions(final, grid, shape, "relu", 0.01))
    from PIL import Image

    with Image.open(folder / "decision_boundary.gif") as gif:
        assert gif.n_frames == MAX_FRAMES
        gif.seek(0)
        first = np.asarray(gif.convert("RGB")).copy()
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert np.mean(np.any(first != last, axis=-1)) > 0.02  # the boundary moved
    assert (folder / "decision_boundary.gif").stat().st_size < 2 * 2**20


def test_snapshots_are_evenly_chosen_recorded_iterations():
    assert snapshot_iterations(15000, 1000) == frozenset(range(0, 15001, 1000))
    assert snapshot_iterations(0, 1000) == frozenset({0})
    assert len(snapshot_iterations(15000, 1)) == MAX_FRAMES


@pytest.mark.slow  # a second or more: a 1,000-wide run with its figures
def test_a_wide_run_keeps_its_animation_in_a_small_folder(tmp_path):
    """Any width keeps its GIF: the folder keeps the frames' class grids, not parameter copies."""
    cfg = compose(["model.hidden_dims=[1000]", "train.num_iterations=4", "train.print_every=2"])
    assert run(cfg, tmp_path / "wide", animation=True)["status"] == "completed"
    assert (tmp_path / "wide" / "decision_boundary.gif").is_file()
    assert sum(p.stat().st_size for p in (tmp_path / "wide").iterdir()) < 20 * 2**20
    frames = runfolder.load_arrays(tmp_path / "wide" / "boundary_frames.npz")
    assert frames["classes"].shape == (3, 96, 96)


@pytest.mark.slow  # about a second: composes the config
def test_a_network_too_large_for_the_frames_grid_gets_a_coarser_one_said_in_the_log(circles, caplog):
    from nninit.app.experiment import _frames

    sizes = {"W1": (2000, 2), "W2": (2000, 2000), "W3": (1, 2000)}  # only the sizes set the grid
    with caplog.at_level("INFO", logger="nninit"):
        frames = _frames(compose([]), circles, {key: np.empty(shape) for key, shape in sizes.items()})
    assert frames.shape == (40, 40) and "Animation frames on a 40 x 40 grid, not 96 x 96" in caplog.text
    with caplog.at_level("INFO", logger="nninit"):
        assert _frames(compose([]), circles, {"W1": np.empty((10, 2))}).shape == (96, 96)
    assert caplog.text.count("Animation frames") == 1


def test_the_training_figure_draws_train_and_test(seed_run, drawn):
    folder, _ = seed_run
    plots.plot_run(folder)
    ax_cost, ax_acc = drawn["cost.png"].axes
    assert [l.get_label() for l in ax_cost.lines] == ["train", "test"]
    assert [l.get_label() for l in ax_acc.lines] == ["train", "test", "chance (majority class)"]
    assert len(ax_cost.lines[0].get_xdata()) == 31 and ax_acc.lines[2].get_ydata()[0] == 50.0
    assert ax_cost.get_title() == "Cost" and ax_acc.get_title() == "Accuracy"
    assert drawn["cost.png"]._suptitle.get_text() == "Training: train.num_iterations=3000"
    assert _color_pixels(folder / "cost.png", "#1f77b4") > 300 and _color_pixels(folder / "cost.png", "#ff7f0e") > 300


def test_the_boundary_shows_train_points_filled_and_test_points_hollow(seed_run, drawn):
    folder, _ = seed_run
    plots.plot_run(folder)
    ax = drawn["decision_boundary.png"].axes[0]
    labels = [c.get_label() for c in ax.collections]
    assert labels == ["train, label 0", "train, label 1", "test, label 0", "test, label 1"]
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sum(sizes[:2]) == 300 and sum(sizes[2:]) == 100
    assert ax.collections[2].get_facecolor().size == 0  # hollow
    assert len(ax.images) == 1 and set(np.unique(ax.images[0].get_array())) == {0.0, 1.0}


def test_layer_panels_are_titled_with_reference_lines(seed_run, drawn):
    folder, _ = seed_run
    plots.plot_run(folder)
    axes = drawn["layer_stats.png"].axes
    assert [a.get_title() for a in axes] == ["Activation spread", "Weight gradient norm",
                                             "Dead units (zero on every example)",
                                             "Distinct units (1: symmetry never broken)"]
    assert "1 (unit spread)" in [l.get_label() for l in axes[0].lines]
    assert sum(1 for l in axes[2].lines if l.get_label().startswith("layer")) == 2  # hidden layers only
    assert all(len(a.lines) >= 2 for a in axes)


def test_a_run_of_zero_iterations_draws_points_not_empty_panels(tmp_path, drawn):
    run(compose(["train.num_iterations=0"]), tmp_path)
    ax_cost = drawn["cost.png"].axes[0]
    line = ax_cost.lines[0]
    assert line.get_marker() == "o" and line.get_linestyle() == "None" and len(line.get_xdata()) == 1
    low, high = ax_cost.get_xlim()
    assert low <= -0.9 and high >= 0.9  # an axis around the one point, not ±0.045
    for ax in drawn["layer_stats.png"].axes:
        assert any(len(l.get_xdata()) == 1 and l.get_marker() == "o" for l in ax.lines), ax.get_title()


def test_inputs_that_are_not_2d_get_a_probability_histogram(tmp_path, drawn):
    run(compose(["data=gaussian_quantiles", "data.n_features=5", "train.num_iterations=200"]), tmp_path)
    ax = drawn["decision_boundary.png"].axes[0]
    assert ax.get_title().startswith("init=") or "5-d" in ax.get_xlabel() + ax.get_title()
    assert len(ax.patches) >= 4  # train and test, per class
    assert ax.get_xlabel() == "predicted probability of class 1"


def test_log_axes_with_a_small_range_have_decimal_labels(drawn, tmp_path):
    history = {"iteration": np.arange(0, 5000, 1000.0), "cost": np.array([0.9, 0.5, 0.2, 0.08, 0.06])}
    plots.plot_training(history, tmp_path / "cost.png", "t")
    ax = drawn["cost.png"].axes[0]
    assert ax.get_yscale() == "log"
    fig = drawn["cost.png"]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels() if t.get_text()]
    assert "0.2" in labels and "0.5" in labels and not any("10^" in t or "times" in t for t in labels)


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_two_processes_draw_the_same_files_as_one(seed_run, tmp_path, monkeypatch):
    """The forked backend's helper draws the figures; the folder ends the same as drawn in process."""
    import shutil

    from nninit.figures import drawing, helper_process

    folder, metrics = seed_run
    copies = {}
    for parallel in (True, False):
        copy = tmp_path / f"parallel_{parallel}"
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.png", "*.gif"))
        monkeypatch.setattr(helper_process, "ENABLED", parallel)
        with drawing.drawing_backend() as backend:
            forked = isinstance(backend, helper_process.ForkedDrawing)
            assert forked == (parallel and helper_process.cores() >= 2)
            written = backend.draw(copy, metrics, animation=True)
        copies[parallel] = sorted(p.name for p in written)
        assert sorted(p.name for p in copy.glob("*.png")) + sorted(p.name for p in copy.glob("*.gif")) == \
            sorted(n for n in copies[parallel] if n.endswith(".png")) + ["decision_boundary.gif"]
        copies[parallel, "bytes"] = {p.name: p.read_bytes() for p in copy.iterdir() if p.suffix in (".png", ".gif")}
    assert copies[True] == copies[False] == sorted(["cost.png", "decision_boundary.png", "signal_propagation.png",
                                                   "layer_stats.png", "decision_boundary.gif"])
    assert copies[True, "bytes"] == copies[False, "bytes"]


def test_the_backend_is_forked_only_for_figures_on_two_cores(monkeypatch):
    from nninit.figures import drawing, helper_process

    with drawing.drawing_backend(figures=False) as backend:
        assert isinstance(backend, drawing.InProcess)
    monkeypatch.setattr(helper_process, "ENABLED", False)
    with drawing.drawing_backend() as backend:
        assert isinstance(backend, drawing.InProcess)
    monkeypatch.setattr(helper_process, "ENABLED", True)
    with drawing.drawing_backend() as backend:
        assert isinstance(backend, helper_process.ForkedDrawing) == (helper_process.cores() >= 2)
        process = getattr(backend, "process", None)
    assert process is None or not process.is_alive()  # leaving the block stopped the helper


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_a_helper_that_dies_leaves_its_figures_to_the_run(seed_run, tmp_path, caplog):
    import shutil

    from nninit.figures import helper_process

    folder, metrics = seed_run
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.png", "*.gif"))
    drawer = helper_process.ForkedDrawing()
    if drawer.process is None:
        pytest.skip("one core: no helper process")
    drawer.process.kill()
    drawer.process.join()
    written = drawer.draw(copy, metrics, animation=True)
    assert {p.name for p in written} >= {"layer_stats.png", "decision_boundary.gif"}
    assert (copy / "layer_stats.png").exists() and (copy / "decision_boundary.gif").exists()
    assert "drawing the figures in the run's process" in caplog.text and drawer.process is None


@pytest.mark.parametrize("n", [3, 14, 20, 33])
def test_up_to_40_groups_get_distinct_styles(n):
    styles = plots.group_styles(n)
    assert len({(str(c), s) for c, s in styles}) == n


def test_run_label_names_the_run_by_its_overrides():
    assert plots.run_label({"overrides": ["init=he", "train.learning_rate=1e6"], "status": "diverged"}) == \
        "init=he train.learning_rate=1e6 (diverged)"
    assert plots.run_label({"name": "baseline", "overrides": ["init=he"], "status": "completed"}) == "baseline"
    assert plots.run_label({"overrides": [], "init": "he", "status": "completed"}) == "init=he (defaults)"


def test_progress_is_a_log_line_off_a_terminal_and_quiet_for_short_runs(caplog):
    from nninit.record.progress import Progress

    now = [0.0]
    progress = Progress(15000, interactive=False, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="nninit.record.progress"):
        for i in range(0, 15001, 250):
            now[0] = i / 1000  # 1,000 it/s: 15 s in all
            progress(i)
    lines = [r.getMessage() for r in caplog.records]
    assert lines and lines[0] == "iteration 10000/15000 (1,000 it/s, about 5 s left)"
    caplog.clear()
    quick = Progress(15000, interactive=False, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="nninit.record.progress"):
        for i in range(0, 15001, 250):
            now[0] = i / 20000  # 0.75 s in all
            quick(i)
    assert not caplog.records


def test_progress_is_a_bar_on_a_terminal(capsys):
    from nninit.record.progress import Progress

    now = [0.0]
    progress = Progress(15000, interactive=True, clock=lambda: now[0])
    for i in range(0, 15001, 250):
        now[0] = i / 1000
        progress(i)
    assert progress.bar is not None and progress.bar.n == 15000
    progress.close()
    assert "it/s" in capsys.readouterr().err


def test_signal_propagation_draws_the_start_and_the_end_by_layer(seed_run, drawn):
    folder, _ = seed_run
    plots.plot_run(folder, only={"signal"})
    spread, gradient = drawn["signal_propagation.png"].axes
    assert [l.get_label() for l in spread.lines] == ["iteration 0", "iteration 3000", "1 (unit spread, hidden layers)"]
    assert list(spread.lines[0].get_xdata()) == [1, 2, 3] and len(gradient.lines) == 2
    # the reference covers the hidden layers 1 and 2, not the sigmoid output (layer 3), whose spread is at most 0.5
    assert 0.5 <= min(spread.lines[2].get_xdata()) < 1 and 2 < max(spread.lines[2].get_xdata()) <= 2.5
    assert set(drawn) == {"signal_propagation.png"}  # only what was asked


def test_signal_propagation_without_hidden_layers_draws_no_reference(tmp_path, drawn):
    history = {"iteration": np.array([0, 10]), "a_std_1": np.array([0.3, 0.4]), "grad_norm_1": np.array([0.1, 0.2])}
    plots.plot_signal_propagation(history, tmp_path / "signal_propagation.png", "logistic regression")
    spread, _ = drawn["signal_propagation.png"].axes
    assert [l.get_label() for l in spread.lines] == ["iteration 0", "iteration 10"]


def _describe(values, scale=1.0):
    """A call for the prepared process: a result that says which process computed it."""
    import os

    if scale == 0:
        raise ZeroDivisionError("scale must not be 0")
    return os.getpid(), [v / scale for v in values]


def test_a_prepared_process_runs_the_call_or_leaves_it_to_the_caller():
    """The sweep's summary runs in a process forked when the sweep starts; its result is the
    call's; an error there, or a process that died, means the call runs in the caller (which then
    raises the error itself)."""
    import os

    from nninit.figures import helper_process

    prepared = helper_process.Prepared(("json",))
    if prepared.process is None:
        pytest.skip("one core: no helper process")
    child = prepared.process.pid
    assert prepared.call(_describe, [1.0, 3.0], scale=2.0) == (child, [0.5, 1.5])  # computed there
    assert prepared.process is None  # one call, then stopped
    with pytest.raises(ZeroDivisionError, match="must not be 0"):
        helper_process.Prepared(("json",)).call(_describe, [1.0], scale=0)
    import gc

    assert helper_process.Prepared(("json",)).call(gc.get_freeze_count) > 0  # inherited objects left alone there
    assert gc.get_freeze_count() == 0  # and collected here as before
    dead = helper_process.Prepared(("json",))
    dead.process.kill()
    dead.process.join()
    assert dead.call(_describe, [2.0]) == (os.getpid(), [2.0])



@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_the_animation_drawn_by_the_helper_is_the_one_drawn_in_the_run_process(tmp_path, monkeypatch):
    """The helper process paints the GIF from the run's saved frames; the same bytes as the run's own process."""
    from nninit.figures import helper_process

    if helper_process.cores() < 2:
        pytest.skip("one core: no helper process")
    cfg = compose(["train.num_iterations=2000", "train.print_every=100"])
    monkeypatch.setattr(helper_process, "ENABLED", False)
    run(cfg, tmp_path / "one_process", animation=True)
    monkeypatch.setattr(helper_process, "ENABLED", True)
    assert run(cfg, tmp_path / "helper", animation=True)["status"] == "completed"
    gif = "decision_boundary.gif"
    assert (tmp_path / "helper" / gif).read_bytes() == (tmp_path / "one_process" / gif).read_bytes()


def test_frames_of_a_softmax_network_hold_its_classes_and_blank_where_it_diverged():
    """Three output units whose biases favour one class each in three strips of the plane: the frame holds
    classes 0, 1 and 2 where the softmax's argmax says, n_classes 3, and BLANK (not a class) once a
    parameter is not finite. The GIF painted from it has a colour per class and white for BLANK."""
    X = np.array([[-3.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    params = {"W1": np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]), "b1": np.zeros((3, 1))}
    frames = boundary_grid.BoundaryFrames(X, params)
    frames.add(0, params)
    frames.add(1, {**params, "b1": np.full((3, 1), np.nan)})
    arrays = frames.arrays()
    grid, _, shape = boundary_grid.plane(X, arrays["classes"].shape[1])
    x1 = grid[0].reshape(shape)
    expected = np.where(x1 < 0, 0, 2)  # argmax of (-x1, 0, x1): class 0 left of 0, class 2 right of it
    assert int(arrays["n_classes"]) == 3
    assert np.array_equal(arrays["classes"][0], expected)
    assert (arrays["classes"][1] == boundary_grid.BLANK).all() and boundary_grid.BLANK >= 3
    from nninit.figures.boundary import BoundaryAnimation

    animation = BoundaryAnimation(X, np.array([[0, 1, 2]]), "t", arrays["classes"].shape[1], n_classes=3)
    for i, classes in zip(arrays["iteration"], arrays["classes"]):
        animation.add(int(i), classes)
    blank = np.asarray(animation.frames[1].convert("RGB"))
    x0, x1_, y0, y1 = animation.box
    white = (blank[y0 + 5:y1 - 5, x0 + 5:x1_ - 5] == 255).all(axis=-1)
    assert white.mean() > 0.95  # white where the run diverged (but under the three points drawn over it)
    painted = np.asarray(animation.frames[0].convert("RGB"))[y0 + 5:y1 - 5, x0 + 5:x1_ - 5]
    left, right = painted[:, : painted.shape[1] // 4], painted[:, -painted.shape[1] // 4:]
    assert (np.median(left, axis=(0, 1)) != np.median(right, axis=(0, 1))).any()  # two classes, two colours
    assert not (np.median(left, axis=(0, 1)) == 255).all()  # painted, not blank
