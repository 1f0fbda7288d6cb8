"""GIF writing: frame count, pixel size, byte-for-byte repeatability and input checks."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from lesson4_support import animation, figures


def frames(n=3, shape=(20, 30)):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8) for _ in range(n)]


# --------------------------------------------------------------------------- write_gif


def test_write_gif_keeps_every_frame_and_the_size(tmp_path):
    path = animation.write_gif(frames(5), tmp_path / "out.gif", duration_ms=100, final_pause_ms=500)
    info = animation.gif_info(path)
    assert info == {"frames": 5, "size": (30, 20), "bytes": path.stat().st_size}
    with Image.open(path) as image:
        durations = []
        for i in range(image.n_frames):
            image.seek(i)
            durations.append(image.info["duration"])
    assert durations == [100] * 4 + [500]
    assert not list(tmp_path.glob(".*.part")), "the temporary file was left behind"


def test_a_failed_write_gif_leaves_no_partial_file(tmp_path):
    (tmp_path / "out.gif").mkdir()  # the rename onto a folder fails once the GIF is written
    with pytest.raises(OSError):
        animation.write_gif(frames(3), tmp_path / "out.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gif"]


def test_write_gif_is_byte_for_byte_repeatable(tmp_path):
    a = animation.write_gif(frames(4), tmp_path / "a.gif")
    b = animation.write_gif(frames(4), tmp_path / "b.gif")
    assert a.read_bytes() == b.read_bytes()


def test_write_gif_frames_keep_their_colours(tmp_path):
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((8, 8, 3), np.uint8)
    blue[..., 2] = 255
    path = animation.write_gif([red, blue], tmp_path / "rb.gif")
    with Image.open(path) as image:
        image.seek(0)
        assert image.convert("RGB").getpixel((4, 4)) == (255, 0, 0)
        image.seek(1)
        assert image.convert("RGB").getpixel((4, 4)) == (0, 0, 255)


@pytest.mark.parametrize("bad, match", [
    ([], "at least one frame"),
    ([np.zeros((4, 4), np.uint8)], r"\(height, width, 3\) uint8"),
    ([np.zeros((4, 4, 3), np.float32)], r"\(height, width, 3\) uint8"),
    ([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], "all frames must match"),
])
def test_write_gif_rejects_bad_frames(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        animation.write_gif(bad, tmp_path / "bad.gif")
    assert not (tmp_path / "bad.gif").exists()


@pytest.mark.parametrize("options, match", [
    ({"colors": 1}, "colors must be between 2 and 256"),
    ({"colors": 300}, "colors must be between 2 and 256"),
    ({"duration_ms": 0}, "durations must be positive"),
])
def test_write_gif_rejects_bad_options(tmp_path, options, match):
    with pytest.raises(ValueError, match=match):
        animation.write_gif(frames(2), tmp_path / "bad.gif", **options)


def test_write_gif_needs_a_gif_name(tmp_path):
    with pytest.raises(ValueError, match="must end in .gif"):
        animation.write_gif(frames(2), tmp_path / "movie.png")


def test_gif_info_refuses_other_images(tmp_path):
    path = tmp_path / "still.png"
    Image.fromarray(frames(1)[0]).save(path)
    with pytest.raises(ValueError, match="not a GIF"):
        animation.gif_info(path)


# --------------------------------------------------------------------------- animate_linear_boundary


def toy_points():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(-2, 0.5, (15, 2)), rng.normal(2, 0.5, (15, 2))]
    y = np.r_[np.zeros(15, int), np.ones(15, int)]
    return X, y


STATES = [(np.zeros(2), 0.0), (np.array([1.0, 0.0]), 0.5), (np.array([1.0, 1.0]), -0.2), (np.array([0.0, 2.0]), 1.0)]


def test_linear_boundary_gif_has_one_frame_per_state_and_repeats(tmp_path):
    figures.use_house_style()
    X, y = toy_points()
    notes = [f"note {i}" for i in range(len(STATES))]
    a = animation.animate_linear_boundary(STATES, X, y, tmp_path / "a.gif", notes=notes, title="t",
                                          figsize=(3, 2.5), dpi=60)
    b = animation.animate_linear_boundary(STATES, X, y, tmp_path / "b.gif", notes=notes, title="t",
                                          figsize=(3, 2.5), dpi=60)
    info = animation.gif_info(a)
    assert info["frames"] == len(STATES)
    assert info["size"] == (180, 150)
    assert a.read_bytes() == b.read_bytes()
    assert not plt.get_fignums()


def tint(colour, alpha=0.18):
    """A palette colour shaded at the GIF's alpha over the white axes."""
    rgb = np.array(to_rgb(colour)) * 255
    return alpha * rgb + (1 - alpha) * 255


def test_linear_boundary_shading_flips_with_the_weights(tmp_path, monkeypatch):
    """Each side of the boundary x = 0 shows its class's tint, and the tints swap when the weights flip sign."""
    sides = []  # per frame: pixel (row, column) of a point left and right of the boundary
    original = animation.figure_to_rgb

    def spy(fig):
        frame = original(fig)
        to_pixels = fig.axes[0].transData.transform
        sides.append([(frame.shape[0] - int(round(py)), int(round(px)))
                      for px, py in to_pixels([(-1.0, -0.5), (1.0, 0.5)])])  # away from the points
        return frame

    monkeypatch.setattr(animation, "figure_to_rgb", spy)
    X, y = toy_points()
    states = [(np.array([1.0, 0.0]), 0.0), (np.array([-1.0, 0.0]), 0.0)]
    path = animation.animate_linear_boundary(states, X, y, tmp_path / "flip.gif", figsize=(3, 2.5), dpi=60)
    class_tints = [tint(figures.PALETTE[0]), tint(figures.PALETTE[1])]
    seen = []
    with Image.open(path) as image:
        for i, pixels in enumerate(sides):
            image.seek(i)
            picture = np.asarray(image.convert("RGB"), dtype=float)
            classes = [int(np.argmin([np.abs(picture[p] - t).sum() for t in class_tints])) for p in pixels]
            for p, k in zip(pixels, classes, strict=True):
                assert np.abs(picture[p] - class_tints[k]).max() <= 8, (
                    f"frame {i}: {picture[p]} at pixel {p} is neither class's shading")
            seen.append(classes)
    # weights (1, 0): class 1 where x >= 0, so left is class 0; flipped: left is class 1
    assert seen == [[0, 1], [1, 0]]


def test_linear_boundary_shows_the_frame_number(tmp_path, monkeypatch):
    """The label text drawn in each frame names the pass (checked on the text artist)."""
    drawn = []
    original = animation.figure_to_rgb

    def spy(fig):
        drawn.append([t.get_text() for t in fig.axes[0].texts])
        return original(fig)

    monkeypatch.setattr(animation, "figure_to_rgb", spy)
    X, y = toy_points()
    animation.animate_linear_boundary(STATES[:3], X, y, tmp_path / "n.gif", notes=["a", "b", "c"],
                                      figsize=(3, 2.5), dpi=40)
    assert [texts[0] for texts in drawn] == ["pass 0 of 2\na", "pass 1 of 2\nb", "pass 2 of 2\nc"]


@pytest.mark.parametrize("X, match", [
    (np.zeros(10), r"shape \(n_samples, 2\)"),
    (np.zeros((10, 3)), r"shape \(n_samples, 2\)"),
])
def test_linear_boundary_rejects_non_2d_features(tmp_path, X, match):
    with pytest.raises(ValueError, match=match):
        animation.animate_linear_boundary(STATES, X, np.zeros(10), tmp_path / "x.gif")


@pytest.mark.parametrize("states, match", [
    ([], "non-empty list"),
    (np.zeros((3, 3)), "non-empty list"),
    ([(np.zeros(3), 0.0)], "2 weights and one bias"),
    ([(np.zeros(2), [0.0, 1.0])], "2 weights and one bias"),
    ([np.zeros(2)], r"\(weights, bias\) pair"),
    ([(np.array([np.nan, 1.0]), 0.0)], "non-finite"),
])
def test_linear_boundary_rejects_bad_states(tmp_path, states, match):
    X, y = toy_points()
    with pytest.raises(ValueError, match=match):
        animation.animate_linear_boundary(states, X, y, tmp_path / "s.gif")


def test_linear_boundary_rejects_bad_labels_and_notes(tmp_path):
    X, y = toy_points()
    with pytest.raises(ValueError, match="one label per row"):
        animation.animate_linear_boundary(STATES, X, y[:-1], tmp_path / "l.gif")
    with pytest.raises(ValueError, match="notes must be a list of 4 strings"):
        animation.animate_linear_boundary(STATES, X, y, tmp_path / "l.gif", notes=["only one"])


@pytest.mark.parametrize("options", [{"duration_ms": float("nan")}, {"final_pause_ms": float("nan")}])
def test_write_gif_refuses_an_undefined_duration(tmp_path, options):
    with pytest.raises(ValueError, match="frame durations must be positive"):
        animation.write_gif(frames(2), tmp_path / "out.gif", **options)
    assert list(tmp_path.iterdir()) == []
