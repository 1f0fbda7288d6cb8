"""Run every reader notebook against the library versions Colab ships.

Colab installs the support package with ``--no-deps``, so the chapters run there on
Colab's own NumPy, TensorFlow, Keras and the rest, not on this project's pins.  This check
makes a separate environment from ``compat/colab-requirements.txt`` (default ``.venv-colab``),
installs the package into it without dependencies, as Colab would, and executes each
``notebooks/NN_name.ipynb`` top to bottom in a fresh kernel.  It compares no outputs: it
fails on the first error.  Each notebook runs in an empty folder outside the clone, so its
setup cell finds the installed package, as on Colab, and its figures go to that folder.

    python scripts/colab_check.py                       # every reader notebook
    python scripts/colab_check.py notebooks/05_dense_layers.ipynb
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "compat" / "colab-requirements.txt"

RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
path, folder, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=timeout, kernel_name="python3",
               resources={"metadata": {"path": folder}}).execute()
"""


def make_environment(venv: Path) -> Path:
    python = venv / "bin" / "python"
    stamp = venv / ".colab-stamp"
    wanted = REQUIREMENTS.read_text()
    if stamp.is_file() and stamp.read_text() == wanted:
        print(f"reusing {venv}", flush=True)
    else:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"installing Colab's versions into {venv} (several minutes the first time) ...", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    # The package as it is now, without dependencies, as Colab's setup cell installs it.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(ROOT)],
                   check=True)
    subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
                   check=True, stdout=subprocess.DEVNULL)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="reader notebooks (default: all)")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-colab", help="the environment to use")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        parser.error("no reader notebooks found: run `make reader-notebooks` first")
    # every argument is checked before the environment, which takes minutes to build
    for notebook in notebooks:
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            parser.error(f"{notebook} is not a notebook file (.ipynb)")
    if args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    started = time.perf_counter()
    python = make_environment(args.venv.resolve())
    print(f"environment ready in {time.perf_counter() - started:.0f} s", flush=True)
    env = {**os.environ, "PYTHONPATH": "", "MPLBACKEND": "Agg"}
    failed = []
    for notebook in notebooks:
        begun = time.perf_counter()
        print(f"running {notebook.name} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="colab-check-") as folder:
            # The environment lives in the clone, where the package would find the clone's
            # media/ folder: figures from other library versions must not land there.
            result = subprocess.run([str(python), "-c", RUNNER, str(notebook), folder, str(args.timeout)],
                                    cwd=folder, env={**env, "LESSON4_MEDIA": folder},
                                    capture_output=True, text=True)
        seconds = time.perf_counter() - begun
        if result.returncode:
            failed.append(notebook.name)
            print(f"  FAILED after {seconds:.0f} s\n{result.stderr[-3000:]}", flush=True)
        else:
            print(f"  ok ({seconds:.0f} s)", flush=True)
    total = time.perf_counter() - started
    print(f"{len(notebooks) - len(failed)} passed, {len(failed)} failed in {total / 60:.1f} min")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
