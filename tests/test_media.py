"""The committed media are exactly what the chapters write.

`make test` builds the book first, which executes every chapter whose code changed and so
rewrites the figures and GIFs it shows.  The chapters write them where
``runtime.media_dir()`` says: ``media/`` in the clone, or ``$LESSON4_MEDIA`` when set.
Afterwards that folder must hold the committed files byte for byte (a chapter that writes
something new, or something different on each run, shows up here).  nbval then runs every
chapter again in the same session, so the comparison is marked to run after the last
chapter (the root conftest.py moves it there).  The pages embed
``../media/...``, so media written elsewhere that differ from the committed ones would
never reach the site: they are compared too.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from lesson4_support import runtime

ROOT = Path(__file__).resolve().parents[1]
MEDIA = sorted(p for p in (ROOT / "media").iterdir() if p.is_file())
FRAME_NOTES = ".frames.json"  # lesson4_support.animation.write_frame_notes


def test_media_folder_holds_only_small_figures_and_gifs():
    assert MEDIA, "media/ is empty"
    for path in MEDIA:
        if path.name == "gpu_record.json":  # written by scripts/gpu_check.sh, checked by test_gpu_record.py
            continue
        if path.name.endswith(FRAME_NOTES):  # what a GIF's frames show, for the site's frame player
            assert path.with_name(path.name.replace(FRAME_NOTES, ".gif")).is_file(), f"{path.name} has no GIF"
            continue
        assert path.suffix in (".png", ".gif"), f"unexpected file in media/: {path.name}"
        limit = 600_000 if path.suffix == ".gif" else 300_000
        assert path.stat().st_size < limit, f"{path.name} is {path.stat().st_size:,} bytes"


@pytest.mark.parametrize("path", MEDIA, ids=[p.name for p in MEDIA])
def test_every_media_file_is_written_and_shown_by_a_chapter(path):
    shown = path.name.replace(FRAME_NOTES, ".gif")  # frame notes are shown with their GIF
    chapters = [md for md in (ROOT / "chapters").glob("*.md") if shown in md.read_text()]
    assert chapters, f"no chapter refers to media/{shown}: remove it or show it"


def committed_media() -> dict[str, bytes]:
    """The media files in the last commit, by file name."""
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD", "--", "media"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return {Path(name).name: subprocess.run(["git", "show", f"HEAD:{name}"], cwd=ROOT, capture_output=True,
                                            check=True).stdout
            for name in listed}


def media_differences(written: Path, committed: dict[str, bytes]) -> list[str]:
    """How the figures and GIFs in ``written`` differ from the committed ones."""
    problems = []
    for name, data in sorted(committed.items()):
        path = written / name
        if not path.is_file():
            problems.append(f"{name}: committed, but not written to {written}")
        elif path.read_bytes() != data:
            problems.append(f"{name}: written to {written}, but differs from the committed file")
    for path in sorted(written.iterdir()):
        if path.is_file() and (path.suffix in (".png", ".gif") or path.name.endswith(FRAME_NOTES)) \
                and path.name not in committed:
            problems.append(f"{path.name}: written to {written}, but not committed")
    return problems


def needs_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to compare the media with")


@pytest.mark.after_chapters
def test_regenerated_media_match_the_committed_files(request):
    needs_git()
    chapters_after = [item.nodeid for item in request.session.items[request.session.items.index(request.node):]
                      if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid]
    assert not chapters_after, f"chapters that run after the media comparison: {chapters_after[:3]}"
    written = runtime.media_dir()  # where the chapters wrote, exactly as they choose it
    problems = media_differences(written, committed_media())
    moved = "" if written == ROOT / "media" else (
        f"\n(${runtime.MEDIA_ENV} sends the chapters' media to {written}; the site shows media/ instead: "
        "build without it, or compare after building with the same setting)")
    assert not problems, "running the chapters changed the media (commit or fix the chapter):\n" + "\n".join(
        problems) + moved
    status = subprocess.run(["git", "status", "--porcelain", "--", "media"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", f"media/ differs from the last commit:\n{status}"


def test_media_written_elsewhere_are_compared_too(tmp_path, monkeypatch):
    needs_git()
    committed = committed_media()
    first, second, *_ = sorted(committed)
    for name, data in committed.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.setenv(runtime.MEDIA_ENV, str(tmp_path))
    assert media_differences(runtime.media_dir(), committed) == []
    (tmp_path / first).write_bytes(committed[first] + b"\0")
    (tmp_path / second).unlink()
    (tmp_path / "stray.png").write_bytes(b"png")
    assert media_differences(runtime.media_dir(), committed) == [
        f"{first}: written to {tmp_path}, but differs from the committed file",
        f"{second}: committed, but not written to {tmp_path}",
        f"stray.png: written to {tmp_path}, but not committed",
    ]
