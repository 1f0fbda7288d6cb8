"""A small Sphinx extension: an animated GIF shown on the site as a frame player.

A chapter writes its animation as a GIF (``lesson4_support.animation``) and, beside it,
``NAME.frames.json`` with each frame's label and numbers.  The page embeds it with::

    ```{frame-player} ../media/NAME.gif
    :alt: What the animation shows.
    :name: gif-name

    The caption.
    ```

The HTML build cuts the GIF into its frames and writes them as one sprite sheet,
``_images/players/NAME.png`` (a palette PNG, the same bytes for the same GIF, and several
times smaller than the GIF: consecutive frames sit side by side, where PNG's compression
finds what they share).  The page shows the first frame (the poster) with the figure's
alt text, the frame's label and numbers as text, and, once ``browser/player/player.js``
has run, play/pause, previous/next and a slider.  Nothing moves until the reader presses
play, and a play runs through the frames once.
"""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from browser_assets import use_component

SPRITE_FOLDER = "_images/players"
#: The widest sheet written: every browser decodes it, and a row holds enough neighbours
#: for PNG's compression to find what consecutive frames share.
MAX_SHEET_WIDTH = 16384
ENV_KEY = "lesson4_frame_players"


def gif_frames(path: Path) -> tuple[list, list[int]]:
    """The frames of the GIF at ``path`` as RGB images, and each frame's duration in ms."""
    from PIL import Image

    frames, durations = [], []
    with Image.open(path) as gif:
        for index in range(getattr(gif, "n_frames", 1)):
            gif.seek(index)
            frames.append(gif.convert("RGB"))
            durations.append(int(gif.info.get("duration", 100)))
    return frames, durations


def sheet_layout(count: int, width: int) -> tuple[int, int]:
    """Columns and rows of a sheet of ``count`` frames ``width`` pixels wide: as few rows as
    keep it within ``MAX_SHEET_WIDTH``, the frames spread evenly over them."""
    rows = min(count, math.ceil(count * width / MAX_SHEET_WIDTH))  # a frame wider than that: one a row
    return math.ceil(count / rows), rows


def sprite_sheet(frames: list) -> tuple[bytes, int, int]:
    """PNG bytes of ``frames`` laid out row by row, with the sheet's columns and rows."""
    from PIL import Image

    width, height = frames[0].size
    columns, rows = sheet_layout(len(frames), width)
    sheet = Image.new("RGB", (columns * width, rows * height), "white")
    for index, frame in enumerate(frames):
        sheet.paste(frame, ((index % columns) * width, (index // columns) * height))
    colours = sheet.getcolors(256)
    if colours is not None:  # a GIF's frames share at most 256 colours: keep them exactly
        sheet = sheet.convert("P", palette=Image.Palette.ADAPTIVE, colors=len(colours))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), columns, rows


def frame_notes(gif: Path, count: int) -> list[dict]:
    """The labels and notes of the GIF's frames, from ``NAME.frames.json`` beside it."""
    path = gif.with_name(f"{gif.stem}.frames.json")
    if not path.is_file():
        raise ValueError(f"{path.name} is missing: the code that writes {gif.name} must also call "
                         "lesson4_support.animation.write_frame_notes")
    frames = json.loads(path.read_text(encoding="utf-8"))["frames"]
    if len(frames) != count:
        raise ValueError(f"{path.name} describes {len(frames)} frames but {gif.name} has {count}: "
                         "run the chapter again to write both")
    return frames


def status_text(frame: dict) -> str:
    return f"{frame['label']}: {frame['note']}" if frame["note"] else frame["label"]


def player_html(*, name: str, sprite: str, alt: str, size: tuple[int, int], layout: tuple[int, int],
                frames: list[dict], duration_ms: int) -> str:
    """The player's markup: the poster frame and its text work without the script, which
    reveals the controls."""
    width, height = size
    columns, rows = layout
    last = len(frames) - 1
    esc = html.escape
    ident = f"frame-player-{name}"
    data = esc(json.dumps([{"label": f["label"], "text": status_text(f)} for f in frames]))
    return f"""<div class="frame-player" id="{ident}" data-columns="{columns}" data-rows="{rows}" \
data-frame-ms="{duration_ms}" data-frames="{data}">
<div class="frame-player-view" style="aspect-ratio: {width} / {height}; max-width: {width}px">
<img class="frame-player-sheet" src="{esc(sprite)}" alt="{esc(alt)}" width="{columns * width}" \
height="{rows * height}" style="width: {columns * 100}%">
</div>
<div class="frame-player-controls" hidden>
<button type="button" class="frame-player-play">Play</button>
<button type="button" class="frame-player-previous"><span aria-hidden="true">‹ </span>Previous</button>
<button type="button" class="frame-player-next">Next<span aria-hidden="true"> ›</span></button>
<span class="frame-player-scrub">
<label for="{ident}-slider">Frame</label>
<input type="range" class="frame-player-slider" id="{ident}-slider" min="0" max="{last}" step="1" \
value="0" aria-valuetext="{esc(frames[0]['label'])}">
</span>
</div>
<p class="frame-player-status" aria-live="polite">{esc(status_text(frames[0]))}</p>
</div>"""


class FramePlayer(SphinxDirective):
    required_arguments = 1
    has_content = True
    option_spec = {"alt": directives.unchanged_required, "name": directives.unchanged}

    def run(self):
        relative, absolute = self.env.relfn2path(self.arguments[0])
        gif = Path(absolute)
        if gif.suffix.lower() != ".gif" or not gif.is_file():
            raise self.error(f"frame-player needs an existing GIF, got {self.arguments[0]!r}")
        if "alt" not in self.options:
            raise self.error(f"frame-player {gif.name} needs an :alt: text")
        self.env.note_dependency(relative)
        self.env.note_dependency(str(gif.with_name(f"{gif.stem}.frames.json")))
        frames, durations = gif_frames(gif)
        try:
            notes = frame_notes(gif, len(frames))
        except ValueError as error:
            raise self.error(str(error)) from None
        width, height = frames[0].size
        if not hasattr(self.env, ENV_KEY):
            setattr(self.env, ENV_KEY, {})
        getattr(self.env, ENV_KEY)[gif.stem] = str(gif)
        use_component(self.env, "player")

        depth = self.env.docname.count("/")
        figure = nodes.figure(classes=["frame-player-figure"])
        figure += nodes.raw("", player_html(
            name=gif.stem, sprite="../" * depth + f"{SPRITE_FOLDER}/{gif.stem}.png", alt=self.options["alt"],
            size=(width, height), layout=sheet_layout(len(frames), width), frames=notes,
            duration_ms=durations[0]), format="html")
        if self.content:
            body = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, body)
            first = body.children[0]
            if not isinstance(first, nodes.paragraph):
                raise self.error("a frame-player's caption must start with a paragraph")
            figure += nodes.caption(first.rawsource, "", *first.children)
            if len(body.children) > 1:
                figure += nodes.legend("", *body.children[1:])
        self.add_name(figure)
        return [figure]


def write_sprites(app, exception) -> None:
    """After an HTML build, write every player's sprite sheet into ``_images/players``."""
    if exception is not None or app.builder.format != "html":
        return
    folder = Path(app.outdir) / SPRITE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for stem, gif in sorted(getattr(app.env, ENV_KEY, {}).items()):
        png, _, _ = sprite_sheet(gif_frames(Path(gif))[0])
        target = folder / f"{stem}.png"
        if not target.is_file() or target.read_bytes() != png:
            target.write_bytes(png)


def _merge(app, env, docnames, other) -> None:
    if not hasattr(env, ENV_KEY):
        setattr(env, ENV_KEY, {})
    getattr(env, ENV_KEY).update(getattr(other, ENV_KEY, {}))


def setup(app):
    app.setup_extension("browser_assets")
    app.add_directive("frame-player", FramePlayer)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", write_sprites)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
