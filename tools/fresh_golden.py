#!/usr/bin/python3
"""A never-seen tiny VILA checkpoint plus its goldens, from a seed.

  /usr/bin/python3 tools/fresh_golden.py SEED OUTDIR        (or tools/fresh_golden.sh SEED OUTDIR)
  /usr/bin/python3 tools/fresh_golden.py --probe            exit 0 iff torch, numpy, PIL, sentencepiece, spm_train

variant = make_tiny_vila.FRESH_VARIANTS[SEED % 5] ("default", "pad", "mixed", "intern", "s2"); dimensions and options come from the seed
(tools/make_tiny_vila.py). "mixed" also draws mm_projector_type from make_tiny_vila.PROJECTORS (mlp_downsample,
linear, mlp2x_gelu, mlp3x_gelu); default and pad keep mlp_downsample. dims["projector"] says which. The standard cases of test/fixtures/tiny-vila/cases.json are written to
OUTDIR/cases.json with absolute image paths, and the goldens to OUTDIR/expected.json.
Random weights can make two logits nearly tie; a greedy comparison across implementations is only
meaningful with a clear margin, so if any greedy step margin is below 0.02 or a greedy sequence
contains EOS, the checkpoint is regenerated with seed SEED + 100003*k (k = 1, 2, ...; at most TRIES).
Prints one JSON line: {"seed", "seed_used", "variant", "dims", "model_dir", "expected", "cases",
"min_margin", "seconds"}.
"""
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_goldens  # noqa: E402
import make_tiny_vila  # noqa: E402

STANDARD_CASES = os.path.join(HERE, "..", "test", "fixtures", "tiny-vila", "cases.json")
MIN_MARGIN = 0.02
# a draw passes the margin test ~20-60% of the time depending on the variant (seed 566293, "pad": 2 of 10),
# so 8 tries failed now and then; 32 make a failure ~1e-4 or rarer
TRIES = 32


def probe() -> None:
    """--probe: exit 0 and print {"ok": true} if everything this tool needs is present."""
    import importlib
    missing = []
    for mod in ("torch", "numpy", "PIL", "sentencepiece"):
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(mod)
    if shutil.which("spm_train") is None:
        missing.append("spm_train")
    print(json.dumps({"ok": not missing, "missing": missing}))
    sys.exit(1 if missing else 0)


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] == "--probe":
        probe()
    if len(sys.argv) != 3:
        sys.exit("usage: fresh_golden.py SEED OUTDIR | --probe")
    seed, out = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    variant = make_tiny_vila.FRESH_VARIANTS[seed % len(make_tiny_vila.FRESH_VARIANTS)]
    t0 = time.time()
    src = os.path.abspath(STANDARD_CASES)
    with open(src) as f:
        cases = json.load(f)
    for c in cases:
        c["images"] = [os.path.normpath(os.path.join(os.path.dirname(src), p)) for p in c.get("images", [])]
    for k in range(TRIES):
        seed_used = seed + 100003 * k
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.makedirs(out)
        dims = make_tiny_vila.generate(out, seed_used, variant)
        cases_path = os.path.join(out, "cases.json")
        with open(cases_path, "w") as f:
            json.dump(cases, f, indent=1, ensure_ascii=False)
        exp = os.path.join(out, "expected.json")
        info = make_goldens.run(out, cases_path, exp, check=True)
        for ch in info["checks"]:
            assert ch["recompute_argmax_equal"] and ch["recompute_max_abs_diff"] < 1e-3, ch
        if info["min_margin"] >= MIN_MARGIN and not info["eos"]:
            break
    else:
        sys.exit(f"no checkpoint with greedy margins >= {MIN_MARGIN} after {TRIES} tries from seed {seed}")
    print(json.dumps({"seed": seed, "seed_used": seed_used, "variant": variant, "dims": dims,
                      "model_dir": out, "expected": exp, "cases": cases_path,
                      "min_margin": info["min_margin"], "seconds": round(time.time() - t0, 2)}))


if __name__ == "__main__":
    main()
