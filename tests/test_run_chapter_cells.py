"""scripts/run_chapter_cells.py: which cells the GPU check skips without TensorFlow, and a real run."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import run_chapter_cells  # noqa: E402


def notebook(*cells):
    """A notebook of code cells, each ``source`` or ``(source, tags)``."""
    made = []
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        made.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags}))
    return nbformat.v4.new_notebook(cells=made)


def reasons(nb):
    return [cell.skip for cell in run_chapter_cells.plan(nb, {"tensorflow"})]


def test_tensorflow_cells_and_what_needs_them_are_skipped():
    nb = notebook(
        "import torch\nx = torch.ones(3)",
        ("import tensorflow as tf\ny = tf.ones(3)", ["tensorflow"]),
        "z = y * 2",                       # needs a skipped cell's result
        "print(z, x)",                     # needs it at one remove
        "def show(y):\n    return y\nshow(x)",  # y is its own parameter here
        "from lesson4_support import keras_models",
        "y = x + 1\nprint(y)",             # binds y afresh: runs, and y is usable again
        "print(y)",
    )
    assert reasons(nb) == [None, "tagged tensorflow", "reads y from skipped cells",
                           "reads z from skipped cells", None, "imports lesson4_support.keras_models", None,
                           None]


def test_nothing_is_skipped_when_tensorflow_is_there():
    nb = notebook(("import tensorflow as tf", ["tensorflow"]), "print(tf)")
    assert [cell.skip for cell in run_chapter_cells.plan(nb, set())] == [None, None]


def test_ipython_lines_raise_only_when_reached():
    source = run_chapter_cells.python_source("try:\n    import os\nexcept ImportError:\n    %pip install os\n")
    assert "    raise RuntimeError('IPython syntax, runs only in Jupyter: %pip install os')" in source
    exec(compile(source, "cell", "exec"), {})  # the import works, so the line is never reached
    with pytest.raises(RuntimeError, match="runs only in Jupyter"):
        exec(compile(run_chapter_cells.python_source("!ls"), "cell", "exec"), {})


def test_a_chapter_runs_with_its_tensorflow_cells_skipped():
    run = subprocess.run([sys.executable, "scripts/run_chapter_cells.py", "--skip-framework", "tensorflow",
                          "chapters/06_backpropagation.ipynb"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "OK 06_backpropagation: 12 cells ran, 2 skipped" in run.stdout
    assert "skipped cell 7: tagged tensorflow" in run.stdout and "1 of 1 chapters ran" in run.stdout


def test_a_failing_cell_fails_the_run(tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook("x = 1", "raise ValueError('planted')", "print('never')"), path)
    run = subprocess.run([sys.executable, "scripts/run_chapter_cells.py", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "FAILED broken: code cell 2 of 3" in run.stdout and "ValueError: planted" in run.stderr
    assert "never" not in run.stdout and "failed: broken" in run.stdout


def test_only_notebooks_are_accepted(tmp_path):
    run = subprocess.run([sys.executable, "scripts/run_chapter_cells.py", "chapters/06_backpropagation.md"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "is not a notebook (.ipynb) file" in run.stderr
