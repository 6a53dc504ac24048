#!/bin/sh
# Regenerate the committed tiny VILA fixtures and their goldens (deterministic; ~15 s on 2 cores):
#   test/fixtures/images/            tools/make_test_images.py
#   test/fixtures/tiny-vila/         seed 0, variant default (SigLIP, odd 5x5 grid, GQA, select -2, cls_patch, resize)
#   test/fixtures/tiny-vila-pad/     seed 2, variant pad     (SigLIP, even 4x4 grid, MHA, select -1, pad, rope 5e5)
#   test/fixtures/tiny-vila-intern/  seed 4, variant intern  (InternViT 448/14, CLS, select -1, patch, GQA)
#   test/fixtures/tiny-vila-mlp2x/   seed 14, variant default, --projector mlp2x_gelu (7x7 grid -> 49 image tokens,
#                                    Linear 32->64, GELU, Linear 64->64)
#   test/fixtures/tiny-vila-linear/  seed 24, variant pad, --projector linear (6x6 grid -> 36 image tokens,
#                                    Linear 36->48)
#   test/fixtures/tiny-vila-s2/     seed 6, variant s2      (S2 as VILA1.5-3b-s2: scales 43,86 = 1x,2x the split size,
#                                    7x7 tokens per crop, 1 + 4 crops, select -2, cls_patch, resize)
#   test/fixtures/tiny-vila-s2x3/   seed 19, variant s2x3   (S2 with s2_scales "111,37,74" = 3x,1x,2x: sorted upstream,
#                                    5x5 tokens per crop, 1 + 4 + 9 crops, select -1, pad)
# test/fixtures/tiny-vila/cases.json is hand-written and kept; the other fixtures get a copy of it.
# Then runs tools/check_vila_torch.py on all of them.
set -e
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
$PY tools/make_test_images.py --out test/fixtures/images
gen() {  # dir seed variant [projector]
  keep=$(mktemp)
  cp test/fixtures/tiny-vila/cases.json "$keep"
  rm -rf "test/fixtures/$1"
  mkdir -p "test/fixtures/$1"
  $PY tools/make_tiny_vila.py --out "test/fixtures/$1" --seed "$2" --variant "$3" ${4:+--projector "$4"} >/dev/null
  cp "$keep" "test/fixtures/$1/cases.json"
  rm -f "$keep"
  $PY tools/make_goldens.py --model "test/fixtures/$1" --cases "test/fixtures/$1/cases.json" \
      --out "test/fixtures/$1/expected.json"
}
gen tiny-vila 0 default
gen tiny-vila-pad 2 pad
gen tiny-vila-intern 4 intern
gen tiny-vila-mlp2x 14 default mlp2x_gelu
gen tiny-vila-linear 24 pad linear
gen tiny-vila-s2 6 s2
gen tiny-vila-s2x3 19 s2x3
$PY tools/check_vila_torch.py --fixture test/fixtures/tiny-vila --fixture test/fixtures/tiny-vila-pad \
    --fixture test/fixtures/tiny-vila-intern --fixture test/fixtures/tiny-vila-mlp2x --fixture test/fixtures/tiny-vila-linear \
    --fixture test/fixtures/tiny-vila-s2 --fixture test/fixtures/tiny-vila-s2x3
