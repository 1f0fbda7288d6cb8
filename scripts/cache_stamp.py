"""Clear the execution cache when the support package changes.

Jupyter Book's execution cache (jupyter-cache, in _build/.jupyter_cache) keys each chapter
on its code cells only, so a change to lesson4_support/ alone would leave every page with
outputs computed by the old code. This script fingerprints the package and pyproject.toml
(its pinned dependencies), keeps the fingerprint in the cache folder, and deletes the whole
cache when the fingerprint differs, so the next build executes every chapter again.
`make book` runs it before `jupyter-book build`.

    python scripts/cache_stamp.py [--package DIR] [--file FILE]... [--cache DIR]

It prints nothing when the package is unchanged.  It only ever deletes a folder that is
recognisably a jupyter-cache (its ``global.db`` with nothing beside it but what jupyter-cache
and this script write) or the default one inside _build; any other folder named by ``--cache``
is refused, so a slip such as ``--cache .`` cannot wipe a clone.
"""

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP_NAME = "support.sha256"
DEFAULT_CACHE = ROOT / "_build" / ".jupyter_cache"
#: What jupyter-cache writes into its folder (the database, its journal, its version and the
#: executed notebooks), plus this script's stamp.
CACHE_ENTRIES = frozenset({"global.db", "global.db-journal", "__version__.txt", "executed", STAMP_NAME})


class NotACache(Exception):
    """The folder to clear does not look like an execution cache, so it is left alone."""


def check_clearable(cache: Path) -> None:
    """Raise :class:`NotACache` unless ``cache`` is the default cache or holds only a jupyter-cache."""
    if cache.resolve() == DEFAULT_CACHE.resolve():
        return
    names = {path.name for path in cache.iterdir()}
    strangers = sorted(names - CACHE_ENTRIES)
    if "global.db" in names and not strangers:
        return
    found = ("it has no global.db" if "global.db" not in names
             else "it also holds " + ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else ""))
    raise NotACache(f"{cache} is not a jupyter-cache folder ({found}), so it is left alone: name the "
                    f"execution cache with --cache (default: {DEFAULT_CACHE.relative_to(ROOT)})")


def package_files(package: Path) -> list[Path]:
    """Every file of the package, without bytecode, in a fixed order."""
    found = []
    for path in package.rglob("*"):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(package).as_posix())


def fingerprint(package: Path, files: list[Path]) -> str:
    """SHA-256 over the package's relative paths and contents, then the extra files'."""
    digest = hashlib.sha256()

    def add(name: str, data: bytes) -> None:
        # name and length first, so that no two different file sets hash the same stream
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)

    for path in package_files(package):
        add(f"{package.name}/{path.relative_to(package).as_posix()}", path.read_bytes())
    for path in files:
        add(path.name, path.read_bytes())
    return digest.hexdigest()


def refresh(package: Path, files: list[Path], cache: Path) -> str | None:
    """Clear `cache` if the package changed since its stamp; return the reason, or None."""
    stamp = cache / STAMP_NAME
    current = fingerprint(package, files)
    recorded = stamp.read_text().strip() if stamp.is_file() else None
    if recorded == current:
        return None
    reason = None
    if recorded is not None:
        changed = " or ".join([package.name, *(path.name for path in files)])
        reason = f"{changed} changed: clearing the execution cache so every chapter runs again"
    elif cache.exists() and any(cache.iterdir()):
        reason = (f"the execution cache has no record of the {package.name} it was made with: "
                  "clearing it so every chapter runs again")
    if reason:
        check_clearable(cache)
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return reason


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, default=ROOT / "lesson4_support",
                        help="the package folder whose files are fingerprinted (default: lesson4_support/)")
    parser.add_argument("--file", type=Path, action="append", dest="files",
                        help="another file to fingerprint, repeatable (default: pyproject.toml)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="the execution cache folder, which also holds the stamp (default: _build/.jupyter_cache)")
    args = parser.parse_args(argv)
    files = args.files if args.files is not None else [ROOT / "pyproject.toml"]
    if not args.package.is_dir():
        parser.error(f"no package folder at {args.package}")
    for path in files:
        if not path.is_file():
            parser.error(f"--file {path}: no such file")
    if args.cache.exists() and not args.cache.is_dir():
        parser.error(f"--cache names {args.cache}, which is not a folder")
    try:
        reason = refresh(args.package, files, args.cache)
    except NotACache as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    if reason:
        print(reason, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
