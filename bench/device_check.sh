#!/usr/bin/env bash
# The engine on one GPU in a single call of at most 6 minutes, compile time included:
#
#     bash bench/device_check.sh [OUT_DIR]          # from the repository's root; OUT_DIR default: bench-out
#
# What has to travel: nothing but this repository. It needs python3 (or $PYTHON) with a CUDA build of torch, numpy, pyyaml
# and pandas (all in the GPU machines' image; elsewhere `pip install -e .`); no snakemake, and no data
# (the images are synthetic, CIFAR-sized: throughput does not depend on pixels).
#
# It prints and writes (OUT_DIR/device_check.md, .json):
#   - the machine, driver, torch and CUDA;
#   - images/s of the simplified depth-20 net, batch 128, on 8,192 images, the second of two epochs timed (the
#     first compiles): the conventional DataLoader loop, the engine eager in fp32, compiled in fp32 and bf16,
#     compiled seed groups of 16, 32 and 8 in bf16 and fp32, and float64, all NCHW (`channels_last: auto` on a
#     GPU); one run and a group of 16 in bf16 also in channels_last (`+cl`) (bench/bench_train.py; a case that
#     would start after 270 s is named as skipped, so the call ends in time);
#   - bench/paper_cost.py's GPU-hours for the paper scale at the fastest seed group's throughput.
# SUBSET, DEADLINE_S and CASES (bench_train.py --cases) override the above, e.g. to try it on a CPU:
#     SUBSET=256 CASES="conventional fp32 group2+compiled" bash bench/device_check.sh /tmp/check
set -euo pipefail
out=${1:-bench-out}
py=${PYTHON:-python3}  # the python that holds torch
cases=${CASES:-conventional fp32 fp32+compiled bf16+compiled bf16+cl+compiled group16-bf16+compiled \
                group16-bf16+cl+compiled group16+compiled group32-bf16+compiled group32+compiled \
                group8-bf16+compiled group8+compiled fp64}
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD/bench${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export TORCHINDUCTOR_COMPILE_THREADS=${TORCHINDUCTOR_COMPILE_THREADS:-$(nproc)}
{
    echo "# device check, $(date -u '+%Y-%m-%d %H:%M') UTC"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
    "$py" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
                torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU: CPU')"
} | tee "$out/device_check.md"
# shellcheck disable=SC2086  # the cases are words
timeout 330 "$py" bench/bench_train.py --subset "${SUBSET:-8192}" --epochs 2 --deadline-s "${DEADLINE_S:-270}" \
    --json "$out/device_check.json" --cases $cases | tee -a "$out/device_check.md"
"$py" - "$out/device_check.json" <<'PY' | tee -a "$out/device_check.md"
import json, subprocess, sys
cases = json.load(open(sys.argv[1]))["cases"]
groups = [c for c in cases if c.get("k", 1) > 1]
if not groups:
    sys.exit("no seed group was measured: no paper-scale cost")
best = max(groups, key=lambda c: c["images_per_s"])
k = best["k"]
print(f"\nfastest seed group: {best['case']}, {best['images_per_s']:,.0f} images/s")
subprocess.run([sys.executable, "bench/paper_cost.py", "--scale", "paper", "--group-size", str(k),
                "--images-per-second", str(best["images_per_s"])], check=True)
PY
