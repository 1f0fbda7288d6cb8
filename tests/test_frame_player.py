"""The frame player's build side: frame notes beside a GIF, and the sprite sheet cut from it
(``lesson4_support.animation.write_frame_notes``, ``_ext/frame_player.py``)."""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lesson4_support import animation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import frame_player  # noqa: E402

ANIMATIONS = ["perceptron_separable", "perceptron_circles", "mlp_moons_training", "conv_sliding_kernel"]


def frames(n, size=(30, 40)):
    rng = np.random.default_rng(n)
    return [rng.integers(0, 255, (*size, 3), dtype=np.uint8) // 64 * 64 for _ in range(n)]


@pytest.fixture
def gif(tmp_path):
    return animation.write_gif(frames(5), tmp_path / "movie.gif")


def test_frame_notes_lie_beside_the_gif_and_repeat_byte_for_byte(gif):
    path = animation.write_frame_notes(gif, [f"step {i} of 4" for i in range(5)], [f"{i} mistakes" for i in range(5)])
    assert path == gif.with_name("movie.frames.json")
    first = path.read_bytes()
    animation.write_frame_notes(gif, [f"step {i} of 4" for i in range(5)], [f"{i} mistakes" for i in range(5)])
    assert path.read_bytes() == first
    assert json.loads(first)["frames"][3] == {"label": "step 3 of 4", "note": "3 mistakes"}
    assert frame_player.frame_notes(gif, 5)[0]["note"] == "0 mistakes"


def test_frame_notes_need_one_text_per_frame(gif):
    with pytest.raises(ValueError, match="labels must be 5 strings"):
        animation.write_frame_notes(gif, ["only one"])
    with pytest.raises(ValueError, match="notes must be 5 strings"):
        animation.write_frame_notes(gif, ["a"] * 5, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="movie.frames.json is missing"):
        frame_player.frame_notes(gif, 5)
    animation.write_frame_notes(gif, ["a"] * 5)
    with pytest.raises(ValueError, match="describes 5 frames but movie.gif has 6"):
        frame_player.frame_notes(gif, 6)


def test_the_linear_boundary_animation_writes_its_notes(tmp_path):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.2]])
    y = np.array([0, 1, 1, 0])
    states = [(np.zeros(2), 0.0), (np.array([1.0, 1.0]), -1.0)]
    gif = animation.animate_linear_boundary(states, X, y, tmp_path / "b.gif", notes=["before", "2 mistakes"],
                                            frame_label="epoch", figsize=(2, 2), dpi=40)
    notes = frame_player.frame_notes(gif, 2)
    assert notes == [{"label": "epoch 0 of 1", "note": "before"}, {"label": "epoch 1 of 1", "note": "2 mistakes"}]


@pytest.mark.parametrize("count, width, layout", [(21, 400, (21, 1)), (12, 480, (12, 1)), (81, 504, (27, 3)),
                                                  (1, 20000, (1, 1))])
def test_sheets_stay_within_the_widest_a_browser_decodes(count, width, layout):
    assert frame_player.sheet_layout(count, width) == layout
    columns, rows = layout
    assert columns * rows >= count and (columns * width <= frame_player.MAX_SHEET_WIDTH or columns == 1)


@pytest.mark.parametrize("name", ANIMATIONS)
def test_the_sheet_holds_the_gifs_own_frames_exactly_and_weighs_less(name):
    gif = ROOT / "media" / f"{name}.gif"
    shown, durations = frame_player.gif_frames(gif)
    png, columns, rows = frame_player.sprite_sheet(shown)
    assert frame_player.sprite_sheet(shown)[0] == png, "the sheet must be the same bytes on every build"
    assert len(png) < gif.stat().st_size, f"the {name} sheet ({len(png):,} bytes) outweighs its GIF"
    sheet = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    width, height = shown[0].size
    for index, frame in enumerate(shown):
        row, column = divmod(index, columns)
        cell = sheet[row * height:(row + 1) * height, column * width:(column + 1) * width]
        assert np.array_equal(cell, np.asarray(frame)), f"frame {index} of {name} differs on the sheet"
    assert len(set(durations)) <= 2  # one pace, and the held last frame


def test_the_markup_shows_the_poster_frame_and_its_numbers_without_the_script():
    notes = [{"label": "pass 0 of 1", "note": "before training"}, {"label": "pass 1 of 1", "note": ""}]
    markup = frame_player.player_html(name="demo", sprite="../_images/players/demo.png", alt='A "quoted" line',
                                      size=(40, 30), layout=(2, 1), frames=notes, duration_ms=250)
    assert 'alt="A &quot;quoted&quot; line"' in markup
    assert "<p class=\"frame-player-status\" aria-live=\"polite\">pass 0 of 1: before training</p>" in markup
    assert '<div class="frame-player-controls" hidden>' in markup  # the script reveals them
    assert 'max="1"' in markup and 'aria-valuetext="pass 0 of 1"' in markup
