#!/usr/bin/env bash
# The engine on one GPU in a single call of at most 6 minutes, compiles included:
#
#     bash bench/device_check.sh [OUT_DIR]          # from the repository's root; OUT_DIR default: bench-out
#
# What has to travel: nothing but this repository. It needs python3 (or $PYTHON) with a CUDA build of torch, numpy, pyyaml
# and pandas (all in the GPU machines' image; elsewhere `pip install -e .`); no snakemake, and no data
# (the images are synthetic, CIFAR-sized: throughput does not depend on pixels).
#
# It prints and writes (OUT_DIR/device_check.md, .json):
#   - the machine, driver, torch and CUDA;
#   - per case, images/s of the simplified depth-20 net, batch 128, on 8,272 images (64 full minibatches and a short
#     one of 80, as 50,000 leaves), the second of two epochs timed (the first compiles; the lr drops as the second
#     begins, so a recompile at a milestone would show), and its evaluation's images/s and share of an epoch;
#     in the order that decides the paper's cost: the conventional DataLoader loop; compiled seed groups of 16 in
#     float32 (the configured dtype), in bf16, and in float32 with TF32; compiled single runs; a group of 16 in
#     channels_last; groups of 32 and 8; float64 last (bench/bench_train.py);
#   - whether each compiled case ran compiled: graphs against one per batch shape, CUDA graphs skipped, fallbacks;
#   - the paper scale's GPU-hours at the configured precision's fastest group, bf16 beside (bench/device_summary.py).
# bench_train.py runs under `timeout LIMIT_S` (default 320) and starts no case after LIMIT_S − CASE_S (default 70:
# the longest a case takes, its compiles included), so the summary always prints; it exits 1 when a case failed,
# fell back to eager, recompiled or skipped CUDA graphs, or the timeout cut the cases short.
# SUBSET, LIMIT_S, CASE_S and CASES (bench_train.py --cases) override the above, e.g. to try it on a CPU:
#     SUBSET=208 CASES="conventional group2+compiled group2-bf16" bash bench/device_check.sh /tmp/check
set -uo pipefail
out=${1:-bench-out}
py=${PYTHON:-python3}  # the python that holds torch
cases=${CASES:-conventional group16+compiled group16-bf16+compiled group16+tf32+compiled fp32+compiled \
                bf16+compiled group16-bf16+cl+compiled group32+compiled group32-bf16+compiled group8+compiled \
                group8-bf16+compiled fp64}
limit=${LIMIT_S:-320}
case_s=${CASE_S:-70}
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD/bench${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export TORCHINDUCTOR_COMPILE_THREADS=${TORCHINDUCTOR_COMPILE_THREADS:-$(nproc)}
{
    echo "# device check, $(date -u '+%Y-%m-%d %H:%M') UTC"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
    "$py" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
                torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU: CPU')"
} | tee "$out/device_check.md"
rm -f "$out/device_check.json"
# shellcheck disable=SC2086  # the cases are words
timeout "$limit" "$py" bench/bench_train.py --subset "${SUBSET:-8272}" --epochs 2 --deadline-s $((limit - case_s)) \
    --json "$out/device_check.json" --cases $cases | tee -a "$out/device_check.md"
bench=${PIPESTATUS[0]}
"$py" bench/device_summary.py "$out/device_check.json" --bench-exit "$bench" --limit-s "$limit" |
    tee -a "$out/device_check.md"
exit "${PIPESTATUS[0]}"
