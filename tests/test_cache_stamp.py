"""`make book` re-executes the chapters when the support package changes, and only then.

The execution cache keys a chapter on its code cells, so scripts/cache_stamp.py clears it
when the package (or pyproject.toml) changed. The slow test builds a throw-away book with
the project's configuration whose one chapter prints a value from a scratch package and a
fresh random token: the token shows whether the chapter ran again, the value shows which
version of the package it ran with.
"""

import re
import subprocess
import sys
from pathlib import Path

import throwaway_book


ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPT = ROOT / "scripts" / "cache_stamp.py"
MESSAGE = "changed: clearing the execution cache so every chapter runs again"

CHAPTER = """# Planted package

```{{code-cell}} ipython3
import sys, uuid

sys.path.insert(0, {folder!r})
import scratchpkg

print(f"value={{scratchpkg.VALUE}} run={{uuid.uuid4().hex}}")
```
"""


def stamp(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--package", str(folder / "scratchpkg"),
                           "--file", str(folder / "pins.txt"), "--cache", str(folder / "_build" / ".jupyter_cache"),
                           *extra], capture_output=True, text=True, timeout=60, check=True)


def write_package(folder: Path, value: int) -> None:
    package = folder / "scratchpkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(f"VALUE = {value}\n")


def make_book(folder: Path) -> None:
    throwaway_book.make_book(folder, CHAPTER.format(folder=str(folder)))
    (folder / "pins.txt").write_text("scratch==1\n")
    write_package(folder, 1)


def book(folder: Path) -> tuple[str, tuple[int, str]]:
    """What `make book` does: the stamp, then the build. Returns the stamp's output and the page's line."""
    said = stamp(folder).stdout
    result = subprocess.run([str(BIN / "jupyter-book"), "build", str(folder), "--all", "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"the throw-away book failed to build:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    page = (folder / "_build" / "html" / "chapters" / "planted.html").read_text()
    found = re.search(r"value=(\d+) run=([0-9a-f]{32})", page)
    assert found, "the chapter's output is missing from its page"
    return said, (int(found.group(1)), found.group(2))


def records(folder: Path) -> list[tuple[int, str]]:
    from jupyter_cache import get_cache

    return [(r.pk, str(r.created)) for r in get_cache(folder / "_build" / ".jupyter_cache").list_cache_records()]


def test_make_book_clears_the_cache_before_building():
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no book target"
    lines = recipe.group(1).splitlines()
    assert "scripts/cache_stamp.py" in lines[0], f"the book target must run scripts/cache_stamp.py first: {lines}"
    assert any("jupyter-book build" in line for line in lines[1:])


def test_the_fingerprint_ignores_bytecode_and_follows_every_other_file(tmp_path):
    make_book(tmp_path)
    cache = tmp_path / "_build" / ".jupyter_cache"
    assert stamp(tmp_path).stdout == "", "a first build has nothing to clear"
    (cache / "global.db").write_text("executed notebooks")
    unchanged = [
        lambda: (tmp_path / "scratchpkg" / "__pycache__").mkdir(),
        lambda: (tmp_path / "scratchpkg" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0"),
        lambda: (tmp_path / "scratchpkg" / "stale.pyc").write_bytes(b"\0"),
    ]
    for change in unchanged:
        change()
        assert stamp(tmp_path).stdout == "" and (cache / "global.db").exists()
    changed = [
        lambda: write_package(tmp_path, 2),
        lambda: (tmp_path / "scratchpkg" / "data.txt").write_text("new file"),
        lambda: (tmp_path / "scratchpkg" / "data.txt").rename(tmp_path / "scratchpkg" / "renamed.txt"),
        lambda: (tmp_path / "pins.txt").write_text("scratch==2\n"),
    ]
    for change in changed:
        change()
        assert MESSAGE in stamp(tmp_path).stdout
        assert not (cache / "global.db").exists(), "the execution cache was not cleared"
        (cache / "global.db").write_text("executed notebooks")
    # a cache without a stamp was made by an unknown version of the package
    (cache / "support.sha256").unlink()
    assert "clearing it so every chapter runs again" in stamp(tmp_path).stdout
    assert not (cache / "global.db").exists() and (cache / "support.sha256").is_file()


def test_a_changed_package_re_executes_the_chapter_and_an_unchanged_one_does_not(tmp_path):
    make_book(tmp_path)
    said, first = book(tmp_path)
    assert said == "" and first[0] == 1
    executed = records(tmp_path)
    assert len(executed) == 1, f"expected one cached notebook, found {executed}"

    # control: nothing changed, so the page comes from the cache
    said, second = book(tmp_path)
    assert said == "", f"the stamp cleared the cache although nothing changed: {said}"
    assert second == first, "the chapter ran again although nothing changed"
    assert records(tmp_path) == executed

    # the package changes, the chapter's code does not: the chapter must run again
    write_package(tmp_path, 2)
    said, third = book(tmp_path)
    assert MESSAGE in said
    assert third[0] == 2, "the page still shows the old package's value"
    assert third[1] != first[1], "the chapter did not run again"
    assert records(tmp_path) != executed


def test_a_folder_that_is_not_an_execution_cache_is_never_cleared(tmp_path):
    """A slip such as ``--cache .`` must not wipe a clone: only a jupyter-cache is ever cleared."""
    make_book(tmp_path)
    folder = tmp_path / "thesis"
    (folder / "data").mkdir(parents=True)
    (folder / "thesis.tex").write_text("three years of work")
    before = sorted(path.relative_to(folder) for path in folder.rglob("*"))
    for extra in ([], ["--package", str(tmp_path / "scratchpkg")]):
        result = subprocess.run([sys.executable, str(SCRIPT), "--file", str(tmp_path / "pins.txt"),
                                 "--cache", str(folder), *extra], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result
        assert "is not a jupyter-cache folder (it has no global.db), so it is left alone" in result.stderr
        assert sorted(path.relative_to(folder) for path in folder.rglob("*")) == before
    # a stamp from an earlier run and a global.db do not make a user's file part of the cache
    (folder / "global.db").write_text("a database of the user's")
    (folder / "support.sha256").write_text("0" * 64 + "\n")
    result = subprocess.run([sys.executable, str(SCRIPT), "--package", str(tmp_path / "scratchpkg"),
                             "--file", str(tmp_path / "pins.txt"), "--cache", str(folder)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "it also holds data, thesis.tex" in result.stderr, result
    assert (folder / "thesis.tex").read_text() == "three years of work"
    # a file in place of the folder is named as such
    result = subprocess.run([sys.executable, str(SCRIPT), "--cache", str(folder / "thesis.tex")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "which is not a folder" in result.stderr, result
    # so is a missing file to fingerprint, which would otherwise stop the script with a traceback
    result = subprocess.run([sys.executable, str(SCRIPT), "--file", str(tmp_path / "missing.toml"),
                             "--cache", str(tmp_path / "cache")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "missing.toml: no such file" in result.stderr, result
    assert not (tmp_path / "cache").exists()


def test_a_real_jupyter_cache_is_recognised_and_cleared(tmp_path):
    from jupyter_cache import get_cache

    make_book(tmp_path)
    cache = tmp_path / "_build" / ".jupyter_cache"
    get_cache(cache).list_cache_records()  # jupyter-cache creates its database and version file
    (cache / "executed").mkdir()
    assert "clearing it so every chapter runs again" in stamp(tmp_path).stdout
    assert sorted(path.name for path in cache.iterdir()) == ["support.sha256"]
