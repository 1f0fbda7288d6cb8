"""A failing cell must fail both the site build and the notebook tests.

Builds a throw-away book in a temporary folder with the project's configuration and one
chapter whose cell raises (and one that writes to stderr), then runs the same commands
as `make book` and `make test` on it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

CHAPTER = """---
jupytext:
  formats: ipynb,md:myst
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# Planted problem

```{{code-cell}} ipython3
print("before the problem")
```

```{{code-cell}} ipython3
{body}
```
"""


def make_book(folder: Path, body: str) -> Path:
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/planted\n")
    (folder / "intro.md").write_text("# Throw-away book\n\nOne page.\n")
    (folder / "chapters").mkdir()
    md = folder / "chapters" / "planted.md"
    md.write_text(CHAPTER.format(body=body))
    return md


def build(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "jupyter-book"), "build", str(folder), "--all", "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("body, evidence", [
    ("raise RuntimeError('planted error')", "planted error"),
    ("import sys\nprint('planted warning', file=sys.stderr)", "stderr was found in the cell outputs"),
])
def test_a_broken_cell_fails_the_build(tmp_path, body, evidence):
    make_book(tmp_path, body)
    result = build(tmp_path)
    assert result.returncode != 0, "the build passed despite a broken cell"
    assert evidence in result.stdout + result.stderr


def test_a_changed_output_fails_the_notebook_tests(tmp_path):
    md = make_book(tmp_path, "print(6 * 7)")
    notebook = jupytext.read(md)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="before the problem\n")]
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    notebook.cells[1].execution_count, notebook.cells[2].execution_count = 1, 2
    ipynb = md.with_suffix(".ipynb")
    jupytext.write(notebook, ipynb, fmt="ipynb")

    def nbval():
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--nbval",
                               str(ipynb), "-q", "--rootdir", str(tmp_path)],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)

    assert nbval().returncode == 0, "nbval failed on a correct notebook"
    md.write_text(md.read_text().replace("print(6 * 7)", "raise RuntimeError('planted error')"))
    notebook.cells[2].source = "raise RuntimeError('planted error')"
    jupytext.write(notebook, ipynb, fmt="ipynb")
    result = nbval()
    assert result.returncode != 0 and "planted error" in result.stdout
