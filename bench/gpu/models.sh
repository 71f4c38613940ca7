#!/usr/bin/env bash
# Per-model figures through `vkrt exec` (GPU timestamps): engine layers with and without fusion, GPU
# compute median FP32 without fusion / FP32 / FP16, host latency median, build and load times of
# the engine file. Usage: bench/gpu/models.sh [model.onnx ...] (default: every model in .data/models
# and the PyTorch-converted tests in .data/onnx-other). Needs dist/ (npm run build:ts).
set -uo pipefail
cd "$(dirname "$0")/../.."
VKRT="node dist/cli/main.js"
DUR=${DUR:-1}
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  mapfile -t models < <(find .data/models -name '*.onnx' | grep -v silero | sort; find .data/onnx-other/pytorch-converted -name '*.onnx' | sort | head -${OTHER:-82})
fi
tmp=$(mktemp -d)
field() { grep -o "$1" | head -1 | grep -Eo '[0-9.]+' | head -1; }
gpu_median() { grep '\] GPU Compute Time:' | sed -E 's/.*median = ([0-9.]+) ms.*/\1/'; }
lat_median() { grep '\] Latency:' | sed -E 's/.*median = ([0-9.]+) ms.*/\1/'; }
echo "| model | ONNX nodes | layers no fusion | layers fusion | GPU ms no fusion | GPU ms FP32 | GPU ms FP16 | FP16/FP32 | host latency ms FP32 | build ms | load ms | load speed-up |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for m in "${models[@]}"; do
  name=${m#.data/}
  # symbolic input dims: take the value the error suggests (1), as trtexec users pass --shapes
  shapes=""
  for _ in 1 2 3; do
    if $VKRT exec --onnx="$m" ${shapes:+--shapes=$shapes} --device=0 --saveEngine="$tmp/e" --duration=0 --iterations=0 --warmUp=0 > "$tmp/build.txt" 2>&1; then ok=1; break; fi
    ok=0
    s=$(grep -Eo -- '--shapes=[^ ;)]+' "$tmp/build.txt" | head -1 | sed 's/--shapes=//')
    [ -n "$s" ] || break
    shapes=${shapes:+$shapes,}$s
  done
  common="--warmUp=100 --duration=$DUR --iterations=50 ${shapes:+--shapes=$shapes}"
  if [ "$ok" != 1 ]; then
    echo "| $name | – | – | – | – | – | – | – | – | – | – | $(tail -1 "$tmp/build.txt" | cut -c1-120 | tr '|' '/') |"; continue
  fi
  nodes=$(grep -Eo '\(([0-9]+) ONNX nodes\)' "$tmp/build.txt" | grep -Eo '[0-9]+')
  layers=$(grep -Eo 'Engine built: [0-9]+ layers' "$tmp/build.txt" | grep -Eo '[0-9]+')
  build=$(grep -Eo 'build [0-9.]+ ms' "$tmp/build.txt" | grep -Eo '[0-9.]+')
  $VKRT exec --device=0 --loadEngine="$tmp/e" --duration=0 --iterations=0 --warmUp=0 > "$tmp/load.txt" 2>&1
  load=$(grep -Eo 'in [0-9.]+ ms on' "$tmp/load.txt" | grep -Eo '[0-9.]+')
  $VKRT exec --onnx="$m" $common --noFusion > "$tmp/nf.txt" 2>&1
  $VKRT exec --onnx="$m" $common > "$tmp/f32.txt" 2>&1
  $VKRT exec --onnx="$m" $common --fp16 > "$tmp/f16.txt" 2>&1
  lnf=$(grep -Eo 'Engine built: [0-9]+ layers' "$tmp/nf.txt" | grep -Eo '[0-9]+')
  g_nf=$(gpu_median < "$tmp/nf.txt"); g32=$(gpu_median < "$tmp/f32.txt"); g16=$(gpu_median < "$tmp/f16.txt"); l32=$(lat_median < "$tmp/f32.txt")
  ratio=$(awk -v a="$g16" -v b="$g32" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "–" }')
  speed=$(awk -v a="$build" -v b="$load" 'BEGIN { if (a > 0 && b > 0) printf "%.1fx", a / b; else print "–" }')
  echo "| $name | $nodes | ${lnf:-–} | $layers | ${g_nf:-–} | ${g32:-–} | ${g16:-fails} | $ratio | ${l32:-–} | $build | ${load:-–} | $speed |"
done
rm -rf "$tmp"
