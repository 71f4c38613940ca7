#!/usr/bin/env bash
# The GPU benchmark in one run (see BENCHMARKS.md): PyTorch side (export, references, peers), then
# vkrt (agreement check, timings, copy bandwidth, top layers); prints one table and writes
# bench/results/<date>-<device>.json (or --out).
#
#   bench/gpu/run.sh [--models=resnet50,mobilenetv2,googlenet,bert] [--batches=1,32,256]
#                    [--precisions=fp32,fp16] [--work=/tmp/vkrt-gpu-bench] [--out=FILE]
#                    [--budget=SECONDS per timed configuration] [--reuse: keep <work>/torch.json]
#
# Needs node (on the GPU host: `. .gpu/env.sh` first), python3 with torch/torchvision/transformers/
# onnx/onnxruntime, and the compiled benchmark (`npm run build:bench`). The 600 s limit of one device
# call fits about two models at three batch sizes: split the models over calls with --models.
set -euo pipefail
cd "$(dirname "$0")/../.."
models=resnet50,mobilenetv2,googlenet,bert
batches=1,32,256
precisions=fp32,fp16
work=/tmp/vkrt-gpu-bench
out=
budget=2
reuse=0
for a in "$@"; do
  case "$a" in
    --models=*) models=${a#*=} ;;
    --batches=*) batches=${a#*=} ;;
    --precisions=*) precisions=${a#*=} ;;
    --work=*) work=${a#*=} ;;
    --out=*) out=${a#*=} ;;
    --budget=*) budget=${a#*=} ;;
    --reuse) reuse=1 ;;
    *) echo "run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
[ -f dist/bench/bench/gpu/vkrt.js ] || { echo "run.sh: dist/bench/bench/gpu/vkrt.js missing: run 'npm run build:bench' first" >&2; exit 2; }
gpu=$(nvidia-smi --query-gpu=name,clocks.max.sm --format=csv,noheader,nounits 2>/dev/null | head -1 || true)
name=${gpu%%,*}; mhz=${gpu##*, }
slug=$(echo "${name:-unknown-gpu}" | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/[^a-z0-9]\+/-/g; s/-$//')
[ -n "$out" ] || out=bench/results/$(date +%F)-$slug.json
# FP32 peak: SMs x 128 FP32 lanes x 2 (FMA) x max SM clock (Hopper; the table's share column uses it)
sms=$(python3 -c 'import torch; print(torch.cuda.get_device_properties(0).multi_processor_count)')
peak=$(python3 -c "print(round($sms * 128 * 2 * ${mhz:-1980} / 1e6, 1))")
echo "[run] $name: $sms SMs, max SM clock ${mhz} MHz, FP32 peak $peak TFLOP/s; models $models; batches $batches" >&2
export PYTHONUNBUFFERED=1
if [ "$reuse" = 0 ] || [ ! -f "$work/torch.json" ]; then
  python3 bench/gpu/torch_side.py --work "$work" --models "$models" --batches "$batches" --budget "$budget"
fi
node dist/bench/bench/gpu/vkrt.js --work="$work" --out="$out" --models="$models" --batches="$batches" \
  --precisions="$precisions" --budget="$budget" --peak-tflops="$peak"
