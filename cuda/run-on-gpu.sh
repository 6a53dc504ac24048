#!/usr/bin/env bash
# The one prepared script for the GPU machine (H100/H200: no Node, no internet; it gets a copy
# of the working tree plus the carried device/ folder made by cuda/prepare-device.sh).
#   1. unpacks the carried Node and runtime (node_modules, dist, build/wasm, build/cuda)
#   2. reports the GPU and driver, and whether the addon sees a device (else stops, saying why)
#   3. build/cuda/check_ops (the kernel checker, when present), and cuBLAS's GEMV through PyTorch
#      (cuda/test/torch_gemv_baseline.py) where python3 has torch with CUDA: a second opinion
#   4. vitest: test/ops/cuda_vs_ref.test.ts (every op case vs the reference) and
#      test/model/cuda_tiny.test.ts (tiny checkpoints end to end vs PyTorch goldens)
#   5. the CPU-vs-GPU benchmark (node dist/bench/cuda_vs_cpu.js)
#   6. a short table, last
# Each step has its own time limit, all within 8 minutes. Logs and results go to $OUT.
#
#   bash cuda/run-on-gpu.sh            on the GPU machine ($OUT set by the run tool)
#   bash cuda/run-on-gpu.sh --dry-run  here: copies the working tree + device/ into a scratch
#                                      folder (as the run tool does) and runs the steps there;
#                                      without a GPU it stops cleanly at "no CUDA device"
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if [ "${1:-}" = "--dry-run" ]; then
  scratch="$(mktemp -d /tmp/vila-gpu-dry.XXXXXX)"
  echo "dry run: copying the working tree (tracked + untracked, not ignored) and device/ to $scratch"
  { git ls-files -z --cached --others --exclude-standard; printf 'device\0'; } |
    xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' | tar --null -T - -cf - | tar -xf - -C "$scratch"
  mkdir -p "$scratch/out"
  ( cd "$scratch" && OUT="$scratch/out" VILA_DRY_RUN=1 bash cuda/run-on-gpu.sh )
  rc=$?
  echo "dry run: exit $rc; results in $scratch/out"
  exit $rc
fi

OUT="${OUT:-$root/gpu-out}"
mkdir -p "$OUT"
t_start=$(date +%s)
say() { printf '[%4ds] %s\n' "$(( $(date +%s) - t_start ))" "$*" | tee -a "$OUT/run.log"; }
declare -A result

# --- 1. Node and the runtime ----------------------------------------------------------------
if [ ! -f device/node.xz ] || [ ! -f device/runtime.tar.xz ]; then
  say "device/node.xz or device/runtime.tar.xz is missing: run 'bash cuda/prepare-device.sh' where the repo is built, and carry device/"
  exit 2
fi
mkdir -p device/bin
if command -v xz >/dev/null 2>&1; then
  xz -dc device/node.xz > device/bin/node && tar -xJf device/runtime.tar.xz
else
  # No xz tool: Python's lzma module reads the same files.
  python3 -c 'import lzma, shutil, sys, tarfile
shutil.copyfileobj(lzma.open("device/node.xz"), open("device/bin/node", "wb"))
tarfile.open("device/runtime.tar.xz").extractall()'
fi
chmod +x device/bin/node
export PATH="$root/device/bin:$PATH"
say "node $(node --version) at $(command -v node); $(head -1 device/MANIFEST 2>/dev/null)"
now=$(find cuda/include cuda/kernels cuda/addon src -type f \( -name '*.cu' -o -name '*.cuh' -o -name '*.h' -o -name '*.c' -o -name '*.ts' \) | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
if [ "$now" != "$(cat device/SOURCES 2>/dev/null)" ]; then
  say "WARNING: device/ was packed from other sources than this tree's cuda/ and src/ ($(cat device/SOURCES 2>/dev/null) vs $now): the addon and dist/ may be stale; run 'bash cuda/prepare-device.sh' again"
  result[stale]="yes"
fi

# --- 2. GPU, driver, addon ------------------------------------------------------------------
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 | tee -a "$OUT/run.log"
  # The driver's highest CUDA version: the addon is built with CUDA 13 (static runtime), which needs driver ≥ 580.
  nvidia-smi 2>&1 | grep -o 'CUDA Version: [0-9.]*' | head -1 | tee -a "$OUT/run.log"
else
  say "nvidia-smi: not found"
fi
avail=$(node --input-type=module -e "
  import { cudaAvailability } from './dist/cuda/addon.js';
  const a = cudaAvailability();
  console.log(a.ok ? 'ok ' + a.device.name + ' sm_' + a.device.capability.replace('.', '') + ' ' + (a.device.totalMem / 2 ** 30).toFixed(0) + ' GiB' : 'unavailable: ' + a.reason);
" 2>&1 | tail -1)
say "cuda backend: $avail"
if [ "${avail#ok }" = "$avail" ]; then
  result[addon]="unavailable"
  if [ "${VILA_DRY_RUN:-0}" = 1 ]; then
    say "dry run: stopped cleanly at the device check (no CUDA device here); on the GPU machine the steps below run"
    say "dry run: would run: build/cuda/check_ops; vitest test/ops/cuda_vs_ref.test.ts test/model/cuda_tiny.test.ts; node dist/bench/cuda_vs_cpu.js --out \$OUT"
    # The unpacked vitest must start: run the no-GPU CUDA tests with it (they need no device).
    timeout 200 node node_modules/vitest/vitest.mjs run test/ops/cuda_unavailable.test.ts test/ops/cuda_tensor.test.ts test/ops/cuda_vs_ref.test.ts test/model/cuda_tiny.test.ts test/bench/cuda_vs_cpu.test.ts > "$OUT/vitest-dry.txt" 2>&1
    rc=$?
    say "dry run: the benchmark from the unpacked dist/ (expected to stop at the device): $(node dist/bench/cuda_vs_cpu.js --out "$OUT" 2>&1 | tail -1 | cut -c1-160)"
    say "dry run: unpacked vitest on the no-GPU CUDA tests: exit $rc ($(grep -E 'Tests ' "$OUT/vitest-dry.txt" | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' ' | head -1))"
    exit $rc
  fi
  say "no usable CUDA device: nothing else to run"
  exit 3
fi
result[addon]="$avail"

# --- 3. the kernel checker ------------------------------------------------------------------
if [ -x build/cuda/check_ops ]; then
  say "check_ops (limit 100 s)"
  timeout 100 build/cuda/check_ops > "$OUT/check_ops.txt" 2>&1
  rc=$?
  result[check_ops]="exit $rc"
  tail -25 "$OUT/check_ops.txt"
else
  result[check_ops]="not built"
  say "build/cuda/check_ops is not there: skipped"
fi

# --- 3b. a second opinion on what a decode-sized GEMV can reach here: cuBLAS through PyTorch -------
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  say "torch baseline (cuBLAS fp16 GEMV, weights from DRAM; limit 60 s)"
  timeout 60 python3 cuda/test/torch_gemv_baseline.py > "$OUT/torch_gemv.txt" 2>&1
  result[torch]="exit $?"
  cat "$OUT/torch_gemv.txt"
else
  result[torch]="no python3 torch with CUDA"
fi

# --- 4. the CUDA tests ----------------------------------------------------------------------
say "vitest: cuda_vs_ref + cuda_tiny (limit 220 s)"
VILA_CUDA_SYNC=1 timeout 220 node node_modules/vitest/vitest.mjs run test/ops/cuda_vs_ref.test.ts test/model/cuda_tiny.test.ts \
  --reporter=default --reporter=json --outputFile.json="$OUT/vitest.json" > "$OUT/vitest.txt" 2>&1
rc=$?
sed 's/\x1b\[[0-9;]*m//g' "$OUT/vitest.txt" | grep -E '(×|FAIL|rel L2|Tests |Test Files)' | head -60
result[vitest]="exit $rc"
if [ -f "$OUT/vitest.json" ]; then
  result[vitest]="exit $rc: $(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$OUT/vitest.json")"
fi

# --- 5. the benchmark -----------------------------------------------------------------------
left=$(( 460 - ($(date +%s) - t_start) ))
[ "$left" -gt 200 ] && left=200
if [ "$left" -gt 40 ]; then
  say "benchmark cuda-vs-cpu (limit $left s)"
  timeout "$left" node dist/bench/cuda_vs_cpu.js --out "$OUT" > "$OUT/bench.txt" 2> "$OUT/bench.log"
  rc=$?
  result[bench]="exit $rc"
  tail -5 "$OUT/bench.log"
else
  result[bench]="skipped (time)"
fi

# --- 6. the table ---------------------------------------------------------------------------
echo
echo "=== vila-ts CUDA run ($(( $(date +%s) - t_start )) s) ==="
echo "| step | result |"
echo "|---|---|"
echo "| device | ${result[addon]} |"
[ -n "${result[stale]:-}" ] && echo "| WARNING | device/ packed from other sources (stale addon/dist) |"
echo "| check_ops | ${result[check_ops]} |"
echo "| torch cuBLAS GEMV baseline | ${result[torch]} |"
echo "| vitest cuda_vs_ref + cuda_tiny | ${result[vitest]} |"
echo "| bench | ${result[bench]} |"
echo
[ -s "$OUT/bench.txt" ] && cat "$OUT/bench.txt"
# Exit status: 0 only when the checker (if built), the tests and the benchmark all succeeded.
for k in check_ops vitest bench; do
  case "${result[$k]}" in "exit 0"*|"not built") ;; *) exit 1 ;; esac
done
exit 0
