#!/usr/bin/env bash
# Run every chapter's PyTorch code on a CUDA machine, then measure the GPU and write the GPU record.
#
#   LESSON4_DATA=/path/with/MNIST scripts/gpu_check.sh
#
# A relative LESSON4_DATA or LESSON4_MEDIA is taken from the directory the script is
# started in; GPU_RECORD, from the clone.
#
# Meant for a GPU machine that has python3 with torch, torchvision, numpy and matplotlib
# but possibly no Jupyter, no TensorFlow and no network.  It installs nothing.  Plan for
# at most 8 minutes on an H100 or H200.
#
# 1. MNIST: $LESSON4_DATA/MNIST/raw must hold the four IDX files; gzipped copies
#    (NAME.gz, there or directly in $LESSON4_DATA) are unpacked first.  The usual
#    checksums are verified by the chapters themselves.
# 2. Chapters: scripts/run_chapter_cells.py runs the code cells of every chapter, in a
#    fresh process each, including the accuracy checks hidden on the site.  Where
#    TensorFlow is not installed it skips the TensorFlow cells and the cells that need
#    their results, and says how many cells ran and were skipped per chapter.
#    LESSON4_DEVICE=cuda, so a silent fall-back to the CPU is an error.
# 3. The benchmark: the fastest of 3 epochs each way on the CPU and on CUDA (with the
#    step replayed as a CUDA graph), then eager against graphed training of the MLP and
#    the CNN.  Its CUDA results, with the device, driver, versions, date and commit, go to
#    media/gpu_record.json (GPU_RECORD overrides the path), which chapters 09 and 12 show.
#    Commit that file as written; never edit its numbers.
#
# Exit status: 0 when everything ran, 1 otherwise.
set -uo pipefail

: "${LESSON4_DATA:?set LESSON4_DATA to the folder whose MNIST/raw holds (or will hold) the MNIST files}"
# relative folders name places under the caller's working directory, not the clone's
LESSON4_DATA=$(realpath -m -- "$LESSON4_DATA")
[ -z "${LESSON4_MEDIA:-}" ] || LESSON4_MEDIA=$(realpath -m -- "$LESSON4_MEDIA")
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
RECORD=${GPU_RECORD:-media/gpu_record.json}

export LESSON4_DATA LESSON4_DEVICE=${LESSON4_DEVICE:-cuda}
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export LESSON4_MEDIA=${LESSON4_MEDIA:-$(mktemp -d)}   # keep the tree's media/ untouched

raw="$LESSON4_DATA/MNIST/raw"
mkdir -p "$raw"
for gz in "$LESSON4_DATA"/*.gz "$raw"/*.gz; do
    [ -e "$gz" ] || continue
    target="$raw/$(basename "${gz%.gz}")"
    [ -s "$target" ] && continue
    # unpacked under a temporary name and renamed when complete: a truncated archive leaves nothing
    if ! { gunzip -c "$gz" > "$target.unpacking" && mv -f "$target.unpacking" "$target"; }; then
        rm -f "$target.unpacking"
        echo "could not unpack $gz"
        exit 1
    fi
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
started=$SECONDS
echo
echo "== chapters on $LESSON4_DEVICE"
"$PY" scripts/run_chapter_cells.py chapters/[0-9][0-9]_*.ipynb || status=1
echo "chapters: $((SECONDS - started)) s"

echo
echo "== benchmark"
"$PY" -m lesson4_support.benchmark_cli --no-tensorflow --record "$RECORD" || status=1
echo "whole check: $((SECONDS - started)) s"

echo
if [ "$status" -eq 0 ]; then echo "GPU check passed"; else echo "GPU check FAILED"; fi
exit "$status"
