"""Run the chapters' code outside Jupyter, skipping the TensorFlow cells where TensorFlow is missing.

    python scripts/run_chapter_cells.py chapters/*.ipynb
    python scripts/run_chapter_cells.py --skip-framework tensorflow chapters/05_dense_layers.ipynb

This is how ``scripts/gpu_check.sh`` runs every chapter's PyTorch code on a GPU machine that
has PyTorch but no TensorFlow and no Jupyter kernel.  Each chapter runs in a fresh Python
process, from the chapter's own folder, its code cells in order in one namespace, as a
kernel would run them; the hidden cells (the accuracy checks the site does not show) run too.

A cell is skipped when TensorFlow is not importable (or ``--skip-framework tensorflow`` is
given) and

* it is tagged ``tensorflow`` (the TensorFlow side of a framework tab), or
* it imports TensorFlow, Keras or the support package's Keras modules, or
* it reads a name that only a skipped cell defined (a result of TensorFlow's training, say).

A line of IPython syntax (the setup cell's ``%pip install``, used only where the support
package is missing) becomes an error raised if that line is ever reached.  Figures are drawn
and closed, never shown.  For every chapter the script prints how many cells ran and how many
were skipped; it exits with 1 if any cell of any chapter failed.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

FRAMEWORK_MODULES = {"tensorflow": ("tensorflow", "keras", "lesson4_support.keras_models",
                                    "lesson4_support.keras_training")}


@dataclass
class Cell:
    number: int  # among the notebook's code cells, from 1
    source: str  # runnable Python: IPython lines turned into errors
    skip: str | None  # why the cell is skipped, or None


def python_source(source: str) -> str:
    """``source`` with each IPython line (``%pip ...``, ``!ls``) replaced by a ``raise`` at its indentation."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[:len(line) - len(stripped)]
            line = f"{indent}raise RuntimeError({'IPython syntax, runs only in Jupyter: ' + stripped!r})"
        lines.append(line)
    return "\n".join(lines)


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module a cell imports, with the names it imports from a package (``pkg.name``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def bound_and_read(tree: ast.AST) -> tuple[set[str], set[str]]:
    """The names a cell binds (assignments, definitions, imports, parameters) and the names it reads."""
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return bound, read


def plan(notebook: dict, skip_frameworks: set[str]) -> list[Cell]:
    """The notebook's code cells, each with the reason it is skipped (None: it runs)."""
    cells, unavailable = [], set()
    modules = [m for framework in skip_frameworks for m in FRAMEWORK_MODULES[framework]]
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for number, cell in enumerate(code_cells, start=1):
        source = python_source("".join(cell["source"]))
        tree = ast.parse(source)
        bound, read = bound_and_read(tree)
        tags = set(cell.get("metadata", {}).get("tags", []))
        imports = imported_modules(tree)
        skip = None
        if tags & skip_frameworks:
            skip = f"tagged {', '.join(sorted(tags & skip_frameworks))}"
        elif any(name == m or name.startswith(m + ".") for name in imports for m in modules):
            skip = "imports " + ", ".join(sorted(m for m in modules if any(n == m or n.startswith(m + ".")
                                                                             for n in imports)))
        elif (read - bound) & unavailable:
            skip = "reads " + ", ".join(sorted((read - bound) & unavailable)) + " from skipped cells"
        if skip:
            unavailable |= bound
        else:
            unavailable -= bound
        cells.append(Cell(number, source, skip))
    return cells


def run_one(notebook_path: Path, skip_frameworks: set[str]) -> int:
    """Run one chapter in this process; print one summary line; 0 when every planned cell ran."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.show = lambda *args, **kwargs: plt.close("all")  # no screen: drawing is enough
    cells = plan(json.loads(notebook_path.read_text()), skip_frameworks)
    os.chdir(notebook_path.parent)  # chapters run from their own folder, as in Jupyter
    namespace = {"__name__": "__main__"}
    started = time.perf_counter()
    for cell in cells:
        if cell.skip:
            continue
        try:
            exec(compile(cell.source, f"{notebook_path.name}, code cell {cell.number}", "exec"), namespace)
        except Exception:
            traceback.print_exc()
            print(f"FAILED {notebook_path.stem}: code cell {cell.number} of {len(cells)}", flush=True)
            return 1
    ran = sum(cell.skip is None for cell in cells)
    skipped = [cell for cell in cells if cell.skip]
    print(f"OK {notebook_path.stem}: {ran} cells ran, {len(skipped)} skipped, "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    for cell in skipped:
        print(f"    skipped cell {cell.number}: {cell.skip}")
    return 0


def missing_frameworks() -> set[str]:
    return {name for name in FRAMEWORK_MODULES if importlib.util.find_spec(name) is None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--skip-framework", action="append", choices=sorted(FRAMEWORK_MODULES), default=[],
                        help="skip this framework's cells even if it is installed (default: skip it only "
                             "when it is not installed)")
    parser.add_argument("--in-this-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    skip = set(args.skip_framework) | missing_frameworks()
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path} is not a notebook (.ipynb) file")
    if args.in_this_process:
        return run_one(args.notebooks[0].resolve(), skip)
    if skip:
        print(f"skipping the cells of: {', '.join(sorted(skip))} (not installed, or asked for)", flush=True)
    failed = []
    for path in args.notebooks:
        command = [sys.executable, __file__, "--in-this-process", str(path.resolve())]
        command += [f"--skip-framework={name}" for name in sorted(skip)]
        if subprocess.run(command).returncode != 0:
            failed.append(path.stem)
    print(f"{len(args.notebooks) - len(failed)} of {len(args.notebooks)} chapters ran"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
