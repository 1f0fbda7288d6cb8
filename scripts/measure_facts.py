"""Measure the facts the README states about setting up: disk, and build and test times.

The README's sentence between ``<!-- facts -->`` and ``<!-- /facts -->`` is written by
this script from ``tests/readme_facts.json``, never by hand, and a test checks that the two
agree.

    python3 scripts/measure_facts.py                 # the disk .venv takes, in this clone
    python3 scripts/measure_facts.py --fresh-clone   # also: clone HEAD, time make book and make test

The disk figure is the apparent size of every file under ``.venv`` (what ``du -sb``
reports, each hard-linked file counted once), in gigabytes of 10**9 bytes.

``--fresh-clone`` clones the current commit into a temporary folder and reuses nothing from
this clone or this machine: a new ``.venv`` (pip's download cache switched off), an empty
execution cache and an empty MNIST folder.  It times ``make book`` (which includes creating
the environment) and then ``make test`` separately, in wall-clock seconds, and records the
machine's core count and its load average just before it started.  It needs the whole
machine for a while (about 20 minutes on 2 cores): run nothing else meanwhile, since the
times are only worth stating when nothing competed with them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FACTS = ROOT / "tests" / "readme_facts.json"

BEGIN, END = "<!-- facts -->", "<!-- /facts -->"
FACTS_BLOCK = re.compile(re.escape(BEGIN) + r"\n(?P<sentence>.*?)\n" + re.escape(END), re.DOTALL)

#: How often a running ``make`` reports that it is still running.
PROGRESS_EVERY_S = 30


def environment_bytes(venv: Path) -> int:
    """Apparent size of every file under ``venv``: links not followed, hard links counted once."""
    venv = Path(venv)
    if not venv.is_dir():
        raise FileNotFoundError(f"no environment at {venv}: create it with `make env`")
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _dirs, files in os.walk(venv):
        for name in files:
            info = os.lstat(os.path.join(folder, name))
            if info.st_nlink > 1:
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    continue
                seen.add(key)
            total += info.st_size
    return total


def gigabytes(n_bytes: int) -> float:
    """Bytes as gigabytes (10**9 bytes), to one decimal."""
    return round(n_bytes / 1e9, 1)


def minutes(seconds: float) -> str:
    """Wall seconds as the README states them: whole minutes, and never "0 min"."""
    return f"{max(1, round(seconds / 60))} min"


def facts_sentence(facts: dict) -> str:
    """The README's sentence for the measured ``facts`` (the contents of readme_facts.json)."""
    disk = f"the environment takes {facts['environment_gb']:.1f} GB of disk."
    book, test = facts.get("book_seconds"), facts.get("test_seconds")
    if book is None and test is None:
        return ("How long a fresh clone's `make book` (including installing the environment) and "
                f"`make test` take is not yet measured; {disk}")
    cores = facts["fresh_clone"]["nproc"]
    book_part = (f"`make book` took {minutes(book)} (including installing the environment)"
                 if book is not None else "`make book` (including installing the environment) is not yet measured")
    test_part = f"`make test` {minutes(test)}" if test is not None else "`make test` is not yet measured"
    return f"On a {cores}-core machine, a fresh clone's {book_part} and {test_part}; {disk}"


def readme_sentence(text: str) -> str:
    """The sentence between the facts markers in the README's ``text``."""
    found = FACTS_BLOCK.search(text)
    if found is None:
        raise ValueError(f"the README has no facts block: a line {BEGIN}, the sentence, a line {END}")
    return found.group("sentence")


def with_sentence(text: str, sentence: str) -> str:
    """The README's ``text`` with the facts block holding ``sentence``."""
    readme_sentence(text)  # fails clearly when the markers are missing
    return FACTS_BLOCK.sub(lambda _: f"{BEGIN}\n{sentence}\n{END}", text, count=1)


def load_facts(path: Path = FACTS) -> dict:
    """The recorded facts, or an empty record when none were measured yet."""
    if not path.is_file():
        return {"environment_gb": None, "environment_measured": None,
                "book_seconds": None, "test_seconds": None, "fresh_clone": None}
    return json.loads(path.read_text(encoding="utf-8"))


def write_facts(facts: dict, facts_path: Path = FACTS, readme_path: Path = README) -> None:
    """Store ``facts`` and put their sentence into the README (only written when it changes)."""
    facts_path.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    text = readme_path.read_text(encoding="utf-8")
    updated = with_sentence(text, facts_sentence(facts))
    if updated != text:
        readme_path.write_text(updated, encoding="utf-8")


def log(message: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except FileNotFoundError:
        return ""
    return lines[-1][:120] if lines else ""


def timed_make(target: str, clone: Path, env: dict, logs: Path) -> float:
    """Run ``make TARGET`` in ``clone``; return its wall seconds, reporting progress meanwhile."""
    log_file = logs / f"make-{target}.log"
    log(f"make {target}: started (output in {log_file})")
    started = time.perf_counter()
    with log_file.open("w") as sink:
        process = subprocess.Popen(["make", target], cwd=clone, env=env, stdout=sink, stderr=subprocess.STDOUT)
        while True:
            try:
                process.wait(timeout=PROGRESS_EVERY_S)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.perf_counter() - started
                log(f"make {target}: {elapsed / 60:.1f} min so far | {last_line(log_file)}")
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"make {target} failed (exit {process.returncode}) after {seconds:.0f} s; "
                         f"nothing recorded.  Last lines of {log_file}:\n{tail}")
    log(f"make {target}: done in {seconds:.0f} s ({seconds / 60:.1f} min)")
    return seconds


def head_commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def measured_where(where: str, commit: str) -> dict:
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return {"date": date, "where": where, "commit": commit}


def measure_fresh_clone(facts: dict, keep: bool) -> dict:
    commit = head_commit()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.strip()
    if dirty:
        log("note: this clone has uncommitted changes; the fresh clone measures the commit "
            f"{commit[:12]} without them")
    work = Path(tempfile.mkdtemp(prefix="lesson4-fresh-"))
    clone, logs = work / "clone", work / "logs"
    logs.mkdir()
    log(f"cloning {commit[:12]} into {clone}")
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", commit], cwd=clone, check=True)

    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("LESSON4_", "VIRTUAL_ENV", "MAKE", "JUPYTER_", "PYTHON"))}
    env["LESSON4_DATA"] = str(work / "data")   # no MNIST reused from the shared cache
    env["PIP_NO_CACHE_DIR"] = "1"              # every package downloaded or read afresh

    load_before = os.getloadavg()
    started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    log(f"{os.cpu_count()} cores; load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    if load_before[0] > 0.5:
        log("warning: the machine is already busy; the times will say so in the load average")
    book_seconds = timed_make("book", clone, env, logs)
    test_seconds = timed_make("test", clone, env, logs)
    env_bytes = environment_bytes(clone / ".venv")

    facts.update(
        environment_gb=gigabytes(env_bytes),
        environment_measured=measured_where("the fresh clone's .venv", commit),
        book_seconds=round(book_seconds, 1),
        test_seconds=round(test_seconds, 1),
        fresh_clone={
            "date": started_at,
            "commit": commit,
            "nproc": os.cpu_count(),
            "load_average_before": [round(value, 2) for value in load_before],
        },
    )
    if keep:
        log(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh-clone", action="store_true",
                        help="clone HEAD into a temporary folder and time make book and make test there")
    parser.add_argument("--keep", action="store_true", help="keep the fresh clone and its logs")
    args = parser.parse_args(argv)

    facts = load_facts()
    if args.fresh_clone:
        facts = measure_fresh_clone(facts, keep=args.keep)
    else:
        venv = ROOT / ".venv"
        log(f"measuring {venv}")
        facts["environment_gb"] = gigabytes(environment_bytes(venv))
        facts["environment_measured"] = measured_where("this clone's .venv", head_commit())
    write_facts(facts)
    print(facts_sentence(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
