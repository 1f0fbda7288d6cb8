"""A failing cell must fail both the site build and the notebook tests.

Builds a throw-away book in a temporary folder with the project's configuration and one
chapter, then runs the commands that `make book` and `make test` run (read from the
Makefile) on it.  Each check has a control: the same book with a correct cell must build,
and the unchanged notebook must pass nbval, or a failure would prove nothing.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import throwaway_book

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

CHAPTER = """# Planted problem

```{{code-cell}} ipython3
print("before the problem")
```

```{{code-cell}} ipython3
{body}
```
"""
CORRECT = "print(6 * 7)"


# --------------------------------------------------------------------------- the Makefile's commands


def recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with continued lines joined."""
    lines = (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines()
    header = next((i for i, line in enumerate(lines) if re.match(rf"{re.escape(target)}\s*:(?!=)", line)), None)
    assert header is not None, f"the Makefile has no {target!r} target"
    commands = []
    for line in lines[header + 1:]:
        if not line.startswith("\t"):
            break
        commands.append(" ".join(line.split()))
    return commands


def prerequisites(target: str) -> list[str]:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}\s*:(?!=)([^\n]*)", text, flags=re.MULTILINE)
    return match.group(1).split() if match else []


def make_command(target: str, program: str) -> list[str]:
    """The words of the command in ``target``'s recipe that runs ``program``."""
    line = next((c for c in recipe(target) if program in c), None)
    assert line is not None, f"`make {target}` does not run {program}"
    return shlex.split(line.replace("$(BIN)", str(BIN)))


def build_command(folder: Path) -> list[str]:
    """`make book`'s jupyter-book command, pointed at ``folder`` instead of the clone."""
    words = make_command("book", "jupyter-book")
    return [str(folder) if word == "." else word for word in words]


def nbval_options() -> list[str]:
    """`make test`'s pytest options (with their values), without the folders it collects."""
    words = make_command("test", "pytest")
    words = words[words.index("pytest") + 1:]
    options = []
    for i, word in enumerate(words):
        if word.startswith("-"):
            options.append(word)
        elif i and words[i - 1] == "--sanitize-with":
            options.append(str(ROOT / word))
    return options


def test_the_make_targets_build_strictly_and_compare_every_output():
    book = make_command("book", "jupyter-book")
    for flag in ("build", "--all", "-W", "-n", "--keep-going"):
        assert flag in book, f"`make book` runs {' '.join(book)} without {flag}"
    options = nbval_options()
    assert "--nbval" in options, "`make test` does not run nbval"
    assert "--nbval-lax" not in options, "`make test` runs nbval in lax mode: outputs would not be compared"
    assert "--sanitize-with" in options
    assert "book" in prerequisites("test"), "`make test` does not build the book first"


# --------------------------------------------------------------------------- the site build


def make_book(folder: Path, body: str) -> Path:
    """A one-chapter book with the project's configuration whose second cell is ``body``."""
    return throwaway_book.make_book(folder, CHAPTER.format(body=body))


def build(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(build_command(folder), capture_output=True, text=True, timeout=600)


def tail(result: subprocess.CompletedProcess) -> str:
    return (result.stdout + result.stderr)[-3000:]


@pytest.fixture(scope="module")
def correct_book_builds(tmp_path_factory):
    """The control: the throw-away book with a correct cell builds without a warning."""
    folder = tmp_path_factory.mktemp("correct-book")
    make_book(folder, CORRECT)
    result = build(folder)
    assert result.returncode == 0, f"the throw-away book fails even with a correct cell:\n{tail(result)}"
    assert (folder / "_build" / "html" / "chapters" / "planted.html").is_file()
    return folder


def test_the_throw_away_book_builds_when_its_cell_is_correct(correct_book_builds):
    page = (correct_book_builds / "_build" / "html" / "chapters" / "planted.html").read_text()
    assert "before the problem" in page and "42" in page, "the correct cell's output is not on the page"


@pytest.mark.parametrize("body, evidence", [
    ("raise RuntimeError('planted error')", "planted error"),
    ("import sys\nprint('planted warning', file=sys.stderr)", "stderr was found in the cell outputs"),
])
def test_a_broken_cell_fails_the_build(correct_book_builds, tmp_path, body, evidence):
    make_book(tmp_path, body)
    result = build(tmp_path)
    assert result.returncode != 0, "the build passed despite a broken cell"
    assert evidence in result.stdout + result.stderr


# --------------------------------------------------------------------------- the notebook tests


def reference_notebook(folder: Path, body: str, stored: str) -> Path:
    """The chapter's .ipynb pair holding ``stored`` as the reference output of its second cell."""
    md = make_book(folder, body)
    notebook = jupytext.read(md)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="before the problem\n")]
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
    notebook.cells[1].execution_count, notebook.cells[2].execution_count = 1, 2
    ipynb = md.with_suffix(".ipynb")
    jupytext.write(notebook, ipynb, fmt="ipynb")
    return ipynb


def nbval(ipynb: Path, *options: str) -> subprocess.CompletedProcess:
    """pytest on one notebook with ``options``, outside the project (its own rootdir)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *options,
                           str(ipynb), "-q", "--rootdir", str(ipynb.parent)],
                          capture_output=True, text=True, timeout=300, cwd=ipynb.parent)


def test_a_changed_output_fails_the_notebook_tests(tmp_path):
    unchanged = reference_notebook(tmp_path / "unchanged", CORRECT, "42\n")
    result = nbval(unchanged, *nbval_options())
    assert result.returncode == 0, f"nbval failed on a correct notebook:\n{tail(result)}"

    changed = reference_notebook(tmp_path / "changed", CORRECT, "41\n")  # the stored output no longer matches
    result = nbval(changed, *nbval_options())
    assert result.returncode != 0, "`make test`'s nbval passed a notebook whose output changed"
    assert "41" in result.stdout and "42" in result.stdout, tail(result)
    # lax mode compares no outputs: the same notebook passes, so the failure above is the comparison
    assert nbval(changed, "--nbval-lax").returncode == 0


def test_a_broken_cell_fails_the_notebook_tests(tmp_path):
    ipynb = reference_notebook(tmp_path, CORRECT, "42\n")
    assert nbval(ipynb, *nbval_options()).returncode == 0, "nbval failed on a correct notebook"
    broken = reference_notebook(tmp_path / "broken", "raise RuntimeError('planted error')", "42\n")
    result = nbval(broken, *nbval_options())
    assert result.returncode != 0 and "planted error" in result.stdout
