"""Tests for lesson4_support.convolution: output sizes and pictures, checked against a reference
convolution that is itself checked against PyTorch."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lesson4_support import animation, convolution


def random_case(rng):
    """A random but valid convolution: input size, kernel, stride, padding, dilation."""
    while True:
        size = int(rng.integers(1, 40))
        kernel = int(rng.integers(1, 8))
        stride = int(rng.integers(1, 5))
        padding = int(rng.integers(0, 4))
        dilation = int(rng.integers(1, 4))
        if dilation * (kernel - 1) + 1 <= size + 2 * padding:
            return size, kernel, stride, padding, dilation


def reference_conv2d(images, kernels, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """2-D convolution (cross-correlation) in float64 NumPy, shaped like ``F.conv2d``.

    ``images`` ``(N, C, H, W)``, ``kernels`` ``(out, C, kh, kw)``; a single ``(H, W)`` image
    with a single ``(kh, kw)`` kernel gives an ``(H', W')`` map.  The output size comes from
    ``convolution.output_shape``, so comparing with PyTorch checks that formula too.  Each
    kernel cell meets one strided slice of the padded input, added in one step.
    """
    images, kernels = np.asarray(images, dtype=np.float64), np.asarray(kernels, dtype=np.float64)
    single = images.ndim == 2
    if single:
        images, kernels = images[None, None], kernels[None, None]
    stride, padding, dilation = (np.broadcast_to(v, 2).tolist() for v in (stride, padding, dilation))
    out_channels, _, kh, kw = kernels.shape
    out_h, out_w = convolution.output_shape(images.shape[2:], (kh, kw), stride, padding, dilation)
    x = np.pad(images, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out = np.zeros((len(x), out_channels, out_h, out_w))
    for a in range(kh):
        for b in range(kw):
            top, left = a * dilation[0], b * dilation[1]
            window = x[:, :, top: top + stride[0] * (out_h - 1) + 1: stride[0],
                       left: left + stride[1] * (out_w - 1) + 1: stride[1]]
            out += np.einsum("nchw,oc->nohw", window, kernels[:, :, a, b])
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out[0, 0] if single else out


# --------------------------------------------------------------------------- output size


@pytest.mark.parametrize("seed", range(4))
def test_output_size_matches_torch_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        size, kernel, stride, padding, dilation = random_case(rng)
        layer_out = F.conv2d(torch.zeros(1, 1, size, 1), torch.zeros(1, 1, kernel, 1),
                             stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1))
        assert convolution.output_size(size, kernel, stride, padding, dilation) == layer_out.shape[2], \
            (size, kernel, stride, padding, dilation)


def test_output_shape_with_pairs_matches_torch():
    rng = np.random.default_rng(7)
    for _ in range(40):
        h, kh, sh, ph, dh = random_case(rng)
        w, kw, sw, pw, dw = random_case(rng)
        expected = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, kh, kw), stride=(sh, sw),
                            padding=(ph, pw), dilation=(dh, dw)).shape[2:]
        got = convolution.output_shape((h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
        assert got == tuple(expected)


def test_output_size_known_values():
    assert convolution.output_size(28, 3) == 26
    assert convolution.output_size(28, 3, padding=1) == 28
    assert convolution.output_size(28, 3, stride=2, padding=1) == 14
    assert convolution.output_size(5, 3, dilation=2) == 1
    assert convolution.output_size(7, 2, stride=3) == 2  # the last column is never reached


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((0, 3), ValueError, "size"),
        ((28, 0), ValueError, "kernel_size"),
        ((28, 3, 0), ValueError, "stride"),
        ((28, 3, 1, -1), ValueError, "padding"),
        ((28, 3, 1, 0, 0), ValueError, "dilation"),
        ((2, 3), ValueError, "padded input"),
        ((5, 3, 1, 0, 3), ValueError, "covers 7 cells"),
        ((28.0, 3), TypeError, "size must be a positive integer, got float"),
        ((28, 3, True), TypeError, "stride must be a positive integer, got bool"),
        ((28, "3"), TypeError, "kernel_size"),
    ],
)
def test_output_size_rejects_bad_arguments(args, error, words):
    with pytest.raises(error, match=words):
        convolution.output_size(*args)


def test_output_shape_rejects_bad_shapes():
    with pytest.raises(ValueError, match="input_shape"):
        convolution.output_shape(28, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        convolution.output_shape((28, 28), (3, 3, 3))
    with pytest.raises(ValueError, match=r"stride\[1\]"):
        convolution.output_shape((28, 28), 3, stride=(1, 0))


# --------------------------------------------------------------------------- reference convolution


@pytest.mark.parametrize("seed", range(6))
def test_reference_conv_matches_torch_on_random_shapes(seed):
    rng = np.random.default_rng(100 + seed)
    n, c, o = (int(v) for v in rng.integers(1, 4, size=3))
    h, kh, sh, ph, dh = random_case(rng)
    w, kw, sw, pw, dw = random_case(rng)
    x = rng.normal(size=(n, c, h, w))
    k = rng.normal(size=(o, c, kh, kw))
    b = rng.normal(size=o)
    ours = reference_conv2d(x, k, b, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(k), torch.from_numpy(b), stride=(sh, sw),
                      padding=(ph, pw), dilation=(dh, dw)).numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_reference_conv_single_image_and_worked_example():
    kernel = np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])
    patch = np.arange(1, 10).reshape(3, 3)
    result = reference_conv2d(patch, kernel)
    assert result.shape == (1, 1)
    assert result[0, 0] == 18
    image = np.random.default_rng(0).normal(size=(9, 11))
    same = reference_conv2d(image, np.ones((3, 3)), padding=1)
    assert same.shape == image.shape
    np.testing.assert_allclose(same[4, 5], image[3:6, 4:7].sum())


# --------------------------------------------------------------------------- pictures


def small_digit():
    image = np.zeros((7, 6))
    image[1, 1:5] = 1.0
    image[2:6, 3] = 1.0
    return image


EDGE = np.array([[-1.0, -1, -1], [0, 0, 0], [1, 1, 1]])


def test_gif_is_deterministic_small_and_one_frame_per_cell(tmp_path):
    image = small_digit()
    feature_map = reference_conv2d(image, EDGE)
    first = convolution.sliding_kernel_gif(image, EDGE, feature_map, tmp_path / "a.gif")
    second = convolution.sliding_kernel_gif(image, EDGE, feature_map, tmp_path / "b.gif")
    assert first.read_bytes() == second.read_bytes()
    info = animation.gif_info(first)
    assert info["frames"] == feature_map.size + 1
    assert info["bytes"] < 600_000


def test_gif_rejects_mismatched_feature_map(tmp_path):
    image = small_digit()
    with pytest.raises(ValueError, match="feature_map has shape"):
        convolution.sliding_kernel_gif(image, EDGE, np.zeros((3, 3)), tmp_path / "x.gif")
    with pytest.raises(ValueError, match="at most 400"):
        big = np.zeros((30, 30))
        convolution.sliding_kernel_gif(big, EDGE, np.zeros((28, 28)), tmp_path / "x.gif")
    with pytest.raises(ValueError, match="NaN"):
        convolution.sliding_kernel_gif(np.full((5, 5), np.nan), EDGE, np.zeros((3, 3)), tmp_path / "x.gif")
    with pytest.raises(ValueError, match=r"\.gif"):
        convolution.sliding_kernel_gif(image, EDGE, reference_conv2d(image, EDGE), tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


def test_plot_helpers_draw_and_validate():
    image = small_digit()
    kernels = {"edge": EDGE, "blur": np.full((3, 3), 1 / 9)}
    maps = {name: reference_conv2d(image, k, padding=1) for name, k in kernels.items()}
    fig = convolution.plot_filter_gallery(image, kernels, maps)
    assert len(fig.axes) == 2 * (len(kernels) + 1)
    plt.close(fig)
    ax = convolution.plot_response_overlay(image, maps["edge"], title="edge")
    assert ax.get_title() == "edge"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="same names"):
        convolution.plot_filter_gallery(image, kernels, {"edge": maps["edge"]})
    with pytest.raises(ValueError, match="empty"):
        convolution.plot_filter_gallery(image, {}, {})
    with pytest.raises(ValueError, match="image's shape"):
        convolution.plot_response_overlay(image, maps["edge"][1:])
    with pytest.raises(ValueError, match="2-D"):
        convolution.plot_kernel(np.zeros(3))
    plt.close("all")
