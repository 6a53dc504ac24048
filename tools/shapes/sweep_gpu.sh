#!/bin/bash
# Compare vila-shapes recipes side by side on a GPU machine (the device tool's, which has PyTorch, Pillow,
# sentencepiece): a smoke run first (stops here if it fails), then every variant at once, each its own
# process, all on the one GPU, each cut off after LIMIT seconds. Logs and training.json files go to
# $OUT/sweep.tar.gz. The shipped recipe is the CPU's (train.py's defaults): this only ranks recipes faster.
#
#   OUT=/tmp/o LIMIT=480 bash tools/shapes/sweep_gpu.sh "name|--flag value ..." ...
set -u
OUT=${OUT:-/tmp/sweep-out}
LIMIT=${LIMIT:-480}
PY=${PY:-python3}
W=/tmp/sweep
mkdir -p "$OUT" "$W"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
"$PY" -c "import torch, PIL, sentencepiece, numpy; print('torch', torch.__version__, 'PIL', PIL.__version__, 'numpy', numpy.__version__)"
nproc
t0=$(date +%s)
if ! "$PY" tools/shapes/train.py --device "${DEVICE:-cuda}" --out "$W/smoke" --scenes 300 --steps 6 --tower-steps 4 \
    --tower-batch 16 --batch 8 --val 20 --eval-every 3 --answer-area-weight 0.5 --place-weight 0.5 \
    >"$W/smoke.log" 2>&1; then
  tail -30 "$W/smoke.log"
  echo "SMOKE FAILED"
  exit 1
fi
echo "smoke ok in $(( $(date +%s) - t0 )) s"
for v in "$@"; do
  name=${v%%|*}
  flags=${v#*|}
  # shellcheck disable=SC2086
  timeout "$LIMIT" "$PY" tools/shapes/train.py --device "${DEVICE:-cuda}" --out "$W/$name" $flags >"$W/$name.log" 2>&1 &
done
wait
echo "all done in $(( $(date +%s) - t0 )) s"
for v in "$@"; do
  name=${v%%|*}
  echo "== $name: ${v#*|}"
  grep -E "validation|wrote|stage 2" "$W/$name.log" | tail -12
  grep -E "^step " "$W/$name.log" | tail -1
  grep -E "Error|error" "$W/$name.log" | tail -3
done
(cd "$W" && tar czf "$OUT/sweep.tar.gz" ./*.log ./*/training.json 2>/dev/null)
ls -la "$OUT"
