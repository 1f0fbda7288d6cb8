"""The frame players on the built site (``_ext/frame_player.py``, ``browser/player/``).

Every animation of the site is a frame player.  In Chromium, for each one: nothing moves
before the reader presses Play (with ``prefers-reduced-motion: reduce``); Play advances the
frames and Pause stops them (two screenshots a second apart are equal); Next, Previous
and the slider show the frame they name, pixel for pixel the frame of the sprite sheet;
the keyboard alone operates it, with a visible focus; axe-core finds nothing serious or
critical in it.  Without a browser: no image on the site is an animated one.
Screenshots of each player stopped on a middle frame (desktop light, phone dark) land in
``_build/screenshots/players/``.
"""

from __future__ import annotations

import io
import json
import posixpath
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from site_server import artifacts_dir, site_dir
from test_site_accessibility import axe_source  # noqa: F401 - fixture
from test_site_browser import DESKTOP, PHONE, browser, open_page, server  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
SITE = site_dir()
SCREENSHOTS = artifacts_dir(SITE) / "screenshots" / "players"
ANIMATIONS = ["perceptron_separable", "perceptron_circles", "mlp_moons_training", "conv_sliding_kernel"]

pytestmark = pytest.mark.usefixtures("built_site")


def players_on_site() -> dict[str, tuple[str, dict]]:
    """Each player's name -> (its page's docname, its data: sprite file, frames, layout)."""
    found = {}
    for page in sorted(SITE.rglob("*.html")):
        if "_static" in page.parts or "frame-player" not in page.read_text(encoding="utf-8"):
            continue
        docname = page.relative_to(SITE).with_suffix("").as_posix()
        for player in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select("div.frame-player"):
            sheet = player.select_one("img.frame-player-sheet")
            found[player["id"].removeprefix("frame-player-")] = (docname, {
                "id": player["id"],
                "sheet": SITE / posixpath.normpath(posixpath.join(posixpath.dirname(docname), sheet["src"])),
                "frames": json.loads(player["data-frames"]),
                "columns": int(player["data-columns"]), "rows": int(player["data-rows"]),
                "frame_ms": int(player["data-frame-ms"])})
    return found


PLAYERS = players_on_site() if SITE.is_dir() else {}


def test_every_animation_is_a_player():
    if not SITE.is_dir():
        pytest.skip(f"no site at {SITE}")
    assert sorted(PLAYERS) == sorted(ANIMATIONS)


def test_no_image_on_the_site_is_animated():
    animated = []
    for page in sorted(SITE.rglob("*.html")):
        if "_static" in page.parts:
            continue
        for img in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select("img[src]"):
            src = img["src"]
            if src.startswith(("data:", "http:", "https:")):
                continue
            target = (page.parent / src.split("#")[0].split("?")[0]).resolve()
            if target.suffix.lower() in {".gif", ".png", ".webp"} and target.is_file():
                with Image.open(target) as image:
                    if getattr(image, "is_animated", False):
                        animated.append(f"{page.relative_to(SITE)}: {src}")
    assert not animated, "animated images shown on the site (make them frame players):\n  " + "\n  ".join(animated)


@pytest.mark.parametrize("name", ANIMATIONS)
def test_a_player_weighs_less_than_its_gif(name):
    """The sheet, the script and the stylesheet together, against the GIF the page showed before."""
    if name not in PLAYERS:
        pytest.fail(f"no frame player {name!r} on the site at {SITE}")
    code = sum((SITE / "_static" / "browser" / "player" / f"player.{kind}").stat().st_size for kind in ("js", "css"))
    sheet = PLAYERS[name][1]["sheet"].stat().st_size
    gif = (ROOT / "media" / f"{name}.gif").stat().st_size
    assert sheet + code < gif, f"{name}: sheet {sheet:,} + code {code:,} bytes, GIF {gif:,} bytes"


def frame_image(data: dict, index: int) -> np.ndarray:
    """Frame ``index`` as the sprite sheet holds it."""
    with Image.open(data["sheet"]) as image:
        sheet = image.convert("RGB")
    width, height = sheet.width // data["columns"], sheet.height // data["rows"]
    row, column = divmod(index, data["columns"])
    return np.asarray(sheet.crop((column * width, row * height, (column + 1) * width, (row + 1) * height)))


def shot(page, data) -> np.ndarray:
    png = page.locator(f"#{data['id']} .frame-player-view").screenshot(animations="allow")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def same_frame(screenshot: np.ndarray, frame: np.ndarray) -> bool:
    """Whether the screenshot of a player's window shows ``frame`` pixel for pixel; the
    window may sit a fraction of a pixel off the grid, so its screenshot may hold one more
    row or column, on either side."""
    height, width = frame.shape[:2]
    return any(np.array_equal(screenshot[dy:dy + height, dx:dx + width], frame)
               for dy in range(screenshot.shape[0] - height + 1) for dx in range(screenshot.shape[1] - width + 1))


def shown(page, data) -> int:
    return int(page.locator(f"#{data['id']}").get_attribute("data-frame"))


def player_params():
    return [pytest.param(name, id=name) for name in ANIMATIONS]


@pytest.fixture
def player(browser, server, request):  # noqa: F811 - the fixtures imported above
    """(page, data) with the player scrolled into view, reduced motion requested."""
    name = request.param
    if name not in PLAYERS:
        pytest.fail(f"no frame player {name!r} on the site at {SITE}")
    docname, data = PLAYERS[name]
    with open_page(browser, server, docname) as (page, log):
        page.emulate_media(reduced_motion="reduce")
        page.locator(f"#{data['id']}").scroll_into_view_if_needed()
        page.wait_for_function(f"() => document.getElementById('{data['id']}').dataset.frame !== undefined")
        yield page, data
        assert not log.console_errors, f"console errors: {log.console_errors}"


@pytest.mark.parametrize("player", ANIMATIONS, indirect=True)
def test_nothing_moves_before_play_and_the_poster_is_the_first_frame(player):
    page, data = player
    before = shot(page, data)
    page.wait_for_timeout(1000)
    assert np.array_equal(before, shot(page, data)), "the player moved before Play was pressed"
    assert shown(page, data) == 0
    assert same_frame(before, frame_image(data, 0)), "the poster is not the sheet's first frame"
    status = page.locator(f"#{data['id']} .frame-player-status").inner_text()
    assert status.startswith(data["frames"][0]["label"])


@pytest.mark.parametrize("player", ANIMATIONS, indirect=True)
def test_play_advances_and_pause_stops(player):
    page, data = player
    play = page.locator(f"#{data['id']} .frame-player-play")
    play.click()
    page.wait_for_timeout(3 * data["frame_ms"] + 200)
    assert shown(page, data) >= 2, "Play did not advance the frames"
    assert play.inner_text() == "Pause"
    play.click()
    stopped = shown(page, data)
    first = shot(page, data)
    page.wait_for_timeout(1000)
    assert shown(page, data) == stopped and np.array_equal(first, shot(page, data)), "Pause did not stop it"
    assert same_frame(first, frame_image(data, stopped))


@pytest.mark.parametrize("player", ANIMATIONS, indirect=True)
def test_next_previous_and_the_slider_show_the_frame_they_name(player):
    page, data = player
    root = f"#{data['id']}"
    last = len(data["frames"]) - 1
    page.locator(f"{root} .frame-player-next").click()
    page.locator(f"{root} .frame-player-next").click()
    page.locator(f"{root} .frame-player-previous").click()
    assert shown(page, data) == 1
    assert same_frame(shot(page, data), frame_image(data, 1))
    middle = last // 2
    page.locator(f"{root} .frame-player-slider").fill(str(middle))
    assert shown(page, data) == middle
    assert same_frame(shot(page, data), frame_image(data, middle))
    slider = page.locator(f"{root} .frame-player-slider")
    assert slider.get_attribute("aria-valuetext") == data["frames"][middle]["label"]
    status = page.locator(f"{root} .frame-player-status").inner_text()
    assert status.startswith(data["frames"][middle]["label"]), status


def focused_class(page) -> str:
    return page.evaluate("() => document.activeElement.className")


@pytest.mark.parametrize("player", ANIMATIONS, indirect=True)
def test_the_keyboard_alone_operates_it_with_a_visible_focus(player):
    page, data = player
    root = f"#{data['id']}"
    page.locator(f"{root} .frame-player-view").click()  # the reader's place on the page; not a control
    for _ in range(10):
        page.keyboard.press("Tab")
        if focused_class(page) == "frame-player-play":
            break
    assert focused_class(page) == "frame-player-play", "Tab never reaches the Play button"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused button shows no outline"
    page.keyboard.press("Enter")
    page.wait_for_timeout(2 * data["frame_ms"] + 200)
    page.keyboard.press("Space")
    playing_stopped_at = shown(page, data)
    assert playing_stopped_at >= 1
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused_class(page) == "frame-player-next"
    page.keyboard.press("Enter")
    assert shown(page, data) == min(playing_stopped_at + 1, len(data["frames"]) - 1)
    page.keyboard.press("Tab")
    assert focused_class(page) == "frame-player-slider"
    page.keyboard.press("End")
    assert shown(page, data) == len(data["frames"]) - 1
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert shown(page, data) == 1
    assert same_frame(shot(page, data), frame_image(data, 1))


@pytest.mark.parametrize("player", ANIMATIONS, indirect=True)
def test_axe_finds_nothing_serious_in_the_player(player, axe_source):  # noqa: F811
    page, data = player
    page.add_script_tag(content=axe_source)
    found = page.evaluate(f"""async () => (await axe.run('#{data['id']}', {{resultTypes: ['violations']}}))
        .violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => `${{v.impact}} ${{v.id}}: ${{v.nodes.map(n => n.target.join(' ')).join(', ')}}`)""")
    assert not found, "axe-core on the player:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("name", ANIMATIONS)
def test_screenshots_of_each_player_on_a_middle_frame(browser, server, name):  # noqa: F811
    if name not in PLAYERS:
        pytest.fail(f"no frame player {name!r} on the site at {SITE}")
    docname, data = PLAYERS[name]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for theme, viewport in (("light", DESKTOP), ("dark", PHONE)):
        with open_page(browser, server, docname, viewport=viewport, theme=theme) as (page, log):
            figure = page.locator(f"#{data['id']}").locator("xpath=ancestor::figure[1]")
            figure.scroll_into_view_if_needed()
            page.locator(f"#{data['id']} .frame-player-slider").fill(str((len(data["frames"]) - 1) // 2))
            path = SCREENSHOTS / f"{name}-{theme}-{viewport['width']}.png"
            figure.screenshot(path=str(path))
            width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page with {name} scrolls sideways at {viewport['width']} px"
        assert path.stat().st_size > 5_000
