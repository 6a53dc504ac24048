#!/bin/bash
# bench/peers.sh -- reruns the peer runtimes' measurements (/work/shared/peers: C membench,
# onnxruntime-node and onnxruntime-web 1.30 MatMulNBits, llama.cpp through node-llama-cpp 3.21.1)
# and ours (bench/run.ts) on the same day, one process at a time, alternating peers and us pass
# by pass so that a slow phase of the shared host hits both, then prints both summaries.
#
#   bash bench/peers.sh                         # 1 pass of everything (~25 min + installs)
#   PASSES=3 SECTIONS="mem llama" bash bench/peers.sh
#   OURS="--shapes llama-ref --skip-ops" bash bench/peers.sh
#   PREPARE_ONLY=1 bash bench/peers.sh          # installs and models only
#
# Needs: the npm registry (the peers' packages: about 0.5 GB of installs), gcc and python3,
# and about 4.5 GB in /tmp/peers for the generated models (ONNX 0.5 GB, GGUF Q4_0 0.46 GB and
# F32 3.25 GB). The peers' scripts hard-code /tmp/peers as their scratch folder, so it is used
# here too. Installs and models are made once and reused. Raw outputs: /tmp/peers/results
# (peers' JSONL, as run_all.sh writes it) and /tmp/peers/results/ours-passN (our reports).
# Without network access only the C membench section can run (SECTIONS=mem).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-/work/shared/peers}
PASSES=${PASSES:-1}
SECTIONS=${SECTIONS:-"mem ort llama"}
OURS=${OURS:-}
S=/tmp/peers
R=${R:-$S/results}
log() { echo "[$(date +%T)] $*" >&2; }

[[ -f $PEERS/run_all.sh ]] || { echo "peers scripts not found in $PEERS (set PEERS=...)" >&2; exit 2; }
mkdir -p "$S" "$R"

# Installs, exactly the versions peers.md measured (see $PEERS/README.md "Reproduce").
if [[ $SECTIONS == *ort* && ! -d $S/node_modules/onnxruntime-web ]]; then
  log "installing onnxruntime-node/-web 1.30.0 and onnx-proto into $S"
  # --ignore-scripts: onnxruntime-node's install script fetches from nuget.org; its CPU binaries are in the npm package.
  (cd "$S" && { [[ -f package.json ]] || npm init -y >/dev/null; } && \
   npm i -E --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 onnxruntime-web@1.30.0 onnx-proto@8.0.1)
fi
if [[ $SECTIONS == *llama* && ! -d $S/nlc/node_modules/node-llama-cpp ]]; then
  log "installing node-llama-cpp 3.21.1 (prebuilt linux-x64 CPU binaries only) into $S/nlc"
  mkdir -p "$S/nlc"
  # The CUDA and Vulkan prebuilts are optional dependencies of several hundred MB that a CPU run never loads.
  (cd "$S/nlc" && { [[ -f package.json ]] || npm init -y >/dev/null; } && \
   npm i -E --no-audit --no-fund --omit=optional node-llama-cpp@3.21.1 @node-llama-cpp/linux-x64@3.21.1)
fi

# Models, once.
if [[ $SECTIONS == *ort* && ! -f $S/models/mmnb4_a4_L8.onnx ]]; then
  log "building the ONNX models"; (cd "$S" && node "$PEERS/build_onnx.js" "$S/models")
fi
if [[ $SECTIONS == *llama* ]]; then
  for t in q4_0 f32; do
    [[ -f $S/llama_$t.gguf ]] || { log "writing llama_$t.gguf"; node "$PEERS/gguf_writer.js" --type $t --out "$S/llama_$t.gguf"; }
  done
fi

[[ -n ${PREPARE_ONLY:-} ]] && { log "installs and models ready in $S"; exit 0; }

# Our side needs the built CLI.
(cd "$HERE" && npm run --silent build >/dev/null)

# membench.c has two AVX-512 kernels (zmm read and FMA), and gcc -march=native refuses to compile
# them on a CPU without AVX-512 (this project's machines are not all alike: peers.md was measured
# on a Zen 4, family 25 model 17; a Zen 3, model 1, has no AVX-512). There, a copy without those
# two kernels is built and run with run_all.sh's loop (5 passes, alternating 1 and 2 threads).
membench_without_avx512() {
  sed -e 's/^static float read_sum512(/__attribute__((target("avx512f"))) static float read_sum512(/' \
      -e 's/^static double fma512(/__attribute__((target("avx512f"))) static double fma512(/' \
      -e '/read_sum512(a, n)/d' -e '/"read (avx512 4-acc sum)"/d' -e '/f = fma512()/d' -e '/"fp32 FMA zmm (512-bit)"/d' \
      "$PEERS/membench.c" > "$S/membench_noavx512.c"
  gcc -O3 -march=native -fopenmp -Wno-psabi -o "$S/membench" "$S/membench_noavx512.c"
  for mp in 1 2 3 4 5; do
    for t in 1 2; do log "membench (no AVX-512) t=$t pass $mp"; OMP_NUM_THREADS=$t OMP_PROC_BIND=spread "$S/membench" >> "$R/membench_t$t.txt"; done
  done
}

for p in $(seq 1 "$PASSES"); do
  # membench runs 5 passes by itself: once is enough.
  secs=$SECTIONS
  [[ $p -gt 1 ]] && secs=${secs//mem/}
  if [[ $secs == *mem* ]] && ! grep -qw avx512f /proc/cpuinfo; then
    membench_without_avx512
    secs=${secs//mem/}
  fi
  if [[ -n ${secs// /} ]]; then
    log "peers pass $p: $secs"
    SECTIONS="$secs" PASSES=1 R="$R" bash "$PEERS/run_all.sh" > "$R/peers-summary-pass$p.md"
  fi
  log "ours pass $p"
  # shellcheck disable=SC2086
  (cd "$HERE" && npx tsx bench/run.ts --passes 1 --out "$R/ours-pass$p" $OURS > "$R/ours-summary-pass$p.md")
done

echo "# Peers (pooled over all passes in $R)"
python3 "$PEERS/summarize.py" "$R"
echo
echo "# Ours (medians over the $PASSES pass(es); each pass in $R/ours-summary-passN.md)"
ours=$(ls "$R"/ours-pass*/wasm-*.json | paste -sd, -)
(cd "$HERE" && npx tsx bench/run.ts --from "$ours" --out "$R/ours")
