"""The Yi-like test tokenizer (test/fixtures/text/spm-bpe-yi): spm_train flags and config files.

Imported by tools/train_test_tokenizers.py. Modelled on the tokenizer of VILA1.5-40b's LLM,
NousResearch/Nous-Hermes-2-Yi-34B (a fine-tune of 01-ai/Yi-34B):

- SentencePiece BPE with byte fallback, the special pieces at Yi's ids: <unk>=0,
  <|startoftext|>=1 (bos), <|endoftext|>=2 (eos of the base model), <|im_start|>=6,
  <|im_end|>=7, <|im_sep|>=8 (01-ai/Yi demo/web_demo.py lists the stop ids 2, 6, 7, 8 under
  these names). Yi's names for ids 3-5 were not found; placeholders stand there. All of 3-8 are
  control pieces here (SentencePiece never produces them from text): unverified for Yi.
- Normalization as in Llama 2 (identity, split digits, extra whitespace kept) but without a
  dummy prefix (add_dummy_prefix=false): our reading of Yi's tokenizer.model, unverified. Under
  VILA's legacy=False transformers turns the dummy prefix off anyway and adds its own "▁".
- tokenizer_config.json as Yi's (LlamaTokenizer, add_bos_token false, legacy true, pad <unk>;
  verified on the 01-ai/Yi-6B / Yi-34B-200K configs) with Nous-Hermes-2's changes: eos
  <|im_end|> (verified on its special_tokens_map.json) and <|im_start|> / <|im_end|> in
  added_tokens_decoder (their `special` flags are modelled: <|im_start|> not special, as in
  other axolotl ChatML Yi fine-tunes; <|im_end|> special, being the eos token).
"""

VOCAB_SIZE = 1800

CONTROL_PIECES = [
    "<|reserved_3|>",
    "<|reserved_4|>",
    "<|reserved_5|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
]

# Appended after train_test_tokenizers.COMMON (gflags: a later flag overrides an earlier one).
FLAGS = [
    "--model_type=bpe",
    f"--vocab_size={VOCAB_SIZE}",
    "--unk_piece=<unk>",
    "--bos_piece=<|startoftext|>",
    "--eos_piece=<|endoftext|>",
    "--control_symbols=" + ",".join(CONTROL_PIECES),
    "--byte_fallback=true",
    "--split_digits=true",
    "--normalization_rule_name=identity",
    "--add_dummy_prefix=false",
    "--remove_extra_whitespaces=false",
    "--allow_whitespace_only_pieces=true",
    "--character_coverage=0.9995",
]


def _added(content, special):
    return {
        "content": content,
        "lstrip": False,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
        "special": special,
    }


def _map_entry(content):
    return {k: v for k, v in _added(content, True).items() if k != "special"}


def config_files():
    """(tokenizer_config.json, special_tokens_map.json) as transformers 4.36 saves them."""
    cfg = {
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": {
            "0": _added("<unk>", True),
            "1": _added("<|startoftext|>", True),
            "2": _added("<|endoftext|>", True),
            "6": _added("<|im_start|>", False),
            "7": _added("<|im_end|>", True),
        },
        "bos_token": "<|startoftext|>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "legacy": True,
        "model_max_length": 4096,
        "pad_token": "<unk>",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    special_map = {
        "bos_token": _map_entry("<|startoftext|>"),
        "eos_token": _map_entry("<|im_end|>"),
        "pad_token": _map_entry("<unk>"),
        "unk_token": _map_entry("<unk>"),
    }
    return cfg, special_map
