"""Tests for the MNIST and training plots in lesson4_support.figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lesson4_support import figures


def test_digit_grid_draws_one_panel_per_image_with_titles():
    images = np.random.default_rng(0).integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    fig = figures.plot_digit_grid(images, [f"label {i}" for i in range(10)], ncols=4)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 12 and len(drawn) == 10
    assert drawn[3].get_title() == "label 3"
    fig = figures.plot_digit_grid(images[:, None], ncols=20)  # channel dimension, ncols capped
    assert len(fig.axes) == 10


def test_digit_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        figures.plot_digit_grid(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="one title per image"):
        figures.plot_digit_grid(np.zeros((3, 28, 28)), ["a"])


def test_class_counts_bars():
    ax = figures.plot_class_counts({"train": np.arange(10) + 1, "test": np.ones(10)})
    assert len(ax.patches) == 20
    with pytest.raises(ValueError, match="same length"):
        figures.plot_class_counts({"train": np.ones(10), "test": np.ones(9)})


def test_curves_with_marker_and_log_scale():
    ax = figures.plot_curves({"train": [1.0, 0.5, 0.3], "val": [1.1, 0.6, 0.5]}, log=True, marker_at=2)
    assert len(ax.lines) == 3 and ax.get_yscale() == "log"
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="x has"):
        figures.plot_curves({"train": [1, 2]}, x=[1, 2, 3])


def test_confusion_matrix_writes_every_count():
    matrix = np.array([[5, 1], [0, 7]])
    ax = figures.plot_confusion_matrix(matrix, class_names=["a", "b"])
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "5", "7"]
    ax = figures.plot_confusion_matrix(matrix, normalize=True)
    assert "0.83" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="square"):
        figures.plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="class names"):
        figures.plot_confusion_matrix(np.ones((2, 2)), class_names=["a"])


def test_seconds_per_epoch_bars():
    ax = figures.plot_seconds_per_epoch({"DataLoader": 14.0, "tensors": 1.5})
    assert len(ax.patches) == 2
    assert [t.get_text() for t in ax.texts] == [" 14.0 s", " 1.5 s"]


def test_confusion_matrix_of_fractions_shows_the_fractions():
    matrix = np.array([[0.25, 0.05], [0.1, 0.6]])
    ax = figures.plot_confusion_matrix(matrix)
    assert sorted(t.get_text() for t in ax.texts) == ["0.05", "0.1", "0.25", "0.6"]


def test_normalised_rows_sum_to_one_whatever_their_total():
    matrix = np.array([[0.2, 0.2, 0.1], [0.0, 0.0, 0.0], [3.0, 1.0, 0.0]])
    ax = figures.plot_confusion_matrix(matrix, normalize=True)
    cells = np.array([float(t.get_text()) for t in ax.texts]).reshape(3, 3)
    np.testing.assert_allclose(cells, [[0.4, 0.4, 0.2], [0, 0, 0], [0.75, 0.25, 0]])


def test_seconds_per_epoch_labels_show_the_smallest_bar():
    ax = figures.plot_seconds_per_epoch({"eager": 0.31, "graphed": 0.04})
    assert [t.get_text() for t in ax.texts] == [" 0.310 s", " 0.040 s"]
    ax = figures.plot_seconds_per_epoch({"eager": 0.123, "graphed": 0.0456})
    assert [t.get_text() for t in ax.texts] == [" 0.123 s", " 0.046 s"]
    for bad in ({"eager": 0.0}, {"eager": float("nan")}, {}):
        with pytest.raises(ValueError, match="positive, finite"):
            figures.plot_seconds_per_epoch(bad)


def test_save_figure_writes_png_only(tmp_path):
    fig, ax = plt.subplots()
    assert figures.save_figure(fig, "plot.png", tmp_path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("plot.svg", "plot.pdf", "plot"):
        with pytest.raises(ValueError, match="must end in .png"):
            figures.save_figure(fig, name, tmp_path)
        assert not (tmp_path / name).exists()
    plt.close(fig)
