#!/bin/bash
# bench/simd_vs_relaxed.sh -- the SIMD128 and relaxed-SIMD builds side by side: llama-ref with 1 and
# 2 threads, vila1.5-3b with 2, the matmul op cases with 1; one process at a time, alternating
# builds within each pass. Node 20 runs the relaxed build only with these flags (wasm/README.md).
#   bash bench/simd_vs_relaxed.sh [OUT_DIR] [PASSES]     (~4 min a pass)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/simd-vs-relaxed-$(date +%F)}
passes=${2:-2}
mkdir -p "$out"
node_flags=(--experimental-wasm-relaxed-simd --no-liftoff)
vila() { node "${node_flags[@]}" bin/vila.js bench "$@" --json; }
for pass in $(seq 1 "$passes"); do
  for cfg in "simd 1" "relaxed 1" "simd 2" "relaxed 2"; do
    set -- $cfg
    vila model --shape llama-ref --threads "$2" --flavor "$1" > "$out/llama-ref-$1-$2-p$pass.json"
  done
  for fl in simd relaxed; do
    vila model --shape vila1.5-3b --threads 2 --flavor "$fl" > "$out/vila3b-$fl-2-p$pass.json"
  done
  for fl in simd relaxed; do
    vila ops --threads 1 --flavor "$fl" --filter matmul > "$out/ops-$fl-1-p$pass.json"
  done
done
echo "results in $out"
