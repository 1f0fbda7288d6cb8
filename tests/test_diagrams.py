"""The network and perceptron diagrams: drawn, written and repeatable byte for byte."""

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from lesson4_support import diagrams, figures
from lesson4_support.convolution import output_size


def count_circles(fig):
    from matplotlib.patches import Circle

    return sum(isinstance(p, Circle) for p in fig.axes[0].patches)


def test_network_diagram_has_one_node_per_unit_and_one_edge_per_pair():
    fig = diagrams.network_diagram((3, 4, 2))
    assert count_circles(fig) == 3 + 4 + 2
    edges = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 2]
    assert len(edges) == 3 * 4 + 4 * 2
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "input layer" in labels and "hidden layer" in labels and "output layer" in labels


def test_network_diagram_names_several_hidden_layers_and_accepts_custom_names():
    fig = diagrams.network_diagram((2, 3, 3, 1))
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "hidden layer 1" in labels and "hidden layer 2" in labels
    fig = diagrams.network_diagram((2, 1), layer_names=["in", "out"])
    assert {"in", "out"} <= {t.get_text() for t in fig.axes[0].texts}


def test_network_diagram_rejects_mismatched_names():
    with pytest.raises(ValueError, match="layer_names has 1 entries but there are 2 layers"):
        diagrams.network_diagram((2, 1), layer_names=["only one"])


def test_weighted_sum_diagram_labels_every_weight():
    fig = diagrams.weighted_sum_diagram(4)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {f"$w_{i}$" for i in range(1, 5)} <= texts
    assert {f"$x_{i}$" for i in range(1, 5)} <= texts
    assert "$b$" in texts


@pytest.mark.parametrize("simplified", [False, True])
def test_perceptron_diagram_shows_inputs_weights_bias_and_output(simplified):
    fig = diagrams.perceptron_diagram(3, simplified=simplified)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for part in ("$x_1$", "$x_3$", "w_1", "w_3", "$b$", "$\\hat y$", "$\\Sigma$"):
        assert part in texts


def test_full_and_simplified_perceptrons_differ():
    full = diagrams.perceptron_diagram(2)
    simple = diagrams.perceptron_diagram(2, simplified=True)
    assert "step activation" in {t.get_text() for t in full.axes[0].texts}
    assert "step activation" not in {t.get_text() for t in simple.axes[0].texts}


CNN_STAGES = [("input", (1, 28, 28)), ("conv 3×3 + ReLU", (16, 28, 28)), ("max pool 2×2", (16, 14, 14)),
              ("conv 3×3 + ReLU", (32, 14, 14)), ("max pool 2×2", (32, 7, 7)), ("flatten", (1568,)),
              ("dense", (10,))]


def test_feature_map_diagram_labels_every_shape_and_operation():
    fig = diagrams.feature_map_diagram(CNN_STAGES)
    texts = [t.get_text().replace("\n", " ") for t in fig.axes[0].texts]
    for label in ["1×28×28", "16×28×28", "16×14×14", "32×14×14", "32×7×7", "1,568", "10", "input",
                  "conv 3×3 + ReLU", "max pool 2×2", "flatten", "dense"]:
        assert label in texts, f"{label!r} missing from {texts}"
    plt.close(fig)


def test_feature_map_diagram_rejects_a_shape_that_is_not_a_tensor_or_a_vector():
    with pytest.raises(ValueError, match="stage 'conv': shapes must be"):
        diagrams.feature_map_diagram([("input", (1, 28, 28)), ("conv", (16, 28))])


def test_lstm_cell_diagram_names_every_gate_and_state():
    fig = diagrams.lstm_cell_diagram()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$"} <= texts
    plt.close(fig)


LESSON_DIAGRAMS = {  # as chapters 01 and 02 draw them
    "network": lambda: diagrams.network_diagram((3, 4, 4, 2)),
    "weighted_sum": lambda: diagrams.weighted_sum_diagram(n_inputs=3),
    "perceptron": lambda: diagrams.perceptron_diagram(n_inputs=3),
    "perceptron_simplified": lambda: diagrams.perceptron_diagram(n_inputs=3, simplified=True),
    "lstm_cell": diagrams.lstm_cell_diagram,
    "cnn_architecture": lambda: diagrams.feature_map_diagram(CNN_STAGES),
    "rnn_unrolled": lambda: diagrams.unrolled_rnn_diagram(steps=4),
    "backprop_computation_graph": diagrams.computation_graph_diagram,
}


@pytest.mark.parametrize("name", LESSON_DIAGRAMS)
def test_each_diagram_saves_as_a_png_and_repeats_byte_for_byte(tmp_path, name):
    figures.use_house_style()
    written = []
    for run in ("a", "b"):
        fig = LESSON_DIAGRAMS[name]()
        written.append(figures.save_figure(fig, f"{name}.png", tmp_path / run))
        plt.close(fig)
    with Image.open(written[0]) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width > 300 and height > 150
    assert written[0].read_bytes() == written[1].read_bytes(), f"{name} changed between two runs"
    assert not plt.get_fignums(), "a diagram left figures open"


def test_unrolled_rnn_diagram_draws_one_cell_per_step():
    for steps in (2, 5):
        fig = diagrams.unrolled_rnn_diagram(steps=steps)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert texts.count("cell") == steps + 1  # the folded cell and one per step
        assert f"$x_{steps}$" in texts and f"$x_{steps + 1}$" not in texts
        plt.close(fig)


def test_computation_graph_draws_the_backward_pass_only_when_asked():
    with_backward, forward_only = diagrams.computation_graph_diagram(), diagrams.computation_graph_diagram(backward=False)
    labels = lambda fig: {t.get_text() for t in fig.axes[0].texts}
    assert "$p(1-p)$" in labels(with_backward) and "$p(1-p)$" not in labels(forward_only)
    assert {"$W_1$", "$L$", "$x$"} <= labels(forward_only)
    plt.close("all")


def test_padding_stride_diagram_draws_every_input_and_output_cell(saved_twice):
    from matplotlib.patches import Rectangle

    settings = [(0, 1), (1, 1), (1, 2), (2, 3)]
    fig = diagrams.padding_stride_diagram(size=5, kernel_size=3, settings=settings)
    cells = sum(isinstance(p, Rectangle) and p.get_width() == 1 and p.fill for p in fig.axes[0].patches)
    outlines = sum(isinstance(p, Rectangle) and not p.fill for p in fig.axes[0].patches)
    expected_cells = sum((5 + 2 * p) ** 2 + output_size(5, 3, s, p) ** 2 for p, s in settings)
    assert cells == expected_cells
    assert outlines == 2 * len(settings)  # the first two kernel positions of every panel
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "5×5 → 3×3" in texts and "5×5 → 5×5" in texts and "padding 2, stride 3" in texts
    plt.close(fig)
    first, second = saved_twice(lambda: diagrams.padding_stride_diagram(), "conv_padding_stride.png")
    assert first == second
