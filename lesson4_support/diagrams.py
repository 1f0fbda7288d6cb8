"""The lesson's diagrams, drawn in code with Matplotlib: networks, perceptrons, the
backpropagation graph, padding and stride, a CNN's tensors, and recurrent cells.

Each function returns a new Matplotlib ``Figure``; a chapter shows it and writes it to the
media folder with :func:`lesson4_support.figures.save_figure`.  The drawings use only the
house palette, and the same arguments always give the same picture, so the PNG files are
byte for byte repeatable.
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np

from .convolution import output_size
from .figures import PALETTE

#: Fill and edge colours per kind of node.
_INPUT = ("#D6EAF8", PALETTE[0])
_HIDDEN = ("#FCEBCB", PALETTE[1])
_OUTPUT = ("#D3F0E6", PALETTE[2])
_OPERATION = ("#F2F2F2", "0.25")
_EDGE = "0.45"


def _canvas(width: float, height: float, xlim, ylim):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    return fig, ax


def _node(ax, xy, text: str, colors, radius: float = 0.32, fontsize: int = 12):
    from matplotlib.patches import Circle

    face, edge = colors
    ax.add_patch(Circle(xy, radius, facecolor=face, edgecolor=edge, linewidth=1.8, zorder=3))
    if text:
        ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _box(ax, xy, width: float, height: float, text: str = "", colors=_OPERATION, fontsize: int = 12):
    from matplotlib.patches import FancyBboxPatch

    face, edge = colors
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                facecolor=face, edgecolor=edge, linewidth=1.6, zorder=3))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _arrow(ax, start, end, shrink_start: float = 0.34, shrink_end: float = 0.34, color=_EDGE, width: float = 1.3,
           connection: str = "arc3"):
    """An arrow from ``start`` to ``end``, shortened at both ends; ``connection`` curves it."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    direction = (end - start) / np.linalg.norm(end - start)
    a, b = start + shrink_start * direction, end - shrink_end * direction
    ax.annotate("", xy=b, xytext=a, zorder=2,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=width, shrinkA=0, shrinkB=0, mutation_scale=12,
                                connectionstyle=connection))


def _label_on_edge(ax, start, end, text: str, where: float = 0.5, offset: float = 0.18, fontsize: int = 11):
    start, end = np.asarray(start, float), np.asarray(end, float)
    point = start + where * (end - start)
    normal = np.array([-(end - start)[1], (end - start)[0]])
    normal = normal / np.linalg.norm(normal)
    ax.text(*(point + offset * normal), text, ha="center", va="center", fontsize=fontsize, color="0.1", zorder=5,
            bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none", alpha=0.85))


def _step_glyph(ax, center, size: float = 0.5, color=PALETTE[5]):
    """A tiny plot of the step function, drawn inside an activation box."""
    x, y = center
    h = size / 2
    ax.plot([x - h, x - h / 8, x - h / 8, x + h], [y - h * 0.6, y - h * 0.6, y + h * 0.6, y + h * 0.6],
            color=color, lw=2, zorder=4, solid_joinstyle="miter")
    ax.plot([x - h, x + h], [y - h * 0.75, y - h * 0.75], color="0.5", lw=0.8, zorder=4)


def _column(count: int, spacing: float = 1.0) -> np.ndarray:
    """Vertical positions of ``count`` nodes centred on zero."""
    return (np.arange(count)[::-1] - (count - 1) / 2) * spacing


def network_diagram(layer_sizes: Sequence[int] = (3, 4, 4, 2), *, layer_names: Sequence[str] | None = None):
    """A fully connected feed-forward network: one column of nodes per layer, every edge drawn.

    ``layer_sizes`` lists the node count of each layer from input to output (an input and an
    output layer at least; more than a dozen nodes in a column get crowded).  ``layer_names``
    optionally replaces the default labels under the columns.
    """
    sizes = list(layer_sizes)
    if layer_names is None:
        hidden = len(sizes) - 2
        layer_names = (["input layer"] + [f"hidden layer {i + 1}" if hidden > 1 else "hidden layer"
                                           for i in range(hidden)] + ["output layer"])
    elif len(layer_names) != len(sizes):
        raise ValueError(f"layer_names has {len(layer_names)} entries but there are {len(sizes)} layers")

    gap = 2.4
    tallest = max(sizes)
    fig, ax = _canvas(1.9 * len(sizes) + 0.6, 0.75 * tallest + 1.4,
                      (-0.8, gap * (len(sizes) - 1) + 0.8), (-tallest / 2 - 1.0, tallest / 2 + 0.2))
    columns = [_column(n) for n in sizes]
    for i in range(len(sizes) - 1):
        for y0 in columns[i]:
            for y1 in columns[i + 1]:
                ax.plot([i * gap, (i + 1) * gap], [y0, y1], color=_EDGE, lw=0.9, zorder=1)
    for i, (ys, name) in enumerate(zip(columns, layer_names, strict=True)):
        colors = _INPUT if i == 0 else _OUTPUT if i == len(sizes) - 1 else _HIDDEN
        for j, y in enumerate(ys):
            text = f"$x_{j + 1}$" if i == 0 else (f"$\\hat y_{j + 1}$" if i == len(sizes) - 1 and sizes[-1] > 1
                                                 else "$\\hat y$" if i == len(sizes) - 1 else "")
            _node(ax, (i * gap, y), text, colors)
        ax.text(i * gap, -tallest / 2 - 0.55, name, ha="center", va="center", fontsize=11)
    return fig


def weighted_sum_diagram(n_inputs: int = 3):
    """Inputs, weights on the edges and one output node computing their weighted sum plus a bias."""
    n = n_inputs
    ys = _column(n, 1.1)
    top = max(ys.max(), 0.0)
    fig, ax = _canvas(6.4, 1.0 * n + 1.6, (-0.9, 5.9), (ys.min() - 0.8, top + 1.2))
    output = (3.2, 0.0)
    for j, y in enumerate(ys):
        _node(ax, (0.0, y), f"$x_{j + 1}$", _INPUT)
        _arrow(ax, (0.0, y), output, shrink_end=0.5)
        _label_on_edge(ax, (0.0, y), output, f"$w_{j + 1}$", where=0.45)
    bias = (3.2, top + 0.75)
    _node(ax, bias, "$1$", _OPERATION, radius=0.24, fontsize=11)
    _arrow(ax, bias, output, shrink_start=0.26, shrink_end=0.5)
    ax.text(3.45, (bias[1] + output[1]) / 2 + 0.1, "$b$", ha="left", va="center", fontsize=11)
    _node(ax, output, "$z$", _OUTPUT, radius=0.45, fontsize=13)
    _arrow(ax, output, (4.6, 0.0), shrink_start=0.46, shrink_end=0.0)
    ax.text(4.7, 0.0, "output", ha="left", va="center", fontsize=11)
    ax.text(2.5, ys.min() - 0.45, "$z = x_1 w_1 + \\dots + x_d w_d + b$", ha="center", va="center", fontsize=12)
    return fig


def perceptron_diagram(n_inputs: int = 3, *, simplified: bool = False):
    """The perceptron as a chain of steps, or in its usual simplified form.

    The full form draws each step separately: inputs, multiplication by a weight, the sum
    with the bias, the step activation and the output.  The simplified form puts the weights
    on the edges and groups the sum and the activation into one neuron.
    """
    n = n_inputs
    ys = _column(n, 1.1)
    bottom = ys.min() - 0.9
    if simplified:
        fig, ax = _canvas(6.4, 1.0 * n + 1.8, (-0.8, 6.2), (bottom, max(ys.max(), 0.0) + 1.3))
        neuron = (3.0, 0.0)
        bias = (3.0, max(ys.max(), 0.0) + 0.85)
        _node(ax, bias, "$b$", _OPERATION, radius=0.26, fontsize=11)
        _arrow(ax, bias, neuron, shrink_start=0.28, shrink_end=0.62)
        for j, y in enumerate(ys):
            _node(ax, (0.0, y), f"$x_{j + 1}$", _INPUT)
            _arrow(ax, (0.0, y), neuron, shrink_end=0.62)
            _label_on_edge(ax, (0.0, y), neuron, f"$w_{j + 1}$", where=0.45)
        from matplotlib.patches import Circle, Wedge

        ax.add_patch(Wedge(neuron, 0.6, 90, 270, facecolor=_HIDDEN[0], edgecolor="none", zorder=3))
        ax.add_patch(Wedge(neuron, 0.6, -90, 90, facecolor=_OUTPUT[0], edgecolor="none", zorder=3))
        ax.add_patch(Circle(neuron, 0.6, facecolor="none", edgecolor="0.25", linewidth=1.8, zorder=4))
        ax.plot([3.0, 3.0], [-0.6, 0.6], color="0.25", lw=1.2, zorder=4)
        ax.text(2.72, 0.0, "$\\Sigma$", ha="center", va="center", fontsize=15, zorder=5)
        _step_glyph(ax, (3.28, 0.0), size=0.36)
        _arrow(ax, neuron, (4.7, 0.0), shrink_start=0.62, shrink_end=0.34)
        _node(ax, (4.7, 0.0), "$\\hat y$", _OUTPUT)
        ax.text(3.0, -0.85, "sum | step", ha="center", va="center", fontsize=10, color="0.3")
        ax.text(0.0, bottom + 0.15, "inputs", ha="center", fontsize=11)
        ax.text(4.7, -0.75, "output", ha="center", va="center", fontsize=11)
        return fig

    fig, ax = _canvas(8.6, 1.0 * n + 1.8, (-0.8, 9.2), (bottom - 0.2, max(ys.max(), 0.0) + 1.3))
    total, activation, output = (4.4, 0.0), (6.3, 0.0), (8.2, 0.0)
    for j, y in enumerate(ys):
        _node(ax, (0.0, y), f"$x_{j + 1}$", _INPUT)
        _box(ax, (1.9, y), 0.95, 0.5, f"$\\times\\, w_{j + 1}$", _HIDDEN, fontsize=11)
        _arrow(ax, (0.0, y), (1.9, y), shrink_end=0.55)
        _arrow(ax, (1.9, y), total, shrink_start=0.55, shrink_end=0.5)
    bias = (4.4, max(ys.max(), 0.0) + 0.85)
    _node(ax, bias, "$b$", _OPERATION, radius=0.26, fontsize=11)
    _arrow(ax, bias, total, shrink_start=0.28, shrink_end=0.5)
    _node(ax, total, "$\\Sigma$", _OPERATION, radius=0.45, fontsize=15)
    _box(ax, activation, 0.9, 0.8, colors=_OPERATION)
    _step_glyph(ax, activation, size=0.6)
    _arrow(ax, total, activation, shrink_start=0.47, shrink_end=0.52)
    _label_on_edge(ax, total, activation, "$z$", offset=0.2)
    _arrow(ax, activation, output, shrink_start=0.52, shrink_end=0.34)
    _node(ax, output, "$\\hat y$", _OUTPUT)
    for x, text in [(0.0, "inputs"), (1.9, "weights"), (4.4, "weighted sum"), (6.3, "step activation"),
                    (8.2, "output")]:
        ax.text(x, bottom, text, ha="center", va="center", fontsize=10.5)
    return fig


def padding_stride_diagram(size: int = 5, kernel_size: int = 3, settings=((0, 1), (1, 1), (1, 2))):
    """Where a kernel sits on a padded input, and how big the output is, for each setting.

    One panel per ``(padding, stride)`` pair: the ``size`` × ``size`` input (blue) inside its
    frame of zeros (grey), the kernel's first two positions along the top row (orange, then
    green, dashed), and below it the output grid whose side
    :func:`lesson4_support.convolution.output_size` gives, with the two cells those positions
    produce in the same colours.
    """
    from matplotlib.patches import Rectangle

    settings = list(settings)
    widest = max(size + 2 * padding for padding, _ in settings)
    tallest_output = max(output_size(size, kernel_size, s, p) for p, s in settings)
    gap, drop = 2.0, widest + 1.6
    first, second = PALETTE[1], PALETTE[2]
    fig, ax = _canvas(3.2 * len(settings), 1.0 + 0.36 * (drop + tallest_output + 1.6),
                      (-0.3, len(settings) * (widest + gap) - gap + 0.3), (-drop - tallest_output - 1.9, 1.8))

    def cell(x, y, face, text=""):
        ax.add_patch(Rectangle((x, y), 1, 1, facecolor=face, edgecolor="0.45", linewidth=0.8))
        if text:
            ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=8, color="0.45")

    def outline(x, color, style):
        inset = 0.08 if style == "-" else 0.16
        ax.add_patch(Rectangle((x + inset, -kernel_size + inset), kernel_size - 2 * inset,
                               kernel_size - 2 * inset, fill=False, edgecolor=color, linewidth=2.6,
                               linestyle=style, zorder=4))

    for panel, (padding, stride) in enumerate(settings):
        padded, out = size + 2 * padding, output_size(size, kernel_size, stride, padding)
        centre = panel * (widest + gap) + widest / 2
        left, out_left = centre - padded / 2, centre - out / 2
        for row in range(padded):
            for col in range(padded):
                inside = padding <= row < padding + size and padding <= col < padding + size
                cell(left + col, -row - 1, _INPUT[0] if inside else "#EDEDED", text="" if inside else "0")
        outline(left, first, "-")
        if out > 1:
            outline(left + stride, second, "--")
        for row in range(out):
            for col in range(out):
                face = first if (row, col) == (0, 0) else second if (row, col) == (0, 1) else _HIDDEN[0]
                cell(out_left + col, -drop - row - 1, face)
        ax.text(centre, 0.7, f"padding {padding}, stride {stride}", ha="center", va="bottom", fontsize=12)
        ax.text(centre, -drop - out - 0.6, f"{size}×{size} → {out}×{out}", ha="center", va="top",
                fontsize=12)
        _arrow(ax, (centre, -padded - 0.2), (centre, -drop + 0.2), shrink_start=0, shrink_end=0)
    return fig


def feature_map_diagram(stages: Sequence[tuple[str, Sequence[int]]]):
    """Draw a network as the tensors it passes along, left to right.

    ``stages`` lists, from the input on, each tensor's shape without the batch dimension and
    the operation that produced it, for example ``[("input", (1, 28, 28)), ("conv 3×3 + ReLU",
    (16, 28, 28)), ..., ("dense", (10,))]``.  A ``(channels, height, width)`` tensor is drawn
    as a stack of sheets whose size follows ``height``; a flat ``(n,)`` tensor as a bar.
    """
    stages = list(stages)
    shapes = [tuple(int(n) for n in shape) for _, shape in stages]
    for (name, _), shape in zip(stages, shapes, strict=True):
        if len(shape) not in (1, 3):
            raise ValueError(f"stage {name!r}: shapes must be (channels, height, width) or (n,), got {shape}")
    tallest = max(shape[1] if len(shape) == 3 else 0 for shape in shapes) or 28

    def extent(shape):  # width and height of the drawing of one tensor
        if len(shape) == 1:
            return 0.32, 0.6 + 2.4 * min(shape[0], 2000) / 2000
        side = 0.6 + 2.2 * shape[1] / tallest
        sheets = _sheet_count(shape[0])
        return side + 0.14 * (sheets - 1), side + 0.14 * (sheets - 1)

    gap = 2.0
    widths = [extent(shape)[0] for shape in shapes]
    lefts = np.concatenate([[0.0], np.cumsum(np.array(widths[:-1]) + gap)])
    right = lefts[-1] + widths[-1]
    fig, ax = _canvas(min(1.0 + 0.52 * right, 11.0), 3.5, (-0.3, right + 0.3), (-2.4, 2.2))
    for index, ((name, _), shape, left, width) in enumerate(zip(stages, shapes, lefts, widths, strict=True)):
        colors = _INPUT if index == 0 else _OUTPUT if index == len(stages) - 1 else _HIDDEN
        if len(shape) == 3:
            side = width - 0.14 * (_sheet_count(shape[0]) - 1)
            for sheet in range(_sheet_count(shape[0])):
                offset = 0.14 * sheet
                ax.add_patch(_rectangle((left + offset, -side / 2 + offset - 0.2), side, side, colors))
            label = f"{shape[0]}×{shape[1]}×{shape[2]}"
        else:
            height = extent(shape)[1]
            ax.add_patch(_rectangle((left, -height / 2), width, height, colors))
            label = f"{shape[0]:,}"
        ax.text(left + width / 2, -2.05, label, ha="center", va="center", fontsize=11)
        if index:
            start, end = lefts[index - 1] + widths[index - 1] + 0.12, left - 0.12
            _arrow(ax, (start, 0.0), (end, 0.0), shrink_start=0, shrink_end=0)
            ax.text((start + end) / 2, 0.25, textwrap.fill(name, 9), ha="center", va="bottom",
                    fontsize=10, color="0.15", linespacing=1.1)
    ax.text(widths[0] / 2, 1.75, stages[0][0], ha="center", va="center", fontsize=11)
    return fig


def _sheet_count(channels: int) -> int:
    """How many sheets stand for ``channels`` feature maps: one per doubling, at most six."""
    return int(min(1 + np.log2(channels), 6))


def _rectangle(xy, width: float, height: float, colors):
    from matplotlib.patches import Rectangle

    face, edge = colors
    return Rectangle(xy, width, height, facecolor=face, edgecolor=edge, linewidth=1.4, zorder=3)


def lstm_cell_diagram():
    """Draw one LSTM cell: the cell-state line on top, the four gate layers below it.

    The forget gate scales the old cell state, the input gate scales the candidate that is
    added to it, and the output gate scales ``tanh`` of the new cell state to give ``h_t``.
    """
    fig, ax = _canvas(8.4, 5.3, (-1.3, 9.6), (-2.2, 5.3))
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((0.0, 0.0), 8.2, 4.8, boxstyle="round,pad=0.1", facecolor="#FAFAFA",
                                edgecolor="0.55", linewidth=1.4, zorder=0))
    state_y, gate_y, bus_y = 4.0, 1.7, 0.7
    state = dict(color=PALETTE[0], width=2.4)
    forget, add, output = (1.8, state_y), (3.9, state_y), (7.3, gate_y)
    gates = [("$\\sigma$", "$f_t$", 1.8), ("$\\sigma$", "$i_t$", 3.2), ("tanh", "$g_t$", 4.6),
             ("$\\sigma$", "$o_t$", 6.0)]

    # The cell state runs straight through: scaled by f_t, then the gated candidate is added.
    _arrow(ax, (-1.0, state_y), forget, shrink_start=0, shrink_end=0.28, **state)
    _arrow(ax, forget, add, shrink_start=0.28, shrink_end=0.28, **state)
    _arrow(ax, add, (9.3, state_y), shrink_start=0.28, shrink_end=0, **state)
    ax.text(-1.0, state_y + 0.35, "$c_{t-1}$", ha="left", va="bottom", fontsize=13)
    ax.text(9.3, state_y + 0.35, "$c_t$", ha="right", va="bottom", fontsize=13)
    _node(ax, forget, "×", _OPERATION, radius=0.28, fontsize=14)
    _node(ax, add, "+", _OPERATION, radius=0.28, fontsize=14)

    # h_{t-1} and x_t are joined on one bus that feeds all four gate layers.
    _arrow(ax, (-1.0, bus_y), (6.0, bus_y), shrink_start=0, shrink_end=0, width=1.6)
    _arrow(ax, (0.9, -1.0), (0.9, bus_y), shrink_start=0, shrink_end=0, width=1.6)
    ax.text(-1.0, bus_y + 0.2, "$h_{t-1}$", ha="left", va="bottom", fontsize=13)
    ax.text(1.1, -0.85, "$x_t$", ha="left", va="center", fontsize=13)
    for label, name, x in gates:
        _arrow(ax, (x, bus_y), (x, gate_y - 0.3), shrink_start=0, shrink_end=0)
        _box(ax, (x, gate_y), 0.8, 0.55, label, _HIDDEN if label != "tanh" else _INPUT, fontsize=12)
        ax.text(x + 0.48, gate_y + 0.55, name, ha="left", va="center", fontsize=12, color="0.2")

    product = (3.9, 2.85)  # i_t ⊙ g_t
    _arrow(ax, (3.2, gate_y + 0.3), product, shrink_start=0, shrink_end=0.3)
    _arrow(ax, (4.6, gate_y + 0.3), product, shrink_start=0, shrink_end=0.3)
    _node(ax, product, "×", _OPERATION, radius=0.28, fontsize=14)
    _arrow(ax, product, add, shrink_start=0.28, shrink_end=0.28)
    _arrow(ax, (1.8, gate_y + 0.3), forget, shrink_start=0, shrink_end=0.28)

    # The output: tanh of the new cell state, scaled by o_t.
    squash = (7.3, 2.85)
    _arrow(ax, (7.3, state_y), squash, shrink_start=0, shrink_end=0.3)
    _box(ax, squash, 0.8, 0.5, "tanh", _OPERATION, fontsize=11)
    _arrow(ax, (6.4, gate_y), output, shrink_start=0, shrink_end=0.28)
    _arrow(ax, squash, output, shrink_start=0.3, shrink_end=0.28)
    _node(ax, output, "×", _OPERATION, radius=0.28, fontsize=14)
    _arrow(ax, output, (9.3, output[1]), shrink_start=0.28, shrink_end=0, width=1.6)
    ax.text(9.3, output[1] + 0.2, "$h_t$", ha="right", va="bottom", fontsize=13)

    ax.text(4.1, -1.85, "σ, tanh: layers with their own weights    ×, +: element by element",
            ha="center", va="center", fontsize=10.5, color="0.3")
    return fig


def unrolled_rnn_diagram(steps: int = 4):
    """Draw a recurrent cell folded (with its loop) and unrolled over ``steps`` time steps."""
    import matplotlib.pyplot as plt

    cell, state, inputs = _HIDDEN, _OUTPUT, _INPUT
    width, height, dx = 0.9, 0.62, 1.55
    fig, ax = plt.subplots(figsize=(3.1 + 1.55 * steps, 3.6))
    ax.set_axis_off()

    def box(xy, text, w, h, colors):
        _box(ax, xy, w, h, text, colors=colors, fontsize=13)

    def arrow(start, end, connection="arc3"):
        _arrow(ax, start, end, shrink_start=0, shrink_end=0, connection=connection)

    # The folded view: one cell whose state feeds back into itself.
    box((0, 0), "cell", width, height, cell)
    box((0, -1.35), "$x_t$", 0.6, 0.42, inputs)
    box((0, 1.35), "$h_t$", 0.6, 0.42, state)
    arrow((0, -1.14), (0, -height / 2))
    arrow((0, height / 2), (0, 1.14))
    arrow((width / 2, 0.2), (width / 2, -0.2), connection="arc3,rad=-1.9")
    ax.text(0.92, 0.0, "$h_{t-1}$", ha="left", va="center", fontsize=11, color="0.25")
    ax.text(1.8, 0, "=", ha="center", va="center", fontsize=24)

    # The unrolled view: one copy of the same cell per time step.
    first = 2.95 + width / 2
    box((first - 0.95, 0), "$h_0$", 0.5, 0.42, state)
    arrow((first - 0.70, 0), (first - width / 2, 0))
    for t in range(1, steps + 1):
        cx = first + (t - 1) * dx
        box((cx, 0), "cell", width, height, cell)
        box((cx, -1.35), f"$x_{t}$", 0.6, 0.42, inputs)
        box((cx, 1.35), f"$h_{t}$", 0.6, 0.42, state)
        arrow((cx, -1.14), (cx, -height / 2))
        arrow((cx, height / 2), (cx, 1.14))
        if t < steps:
            arrow((cx + width / 2, 0), (cx + dx - width / 2, 0))
            ax.text(cx + dx / 2, 0.1, f"$h_{t}$", ha="center", va="bottom", fontsize=10, color="0.25")
    last = first + (steps - 1) * dx
    ax.text((first + last) / 2, -2.0, r"the same $W_{xh}$, $W_{hh}$ and $b$ in every cell",
            ha="center", va="center", fontsize=12, color=PALETTE[0])
    ax.text(0, -2.0, "folded", ha="center", va="center", fontsize=11, color="0.35")
    ax.set_xlim(-0.8, last + 0.8)
    ax.set_ylim(-2.3, 1.75)
    ax.set_aspect("equal")
    return fig


# Node name -> (x, y, label, kind).  kind: "value" (computed), "param" (learned), "data".
_GRAPH_NODES = {
    "x": (0.0, 0.0, "$x$", "data"),
    "W1": (1.0, 1.25, "$W_1$", "param"),
    "b1": (1.9, 1.25, "$b_1$", "param"),
    "z1": (1.5, 0.0, "$z_1$", "value"),
    "a1": (3.0, 0.0, "$a_1$", "value"),
    "W2": (4.0, 1.25, "$W_2$", "param"),
    "b2": (4.9, 1.25, "$b_2$", "param"),
    "z2": (4.5, 0.0, "$z_2$", "value"),
    "p": (6.0, 0.0, "$p$", "value"),
    "y": (7.5, 1.25, "$y$", "data"),
    "L": (7.5, 0.0, "$L$", "value"),
}
_GRAPH_FORWARD = [("x", "z1"), ("W1", "z1"), ("b1", "z1"), ("z1", "a1"), ("a1", "z2"), ("W2", "z2"),
            ("b2", "z2"), ("z2", "p"), ("p", "L"), ("y", "L")]
# (from, to, label of the local derivative carried backwards)
_GRAPH_BACKWARD = [
    ("L", "p", r"$\partial L / \partial p$"),
    ("p", "z2", r"$p(1-p)$"),
    ("z2", "a1", r"$W_2^{\top}$"),
    ("a1", "z1", r"$a_1(1-a_1)$"),
]
_GRAPH_PARAM_GRADS = [("z2", "W2", r"$a_1^{\top}\,\delta_2$"), ("z1", "W1", r"$x^{\top}\,\delta_1$")]
_GRAPH_OPERATIONS = {"z1": r"$xW_1{+}b_1$", "a1": r"$\sigma$", "z2": r"$a_1W_2{+}b_2$", "p": r"$\sigma$", "L": "cross-entropy"}


def computation_graph_diagram(ax=None, *, backward: bool = True):
    """Draw the backpropagation chapter's two-layer network as a computation graph.

    Forward edges are solid and dark; with ``backward`` the gradient flow is drawn in
    orange, dashed, from the loss back to the weights, each edge labelled with the
    local derivative the chain rule multiplies in.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 3.6))
    else:
        fig = ax.figure
    colours = {"value": "white", "param": PALETTE[4], "data": "0.85"}
    for x, y, label, kind in _GRAPH_NODES.values():
        ax.text(x, y, label, ha="center", va="center", fontsize=15, zorder=3,
                bbox=dict(boxstyle="circle,pad=0.35", facecolor=colours[kind], edgecolor="0.15", lw=1.3))

    def arrow(a, b, **style):
        (xa, ya), (xb, yb) = _GRAPH_NODES[a][:2], _GRAPH_NODES[b][:2]
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya), zorder=2,
                    arrowprops=dict(arrowstyle="-|>", shrinkA=17, shrinkB=17, **style))

    for a, b in _GRAPH_FORWARD:
        arrow(a, b, color="0.15", lw=1.4)
    chain = ["x", "z1", "a1", "z2", "p", "L"]
    for a, b in zip(chain, chain[1:], strict=False):  # the operation each step of the chain applies
        xm = (_GRAPH_NODES[a][0] + _GRAPH_NODES[b][0]) / 2
        ax.text(xm, 0.1, _GRAPH_OPERATIONS[b], ha="center", va="bottom", fontsize=9, color="0.3")
    if backward:
        orange = PALETTE[5]
        for a, b, label in _GRAPH_BACKWARD:
            arrow(a, b, color=orange, lw=1.8, ls="--", connectionstyle="arc3,rad=-0.5")
            xm = (_GRAPH_NODES[a][0] + _GRAPH_NODES[b][0]) / 2
            ax.text(xm, -0.5, label, ha="center", va="top", fontsize=11, color=orange)
        for a, b, label in _GRAPH_PARAM_GRADS:
            arrow(a, b, color=orange, lw=1.5, ls="--", connectionstyle="arc3,rad=-0.3")
            xm, ym = (_GRAPH_NODES[a][0] + _GRAPH_NODES[b][0]) / 2, (_GRAPH_NODES[a][1] + _GRAPH_NODES[b][1]) / 2
            ax.text(xm - 0.45, ym + 0.1, label, ha="right", va="center", fontsize=10, color=orange)
        ax.plot([], [], color="0.15", lw=1.4, label="forward: compute values")
        ax.plot([], [], color=orange, lw=1.8, ls="--", label="backward: multiply local derivatives")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, -0.04), fontsize=9, ncol=2)
    ax.set_xlim(-0.9, 8.0)
    ax.set_ylim(-1.45, 1.75)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
