#!/bin/sh
# tools/fresh_golden.sh SEED OUTDIR: a never-seen tiny VILA checkpoint + expected.json (see fresh_golden.py).
# Needs Debian's /usr/bin/python3 with torch, sentencepiece, PIL, numpy, and spm_train on PATH.
set -e
exec /usr/bin/python3 "$(dirname "$0")/fresh_golden.py" "$@"
