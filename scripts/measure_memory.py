"""Measure each chapter's peak memory: its kernel and every process the kernel starts.

mybinder.org gives a session 2 GB at most and restarts the kernel above that, so every
chapter must run well inside it.  Each chapter is executed top to bottom in a fresh kernel
while a sampler reads, every 0.1 s, the proportional set size (PSS) of the kernel process
and all its descendants (DataLoader workers, for example) from ``/proc/PID/smaps_rollup``.
PSS splits memory shared between processes fairly among them, so the sum is what the
session really holds.  Linux only.

    python scripts/measure_memory.py                      # every chapter, a table
    python scripts/measure_memory.py --json _build/memory.json chapters/09_mnist_optimized.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_GB = 1.5


def supported() -> bool:
    """PSS comes from ``/proc/PID/smaps_rollup``, which only Linux has."""
    return Path("/proc/self/smaps_rollup").exists()


def pss_bytes(pid: int) -> int:
    """The PSS of one process, 0 when it has already gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class PeakSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, sum(pss_bytes(p) for p in descendants(self.pid)))
            self.done.wait(self.interval)


def measure(markdown: Path, timeout: int = 1200) -> tuple[float, float]:
    """Peak PSS in GB and run time in seconds of chapter ``markdown`` in a fresh kernel."""
    notebook = jupytext.read(markdown)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(markdown.parent)}})
    started = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        sampler = PeakSampler(pid)
        sampler.start()
        try:
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
        finally:
            sampler.done.set()
            sampler.join()
    return sampler.peak / 1e9, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter .md files (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--budget", type=float, default=BUDGET_GB, help="GB allowed per chapter")
    args = parser.parse_args(argv)
    if not supported():
        parser.error("this measurement reads /proc/PID/smaps_rollup, which only Linux has")
    chapters = args.chapters or sorted((ROOT / "chapters").glob("*.md"))
    # every argument is checked before the first chapter, which can take minutes
    for chapter in chapters:
        if chapter.suffix != ".md" or not chapter.is_file():
            parser.error(f"{chapter} is not a chapter .md file")
    if not math.isfinite(args.budget) or args.budget <= 0:
        parser.error(f"--budget must be a positive number of GB, got {args.budget}")
    if args.json is not None and args.json.is_dir():
        parser.error(f"--json {args.json} is a folder: name the file to write")
    os.environ.setdefault("MPLBACKEND", "Agg")
    results = {}
    print(f"{'chapter':28s} {'peak PSS':>9s} {'run time':>9s}", flush=True)
    for chapter in chapters:
        peak, seconds = measure(chapter.resolve())
        results[chapter.stem] = {"peak_gb": round(peak, 3), "seconds": round(seconds, 1)}
        flag = "" if peak <= args.budget else f"  over the {args.budget} GB budget"
        print(f"{chapter.stem:28s} {peak:7.2f} GB {seconds:7.0f} s{flag}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"budget_gb": args.budget, "chapters": results}, indent=1) + "\n")
    over = [name for name, r in results.items() if r["peak_gb"] > args.budget]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
