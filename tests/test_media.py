"""The committed media are exactly what the chapters write.

`make test` builds the book first, which executes every chapter whose code changed and so
rewrites the figures and GIFs it shows; afterwards media/ must match the committed files
byte for byte (a chapter that writes something new, or something different on each
run, shows up here).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEDIA = sorted(p for p in (ROOT / "media").iterdir() if p.is_file())


def test_media_folder_holds_only_small_figures_and_gifs():
    assert MEDIA, "media/ is empty"
    for path in MEDIA:
        assert path.suffix in (".png", ".gif"), f"unexpected file in media/: {path.name}"
        limit = 600_000 if path.suffix == ".gif" else 300_000
        assert path.stat().st_size < limit, f"{path.name} is {path.stat().st_size:,} bytes"


@pytest.mark.parametrize("path", MEDIA, ids=[p.name for p in MEDIA])
def test_every_media_file_is_written_and_shown_by_a_chapter(path):
    chapters = [md for md in (ROOT / "chapters").glob("*.md") if path.name in md.read_text()]
    assert chapters, f"no chapter refers to media/{path.name}: remove it or show it"


def test_regenerated_media_match_the_committed_files():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to compare the media with")
    status = subprocess.run(["git", "status", "--porcelain", "--", "media"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", f"running the chapters changed media/ (commit or fix the chapter):\n{status}"
