#!/usr/bin/env bash
# Prepare what cuda/run-on-gpu.sh needs on the GPU machine (no Node, no internet there) into
# device/ (git-ignored), so that the run tool carries one path:
#   device/node.xz          this machine's Node binary, stripped, xz -9 (~22 MB)
#   device/runtime.tar.xz   node_modules pruned to what the tests, the CLI and the benchmark load
#                           at run time (vitest, vite, rolldown, sharp, ...; not typescript,
#                           assemblyscript, binaryen, tsx, esbuild; not @ffmpeg/core, 31 MB of
#                           WebAssembly the GPU run never uses, nor the vocabulary oracles
#                           llama-tokenizer-js / llama3-tokenizer-js), dist/ (compiled JS),
#                           build/wasm/, build/cuda/vila_cuda.node and build/cuda/check_ops
#   device/MANIFEST         what went in, from which commit
# Builds first: npm run build (dist, wasm), npm run build:cuda (kernels + addon, sm_80/sm_90),
# make -C cuda check (check_ops) when the kernel helper's checker exists.
#   bash cuda/prepare-device.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-build" ]; then
  npm run build >/dev/null
  bash cuda/build.sh
  if [ -f cuda/test/check_ops.cu ] && grep -q '^check:' cuda/Makefile; then
    make -C cuda check -j2
  else
    echo "prepare-device: cuda/test/check_ops.cu or the Makefile's check target is missing; no check_ops" >&2
  fi
fi
[ -f build/cuda/vila_cuda.node ] || { echo "prepare-device: build/cuda/vila_cuda.node is missing (npm run build:cuda)" >&2; exit 1; }
[ -f dist/cuda/backend.js ] || { echo "prepare-device: dist/ is not built (npm run build)" >&2; exit 1; }

mkdir -p device
node_bin="$(readlink -f "$(command -v node)")"
node_ver="$(node --version)"
if [ ! -f device/node.xz ] || [ "$(cat device/node.version 2>/dev/null)" != "$node_ver" ]; then
  echo "prepare-device: packing Node $node_ver ($node_bin)"
  cp "$node_bin" device/node.tmp
  strip device/node.tmp 2>/dev/null || true
  xz -9 -T2 -c device/node.tmp > device/node.xz.tmp
  rm device/node.tmp
  mv device/node.xz.tmp device/node.xz
  echo "$node_ver" > device/node.version
fi

files=(dist build/wasm build/cuda/vila_cuda.node)
[ -f build/cuda/check_ops ] && files+=(build/cuda/check_ops)
echo "prepare-device: packing runtime node_modules, ${files[*]}"
tar -cf - \
  --exclude=node_modules/binaryen --exclude=node_modules/assemblyscript --exclude=node_modules/typescript \
  --exclude=node_modules/@types --exclude=node_modules/tsx --exclude=node_modules/esbuild --exclude=node_modules/@esbuild \
  --exclude=node_modules/long --exclude=node_modules/@ffmpeg --exclude=node_modules/llama-tokenizer-js --exclude=node_modules/llama3-tokenizer-js --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
  --exclude=node_modules/.cache --exclude=node_modules/lightningcss --exclude=node_modules/lightningcss-linux-x64-gnu \
  node_modules "${files[@]}" | xz -6 -T2 > device/runtime.tar.xz.tmp
mv device/runtime.tar.xz.tmp device/runtime.tar.xz

# A hash of the sources the packed build came from; run-on-gpu.sh recomputes it and warns if the
# working tree it was given differs (then device/ is stale: run this script again).
source_hash() { find cuda/include cuda/kernels cuda/addon src -type f \( -name '*.cu' -o -name '*.cuh' -o -name '*.h' -o -name '*.c' -o -name '*.ts' \) | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16; }
source_hash > device/SOURCES
{
  echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- src cuda test 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "prepared $(date -u +%Y-%m-%dT%H:%M:%SZ) with node $node_ver, $(nvcc --version 2>/dev/null | tail -1)"
  echo "files ${files[*]}"
} > device/MANIFEST
du -b device/node.xz device/runtime.tar.xz | awk '{printf "  %-24s %6.1f MB\n", $2, $1/1e6; t+=$1} END {printf "  %-24s %6.1f MB (%.1f MiB)\n", "total", t/1e6, t/1048576}'
