"""Lighthouse on every page of the built site, as a phone on a slow network sees it.

``make lighthouse`` runs this.  The site (``_build/html``, or ``$LESSON4_SITE``) is served
gzipped from 127.0.0.1 by the tests' own server, as GitHub Pages serves it; Lighthouse
(the version tests/lighthouse/package-lock.json pins) drives Debian's Chromium headless
with its default mobile profile: simulated slow 4G and a 4x slower CPU.  Each page is
measured several times and the median printed, next to the goal:

    performance >= 90, LCP <= 2.5 s, CLS <= 0.1, TBT <= 200 ms,
    accessibility, best practices and SEO 100.

Lighthouse's simulated timings move with the machine's load: run it with nothing else
running.  Every report is written to ``_build/lighthouse/<page>-<run>.json`` and the
medians to ``_build/lighthouse/summary.json``.

    python scripts/lighthouse_site.py [--runs 3] [--pages chapters/05_dense_layers ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from site_server import CHROMIUM_ARGS, SiteServer, artifacts_dir, find_chromium, site_dir, site_is_built, toc_pages  # noqa: E402

LIGHTHOUSE = ROOT / "tests" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
#: (column, Lighthouse audit, scale to the unit shown, goal: the worst value that passes)
TIMINGS = (
    ("FCP s", "first-contentful-paint", 1e-3, None),
    ("LCP s", "largest-contentful-paint", 1e-3, 2.5),
    ("TBT ms", "total-blocking-time", 1, 200),
    ("CLS", "cumulative-layout-shift", 1, 0.1),
    ("kB", "total-byte-weight", 1e-3, None),
)
GOAL_SCORES = {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100}


def run_once(url: str, chromium: str, report: Path) -> dict:
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    command = [
        "node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--chrome-flags={flags}", f"--only-categories={','.join(CATEGORIES)}",
    ]
    done = subprocess.run(command, env={**os.environ, "CHROME_PATH": chromium}, capture_output=True, text=True)
    if done.returncode != 0 or not report.is_file():
        raise RuntimeError(f"Lighthouse failed on {url} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        raise RuntimeError(f"Lighthouse could not measure {url}: {data['runtimeError']}")
    row = {name: round(100 * data["categories"][name]["score"]) for name in CATEGORIES}
    for column, audit, scale, _ in TIMINGS:
        row[column] = data["audits"][audit]["numericValue"] * scale
    row["LCP element"] = (data["audits"].get("largest-contentful-paint-element", {}).get("details", {})
                          .get("items", [{}])[0].get("items", [{}])[0].get("node", {}).get("nodeLabel", ""))[:60]
    return row


def median_row(rows: list[dict]) -> dict:
    merged = {key: statistics.median(row[key] for row in rows) for key in rows[0] if key != "LCP element"}
    merged["LCP element"] = rows[len(rows) // 2]["LCP element"]
    return merged


def meets_goal(row: dict) -> list[str]:
    misses = [f"{name} {row[name]:.0f} < {goal}" for name, goal in GOAL_SCORES.items() if row[name] < goal]
    misses += [f"{column} {row[column]:.3g} > {goal}" for column, _, _, goal in TIMINGS if goal is not None and row[column] > goal]
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lighthouse (mobile) on every page of the built site, median of several runs.")
    parser.add_argument("--runs", type=int, default=3, help="runs per page (the median is reported)")
    parser.add_argument("--pages", nargs="*", help="docnames to measure (default: every page of the TOC)")
    args = parser.parse_args(argv)

    site = site_dir()
    chromium = find_chromium()
    problems = [
        "" if site_is_built(site) else f"the site is not built ({site}): run `make book`",
        "" if shutil.which("node") else "node is not installed",
        "" if LIGHTHOUSE.is_file() else f"{LIGHTHOUSE} is missing: run `npm ci --prefix tests/lighthouse`",
        "" if chromium else "no Chromium found: install Debian's `chromium` or set $LESSON4_CHROMIUM",
    ]
    if any(problems):
        print("lighthouse: " + "; ".join(p for p in problems if p), file=sys.stderr)
        return 1
    pages = args.pages or toc_pages()
    out = artifacts_dir(site) / "lighthouse"
    out.mkdir(parents=True, exist_ok=True)

    summary = {}
    with SiteServer(site, gzip=True) as server:
        for docname in pages:
            rows = []
            for run in range(1, args.runs + 1):
                report = out / f"{docname.replace('/', '_')}-{run}.json"
                rows.append(run_once(server.url(docname), chromium, report))
            summary[docname] = {"median": median_row(rows), "runs": rows}
            print(f"measured {docname} ({args.runs} runs)", file=sys.stderr)

    header = "| page | perf | LCP s | FCP s | TBT ms | CLS | kB | a11y | best pr. | SEO | goal |"
    lines = [f"Lighthouse {lighthouse_version()} mobile profile, median of {args.runs} runs, site served gzipped", "",
             header, "|" + " --- |" * (header.count("|") - 1)]
    for docname, entry in summary.items():
        row = entry["median"]
        misses = meets_goal(row)
        lines.append(
            f"| {docname} | {row['performance']:.0f} | {row['LCP s']:.1f} | {row['FCP s']:.1f} | {row['TBT ms']:.0f} "
            f"| {row['CLS']:.3f} | {row['kB']:.0f} | {row['accessibility']:.0f} | {row['best-practices']:.0f} "
            f"| {row['seo']:.0f} | {'met' if not misses else 'missed: ' + ', '.join(misses)} |"
        )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n".join(lines))
    print(f"\nreports: {out}")
    return 0


def lighthouse_version() -> str:
    package = LIGHTHOUSE.parents[1] / "package.json"
    return json.loads(package.read_text())["version"]


if __name__ == "__main__":
    sys.exit(main())
