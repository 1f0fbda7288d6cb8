"""Time the playground in headless Chromium: one training epoch plus a full repaint.

The network is 2-8-8-2 (tanh, batch size 10) on the dense-layer chapter's 500 moons points,
all of them used for training; one measurement is one epoch of mini-batch gradient descent
followed by the repaint of the boundary heatmap, the points and the network view.  The
script prints the median and the quartiles of 60 measurements after 10 for warming up.

    python scripts/playground_bench.py          # or: make playground-bench
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "_ext"), str(ROOT / "tests")]

from playground import write_assets  # noqa: E402 - the site's own extension, in _ext/
from site_server import CHROMIUM_ARGS, find_chromium  # noqa: E402

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>benchmark</title>
<link rel="stylesheet" href="playground.css"></head><body>
<div class="l4-playground" data-kind="mlp" data-preset="data=moons;layers=2;units=8;act=tanh;lr=0.1;batch=10;seed=1"></div>
<script src="data.js"></script><script src="playground.js"></script></body></html>"""

MEASURE = """([warm, runs]) => {
  const pg = document.querySelector('.l4-playground').playground;
  const set = pg.set;
  pg.train = {X: set.X, y: set.y, n: set.n};       // all 500 points
  const times = [];
  for (let i = 0; i < warm + runs; i++) {
    const start = performance.now();
    pg.advance();
    pg.draw();
    if (i >= warm) times.push(performance.now() - start);
  }
  return {times, n: pg.train.n, sizes: pg.sizes};
}"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        print("no Chromium browser found: install Debian's `chromium` or set $LESSON4_CHROMIUM", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_assets(folder)
        (folder / "index.html").write_text(PAGE, encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS))
            page = browser.new_page()
            page.goto((folder / "index.html").as_uri())
            page.wait_for_selector(".l4-pg")
            result = page.evaluate(MEASURE, [10, 60])
            browser.close()
    times = result["times"]
    q1, median, q3 = statistics.quantiles(times, n=4)
    print(f"playground: one epoch + full repaint, {'-'.join(map(str, result['sizes']))} network, "
          f"{result['n']} points, batch size 10, headless Chromium")
    print(f"median {median:.2f} ms (quartiles {q1:.2f} to {q3:.2f} ms, {len(times)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
