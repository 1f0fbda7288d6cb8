"""Regenerate every chapter's .ipynb pair from its .md source, with fresh reference outputs.

Each chapter is executed top to bottom in a fresh kernel.  The stored outputs keep text
only: images are dropped (the site renders them from its own execution, and nbval does
not compare them), as are timing metadata, so an unchanged chapter gives an unchanged file.

    python scripts/refresh_notebooks.py                      # every chapter
    python scripts/refresh_notebooks.py chapters/04_activations.md
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KEEP_MIME = ("text/plain",)


def strip_outputs(notebook: nbformat.NotebookNode) -> None:
    """Keep text outputs only, drop run-dependent metadata, give cells stable ids."""
    for number, cell in enumerate(notebook.cells):
        # Ids derived from position and content, so an unchanged chapter gives an unchanged file.
        cell.id = hashlib.sha1(f"{number}:{cell.source}".encode()).hexdigest()[:12]
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.output_type in ("display_data", "execute_result"):
                data = {k: v for k, v in output.get("data", {}).items() if k in KEEP_MIME}
                if not data:
                    continue
                output["data"] = data
                output["metadata"] = {}
            kept.append(output)
        cell.outputs = kept
    notebook.metadata.pop("widgets", None)


def refresh(markdown: Path, timeout: int) -> float:
    notebook = jupytext.read(markdown)
    started = time.perf_counter()
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(markdown.parent)}},
    )
    client.execute()
    strip_outputs(notebook)
    jupytext.write(notebook, markdown.with_suffix(".ipynb"), fmt="ipynb")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter .md files (default: all)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    chapters = args.chapters or sorted((ROOT / "chapters").glob("*.md"))
    # every argument is checked before the first chapter, which can take minutes
    for chapter in chapters:
        if chapter.suffix != ".md" or not chapter.is_file():
            parser.error(f"{chapter} is not a chapter .md file")
    if args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    for chapter in chapters:
        print(f"executing {chapter.name} ...", flush=True)
        seconds = refresh(chapter.resolve(), args.timeout)
        print(f"  wrote {chapter.with_suffix('.ipynb').name} ({seconds:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
