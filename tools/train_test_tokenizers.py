#!/usr/bin/python3
"""Train the small SentencePiece models the text tests use, with Google's own `spm_train`.

Run with Debian's python (any python 3 works; only the standard library is used):

    /usr/bin/python3 tools/train_test_tokenizers.py

Corpus: every file in /usr/share/common-licenses plus test/fixtures/text/corpus_unicode.txt
(accents, Cyrillic, Greek, CJK, Arabic, Hebrew, Devanagari, emoji, full-width forms, code).
Each model goes to test/fixtures/text/<name>/ with a LlamaTokenizer tokenizer_config.json and
special_tokens_map.json in the format transformers 4.36 saves.

- spm-bpe-llama: trained like Llama 2's tokenizer (BPE, byte_fallback, split_digits, identity
  normalization, dummy prefix, extra whitespace kept, whitespace-only pieces), plus two
  user-defined symbols. This is the shape of every VILA 1.5 Llama tokenizer.
- spm-bpe-nobyte: BPE without byte fallback (unknown characters become <unk>, runs merged),
  remove_extra_whitespaces on, low character coverage; add_bos_token false in its config.
- spm-unigram-nfkc: Unigram with the default nmt_nfkc normalization (a precompiled charsmap),
  no byte fallback; its config adds tokens beyond the vocabulary (a non-special <image>, a special
  <im_patch> with rstrip) to exercise transformers' added-token rules.
- spm-bpe-yi: trained like Yi's tokenizer (VILA1.5-40b's Nous-Hermes-2-Yi-34B): BPE with byte
  fallback, Yi's special pieces at Yi's ids (<|startoftext|>=1, <|endoftext|>=2, <|im_start|>=6,
  <|im_end|>=7, <|im_sep|>=8), no dummy prefix; config with add_bos_token false and eos
  <|im_end|>. Flags and config files are in tools/yi_test_tokenizer.py.

Not trained: legacy-config/ pairs the tinychat-awq tokenizer.model with a config in the format
of transformers < 4.34 (no added_tokens_decoder; special_tokens_map.json and added_tokens.json
complete it), which transformers 4.36 still reads through a separate code path.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yi_test_tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "text")

COMMON = [
    "--num_threads=1",
    "--input_sentence_size=0",
    "--unk_id=0",
    "--bos_id=1",
    "--eos_id=2",
    "--pad_id=-1",
    "--max_sentence_length=100000",
]

MODELS = {
    "spm-bpe-llama": [
        "--model_type=bpe",
        "--vocab_size=2000",
        "--byte_fallback=true",
        "--split_digits=true",
        "--normalization_rule_name=identity",
        "--add_dummy_prefix=true",
        "--remove_extra_whitespaces=false",
        "--allow_whitespace_only_pieces=true",
        "--character_coverage=0.9995",
        "--user_defined_symbols=<tool>,@@",
    ],
    "spm-bpe-nobyte": [
        "--model_type=bpe",
        "--vocab_size=1200",
        "--byte_fallback=false",
        "--normalization_rule_name=identity",
        "--remove_extra_whitespaces=true",
        "--character_coverage=0.98",
    ],
    "spm-unigram-nfkc": [
        "--model_type=unigram",
        "--vocab_size=1500",
        "--byte_fallback=false",
        "--normalization_rule_name=nmt_nfkc",
        "--character_coverage=0.9995",
        "--user_defined_symbols=<tool>",
    ],
    "spm-bpe-yi": yi_test_tokenizer.FLAGS,
}


def added(content, special, rstrip=False):
    return {
        "content": content,
        "lstrip": False,
        "normalized": False,
        "rstrip": rstrip,
        "single_word": False,
        "special": special,
    }


def llama_config(name):
    if name == "spm-bpe-yi":
        return yi_test_tokenizer.config_files()
    decoder = {"0": added("<unk>", True), "1": added("<s>", True), "2": added("</s>", True)}
    cfg = {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": decoder,
        "bos_token": "<s>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "legacy": False,
        "model_max_length": 2048,
        "pad_token": "<unk>",
        "padding_side": "right",
        "sp_model_kwargs": {},
        "spaces_between_special_tokens": False,
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    special_map = {
        "bos_token": {k: v for k, v in added("<s>", True).items() if k != "special"},
        "eos_token": {k: v for k, v in added("</s>", True).items() if k != "special"},
        "pad_token": "<unk>",
        "unk_token": {k: v for k, v in added("<unk>", True).items() if k != "special"},
    }
    if name == "spm-bpe-nobyte":
        cfg["add_bos_token"] = False
    if name == "spm-unigram-nfkc":
        decoder["1500"] = added("<image>", False)
        decoder["1501"] = added("<im_patch>", True, rstrip=True)
        cfg["additional_special_tokens"] = ["<im_patch>"]
        special_map["additional_special_tokens"] = ["<im_patch>"]
    return cfg, special_map


def main():
    corpus_files = sorted(glob.glob("/usr/share/common-licenses/*"))
    corpus_files.append(os.path.join(OUT, "corpus_unicode.txt"))
    # A fixed scratch path: spm_train records its input path and model prefix in the model, so a
    # random temporary directory would make every run's bytes differ.
    tmp = os.path.join(tempfile.gettempdir(), "vila-ts-spm-train")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    corpus = os.path.join(tmp, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as out:
        for f in corpus_files:
            with open(f, encoding="utf-8", errors="replace") as src:
                out.write(src.read())
            out.write("\n")
    for name, flags in MODELS.items():
        prefix = os.path.join(tmp, name)
        cmd = ["spm_train", f"--input={corpus}", f"--model_prefix={prefix}"] + COMMON + flags
        print(" ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dest = os.path.join(OUT, name)
        os.makedirs(dest, exist_ok=True)
        shutil.copy(prefix + ".model", os.path.join(dest, "tokenizer.model"))
        cfg, special_map = llama_config(name)
        with open(os.path.join(dest, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2, ensure_ascii=False)
            f.write("\n")
        with open(os.path.join(dest, "special_tokens_map.json"), "w", encoding="utf-8") as f:
            json.dump(special_map, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {dest}", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    write_legacy_config()


def write_legacy_config():
    dest = os.path.join(OUT, "legacy-config")
    os.makedirs(dest, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "test", "fixtures", "tinychat-awq", "llm", "tokenizer.model"), dest)

    def typed(content):
        return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": True,
                "rstrip": False, "single_word": False}

    files = {
        "tokenizer_config.json": {
            "add_bos_token": True,
            "add_eos_token": False,
            "bos_token": typed("<s>"),
            "clean_up_tokenization_spaces": False,
            "eos_token": typed("</s>"),
            "legacy": False,
            "model_max_length": 2048,
            "pad_token": None,
            "sp_model_kwargs": {},
            "tokenizer_class": "LlamaTokenizer",
            "unk_token": typed("<unk>"),
        },
        "special_tokens_map.json": {
            "additional_special_tokens": ["<image>"],
            "bos_token": "<s>",
            "eos_token": "</s>",
            "pad_token": "<unk>",
            "unk_token": "<unk>",
        },
        "added_tokens.json": {"<image>": 700, "<extra>": 701},
    }
    for name, data in files.items():
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
    print(f"wrote {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
