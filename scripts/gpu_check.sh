#!/usr/bin/env bash
# Check the PyTorch MNIST chapters (07-09) and the benchmark on a CUDA machine.
#
#   LESSON4_DATA=/path/with/MNIST scripts/gpu_check.sh
#
# Meant for a GPU machine that has python3 with torch, torchvision, numpy and matplotlib
# but possibly no Jupyter, no TensorFlow and no network.  It installs nothing.
#
# 1. MNIST: $LESSON4_DATA/MNIST/raw must hold the four IDX files; gzipped copies
#    (NAME.gz, there or directly in $LESSON4_DATA) are unpacked first.  The usual
#    checksums are verified by the chapters themselves.
# 2. Chapters: with nbval and a Jupyter kernel importable, each chapter runs under
#    `pytest --nbval-lax` (executes every cell, fails on any error; outputs are not
#    compared, since GPU numbers differ from the CPU reference).  Otherwise the code cells
#    are read from each .ipynb and executed in order in one fresh Python process per
#    chapter, which fails on the first error, including the accuracy assertions hidden on
#    the site.  Either way LESSON4_DEVICE=cuda, so a silent fall-back to the CPU is an error.
# 3. The benchmark: one epoch each way on the CPU and on CUDA.
#
# Exit status: 0 when everything ran, 1 otherwise.  Plan for a few minutes in all.
set -uo pipefail

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
CHAPTERS=(chapters/07_mnist_data.ipynb chapters/08_mnist_scratch.ipynb chapters/09_mnist_optimized.ipynb)

: "${LESSON4_DATA:?set LESSON4_DATA to the folder whose MNIST/raw holds (or will hold) the MNIST files}"
export LESSON4_DATA LESSON4_DEVICE=${LESSON4_DEVICE:-cuda}
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export LESSON4_MEDIA=${LESSON4_MEDIA:-$(mktemp -d)}   # keep the tree's media/ untouched

raw="$LESSON4_DATA/MNIST/raw"
mkdir -p "$raw"
for gz in "$LESSON4_DATA"/*.gz "$raw"/*.gz; do
    [ -e "$gz" ] || continue
    target="$raw/$(basename "${gz%.gz}")"
    [ -s "$target" ] || gunzip -c "$gz" > "$target" || { echo "could not unpack $gz"; exit 1; }
done

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi not available"
"$PY" - <<'EOF' || { echo "FAILED: PyTorch sees no CUDA device"; exit 1; }
import torch, torchvision
print(f"python torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"CUDA available: {torch.cuda.is_available()}")
assert torch.cuda.is_available()
print(f"device: {torch.cuda.get_device_name(0)}")
EOF

status=0
echo
echo "== chapters on $LESSON4_DEVICE"
if "$PY" -c "import nbval, ipykernel, nbclient" 2>/dev/null; then
    "$PY" -m pytest "${CHAPTERS[@]}" --nbval-lax -p no:xdist -q -p no:cacheprovider || status=1
else
    echo "(nbval or a Jupyter kernel is not installed: running the chapters' code cells directly)"
    for notebook in "${CHAPTERS[@]}"; do
        "$PY" - "$notebook" <<'EOF' || status=1
"""Run a notebook's code cells in order, in this process, the way a kernel would."""
import json, os, sys, time, traceback
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

plt.show = lambda *args, **kwargs: plt.close("all")   # no screen: drawing is enough

notebook = Path(sys.argv[1]).resolve()
cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
os.chdir(notebook.parent)            # chapters run from their own folder, as in Jupyter
namespace = {"__name__": "__main__"}
started = time.perf_counter()
for number, cell in enumerate(cells, start=1):
    source = "".join(cell["source"])
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        print(f"{notebook.name}: cell {number} uses IPython syntax; cannot run it here")
        sys.exit(1)
    try:
        exec(compile(source, f"{notebook.name}, cell {number}", "exec"), namespace)
    except Exception:
        traceback.print_exc()
        print(f"FAILED: {notebook.name}, code cell {number} of {len(cells)}")
        sys.exit(1)
print(f"OK: {notebook.name}, {len(cells)} code cells in {time.perf_counter() - started:.1f} s")
EOF
    done
fi

echo
echo "== benchmark"
"$PY" -m lesson4_support.benchmark_cli || status=1

echo
if [ "$status" -eq 0 ]; then echo "GPU check passed"; else echo "GPU check FAILED"; fi
exit "$status"
