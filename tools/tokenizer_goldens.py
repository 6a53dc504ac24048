#!/usr/bin/python3
"""Expected tokenizer outputs for test/text, from Google's SentencePiece and upstream VILA code.

    /usr/bin/python3 tools/tokenizer_goldens.py --vila-repo /path/to/VILA

needs the `sentencepiece` Python package (Debian's python3-sentencepiece 0.1.97 here) and a
checkout of NVlabs/VILA (GitHub) at commit 48aadd5 (the VILA 1.5 code: its
llava/conversation.py is executed as is, and tokenizer_image_token is taken from
llava/mm_utils.py). transformers is NOT needed: the parts of transformers 4.36's slow
LlamaTokenizer that sit around SentencePiece (added-token splitting with its Trie, the
legacy=False "▁" prefix and unk-token trick, convert_tokens_to_string, _decode) are
re-implemented below in Python, following tokenization_llama.py and tokenization_utils.py of
transformers v4.36.2; SentencePiece itself (normalization, BPE/Unigram, byte fallback, decode)
is the real C++ library.

Writes test/fixtures/text/goldens/<model>.json per tokenizer, plus vila.json (conversation
prompts and tokenizer_image_token ids). spm-bpe-yi.json (the Yi-like tokenizer of VILA1.5-40b)
also has `chatml`: ChatML strings (Yi's special tokens inside text) tokenized and decoded.
"""

import argparse
import ast
import json
import os
import random
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "text", "goldens")

MODELS = {
    "tinychat-awq": "test/fixtures/tinychat-awq/llm",
    "spm-bpe-llama": "test/fixtures/text/spm-bpe-llama",
    "spm-bpe-nobyte": "test/fixtures/text/spm-bpe-nobyte",
    "spm-unigram-nfkc": "test/fixtures/text/spm-unigram-nfkc",
    "legacy-config": "test/fixtures/text/legacy-config",
    "spm-bpe-yi": "test/fixtures/text/spm-bpe-yi",
}

# Yi's special pieces inside text (spm-bpe-yi only): added tokens (<|im_start|>, <|im_end|>,
# <|startoftext|>, <|endoftext|>) are cut out whole; control pieces that are not added tokens
# (<|im_sep|>, ids 3-5) are plain text to SentencePiece.
CHATML_STRINGS = [
    "<|im_start|>",
    "<|im_end|>",
    "<|startoftext|>",
    "<|endoftext|>",
    "<|im_sep|>",
    "<|reserved_3|>",
    "<|im_start|>system\nAnswer the questions.<|im_end|>",
    "<|im_start|>user\n<image>\nWhat is this?<|im_end|><|im_start|>assistant\n",
    "<|im_start|>assistant\nA cat.<|im_end|>",
    "\nWhat is this?<|im_end|><|im_start|>assistant\n",
    "<|startoftext|>Hello<|endoftext|>",
    " <|im_start|>",
    "<|im_end|> ",
    "a <|im_end|> b",
    "x<|im_end|>\n<|im_start|>y",
    "<|im_start|><|im_end|>",
    "<|im_start|>user<|im_sep|>Hi",
    "<|im_end",
    "<|im_start|>\u2581user",
    "answer 42.<|im_end|>",
]

SPIECE_UNDERLINE = "\u2581"

# --------------------------------------------------------------------------------------------
# Test strings
# --------------------------------------------------------------------------------------------

BASE_STRINGS = [
    "",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    " \n ",
    "a",
    "Hello",
    "Hello world",
    "Hello  world",
    "Hello   world",
    " Hello",
    "  Hello",
    "Hello ",
    "Hello  ",
    " Hello ",
    "hello\nworld",
    "hello\n\nworld",
    "\nhello",
    "hello\n",
    "tab\tseparated\tvalues",
    "\ttab first",
    "mixed \t \n whitespace",
    "   leading and trailing   ",
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX",
    "Permission is hereby granted, free of charge, to any person obtaining a copy",
    "This program is free software: you can redistribute it and/or modify",
    "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007",
    "Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>",
    "A chat between a curious user and an artificial intelligence assistant.",
    "USER: <image>\nDescribe the image. ASSISTANT:",
    "USER: What is in this picture? ASSISTANT: A cat.</s>USER: And now? ASSISTANT:",
    "0",
    "7",
    "42",
    "2024",
    "3.14159",
    "1,000,000",
    "-273.15",
    "1e-10",
    "0x1F600",
    "a1b2c3",
    "version 1.5 and 2.0",
    "phone: +1 (555) 123-4567",
    "12345678901234567890",
    "!!!",
    "???",
    "...",
    "!?!?",
    "-----",
    "=====",
    "***bold***",
    "((nested))",
    "[[brackets]]",
    "{\"json\": [1, 2, 3], \"ok\": true}",
    "a.b.c",
    "e-mail: someone@example.com",
    "https://github.com/NVlabs/VILA",
    "C:\\Windows\\System32",
    "Hello, world!",
    "It's a dog's life; isn't it?",
    "\"quoted\" and 'single'",
    "café",
    "naïve résumé",
    "Grüße aus München",
    "Ångström",
    "crème brûlée",
    "ñandú",
    "Привет, мир!",
    "Γειά σου Κόσμε",
    "你好，世界！",
    "这是一个测试。",
    "こんにちは世界",
    "東京タワー",
    "안녕하세요",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "שלום עולם",
    "ไทย",
    "😀",
    "😀😀",
    "😀 😃",
    "I ❤️ NY",
    "👍🏽",
    "🇫🇷🇩🇪",
    "👨‍👩‍👧‍👦",
    "emoji at end 🎉",
    "🎉 emoji at start",
    "€ £ ¥",
    "19 €",
    "© 2024 ®™",
    "x² + y³",
    "½ ¼ ¾",
    "ＡＢＣ　１２３",
    "ﬁ ﬂ",
    "Ⅻ ① ②",
    "∑ ∞ ≈ ≠ √",
    "α β γ",
    "\u00a0non-breaking\u00a0space",
    "zero\u200bwidth",
    "e\u0301 combining",
    "\u2581 literal lower one eighth block",
    "a\u2581b",
    "\u2581\u2581",
    "<s>",
    "</s>",
    "<unk>",
    "<s>Hello",
    "<s> Hello",
    "Hello<s>",
    "Hello <s>",
    "Hello <s>.",
    "Hello</s>",
    "Hello </s> world",
    "</s>USER:",
    "a</s>b</s>c",
    "<s><s>",
    "<s></s>",
    " <s>",
    "<s> ",
    "<unk> Hey",
    "Hey <unk>",
    "<s>\nline",
    "text </s>\n",
    "<S> is not special",
    "< s >",
    "<s",
    "s>",
    "</",
    "<tool>",
    "<tool>call()",
    "use <tool> here",
    "@@",
    "a@@b",
    "<image>",
    "<image>\nDescribe",
    "look <image> here",
    "<im_patch>",
    "<im_patch>   spaced",
    "a <im_patch>b",
    "<image><im_patch><image>",
    "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "if (a && b || !c) { printf(\"%d\\n\", x); }",
    "#include <stdio.h>",
    "SELECT * FROM users WHERE id = 1;",
    "    indented four",
    "        indented eight",
    "x    y",
    "trailing spaces    ",
    "a \n b",
    "a\r\nb",
    "carriage\rreturn",
    "\u0000nul",
    "bell\u0007",
    "\u007f delete",
    "the the the the the",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababab",
    "licenses licensed licensing licensee",
    "ill-formed? no: well-formed",
]

WORDS = [
    "the", "license", "software", "Free", "GNU", "copy", "distribute", "work", "terms",
    "image", "VILA", "model", "café", "мир", "世界", "😀", "2024", "x", "a", "I",
]
SEPARATORS = [" ", "  ", "\t", "\n", " \n", "", "   ", ", ", ". "]
ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(" ,.;:!?-_'\"()[]{}<>/\\@#$%^&*+=~`|")
    + [" ", " ", " ", "\n", "\t", "  "]
    + list("éèêëàâäöüßñçøåæœ")
    + list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
    + list("αβγδεζηθλμπσω")
    + list("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会")
    + list("あいうえおかきくけこアイウエオ")
    + ["😀", "🎉", "👍", "❤", "\ufe0f", "🙂", "🇫", "🇷", "€", "™", "½", "ﬁ", "Ａ", "１", "\u00a0", "\u2581"]
    + ["<s>", "</s>", "<unk>", "<tool>", "@@", "<image>", "<im_patch>"]
)


def test_strings():
    rng = random.Random(20240519)
    strings = list(BASE_STRINGS)
    # Words joined by assorted whitespace and punctuation.
    for _ in range(120):
        n = rng.randint(1, 6)
        s = "".join(rng.choice(WORDS) + rng.choice(SEPARATORS) for _ in range(n))
        if rng.random() < 0.3:
            s = rng.choice([" ", "  ", "\n", "\t"]) + s
        strings.append(s)
    # Random character soup from a wide alphabet (special tokens included as units).
    for _ in range(150):
        n = rng.randint(1, 25)
        strings.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    # Deduplicate, keep order.
    seen = set()
    out = []
    for s in strings:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


# --------------------------------------------------------------------------------------------
# SentencePiece model loading (with transformers' legacy=False add_dummy_prefix override)
# --------------------------------------------------------------------------------------------


def _read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def without_dummy_prefix(model_bytes):
    """ModelProto with normalizer_spec.add_dummy_prefix = False.

    transformers does `model.normalizer_spec.MergeFrom(NormalizerSpec(add_dummy_prefix=False))`
    then re-serializes; protobuf's merge semantics make appending the field (3, varint 0) to the
    normalizer_spec message equivalent, and that needs no protobuf package."""
    out = bytearray()
    pos = 0
    patched = False
    while pos < len(model_bytes):
        start = pos
        tag, pos = _read_varint(model_bytes, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = _read_varint(model_bytes, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _read_varint(model_bytes, pos)
            payload = model_bytes[pos : pos + length]
            pos += length
            if field == 3:
                payload = payload + bytes([0x18, 0x00])
                out += _varint((3 << 3) | 2) + _varint(len(payload)) + payload
                patched = True
                continue
        else:
            raise ValueError(f"unexpected wire type {wire}")
        out += model_bytes[start:pos]
    if not patched:
        out += _varint((3 << 3) | 2) + _varint(2) + bytes([0x18, 0x00])
    return bytes(out)


def load_sp(path, add_dummy_prefix_off):
    with open(path, "rb") as f:
        data = f.read()
    if add_dummy_prefix_off:
        data = without_dummy_prefix(data)
    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(data)
    return sp


# --------------------------------------------------------------------------------------------
# transformers 4.36 slow LlamaTokenizer, re-implemented around the real SentencePiece
# --------------------------------------------------------------------------------------------


class Trie:
    """transformers.tokenization_utils.Trie: split() with its longest-match lookahead."""

    def __init__(self, words):
        self.data = {}
        for w in words:
            if not w:
                continue
            ref = self.data
            for ch in w:
                ref = ref.setdefault(ch, {})
            ref[""] = 1

    def split(self, text):
        states = {}
        offsets = [0]
        skip = 0
        for current, current_char in enumerate(text):
            if skip and current < skip:
                continue
            to_remove = set()
            reset = False
            for start, trie_pointer in list(states.items()):
                if "" in trie_pointer:
                    for lookstart, looktrie_pointer in list(states.items()):
                        if lookstart > start:
                            break
                        elif lookstart < start:
                            lookahead_index = current + 1
                            end = current + 1
                        else:
                            lookahead_index = current
                            end = current
                        next_char = text[lookahead_index] if lookahead_index < len(text) else None
                        if "" in looktrie_pointer:
                            start = lookstart
                            end = lookahead_index
                            skip = lookahead_index
                        while next_char in looktrie_pointer:
                            looktrie_pointer = looktrie_pointer[next_char]
                            lookahead_index += 1
                            if "" in looktrie_pointer:
                                start = lookstart
                                end = lookahead_index
                                skip = lookahead_index
                            if lookahead_index == len(text):
                                break
                            next_char = text[lookahead_index]
                    offsets.append(start)
                    offsets.append(end)
                    reset = True
                    break
                elif current_char in trie_pointer:
                    states[start] = trie_pointer[current_char]
                else:
                    to_remove.add(start)
            if reset:
                states = {}
            else:
                for start in to_remove:
                    del states[start]
            if current >= skip and current_char in self.data:
                states[current] = self.data[current_char]
        for start, trie_pointer in states.items():
            if "" in trie_pointer:
                offsets.append(start)
                offsets.append(len(text))
                break
        return self.cut_text(text, offsets)

    @staticmethod
    def cut_text(text, offsets):
        offsets.append(len(text))
        tokens = []
        start = 0
        for end in offsets:
            if start > end:
                continue
            elif start == end:
                continue
            tokens.append(text[start:end])
            start = end
        return tokens


def _token(value, special_default):
    """A special-token value from a config file → dict(content, lstrip, rstrip, single_word, special)."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"content": value, "lstrip": False, "rstrip": False, "single_word": False, "special": special_default}
    return {
        "content": value["content"],
        "lstrip": value.get("lstrip", False),
        "rstrip": value.get("rstrip", False),
        "single_word": value.get("single_word", False),
        "special": value.get("special", special_default),
    }


SPECIAL_ATTRS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]
LLAMA_DEFAULTS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


class SlowLlamaTokenizer:
    def __init__(self, folder, legacy=False):
        with open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        # transformers 4.36 _from_pretrained: special_tokens_map.json and added_tokens.json are only
        # consulted for configs without added_tokens_decoder (the "legacy" branch).
        modern = "added_tokens_decoder" in cfg
        smap = {}
        added_json = {}
        smap_path = os.path.join(folder, "special_tokens_map.json")
        added_path = os.path.join(folder, "added_tokens.json")
        if not modern and os.path.exists(smap_path):
            with open(smap_path, encoding="utf-8") as f:
                smap = json.load(f)
        if not modern and os.path.exists(added_path):
            with open(added_path, encoding="utf-8") as f:
                added_json = json.load(f)
        self.legacy = legacy
        self.sp = load_sp(os.path.join(folder, "tokenizer.model"), add_dummy_prefix_off=not legacy)
        self.add_bos_token = cfg.get("add_bos_token", True)
        self.add_eos_token = cfg.get("add_eos_token", False)
        self.clean_up = cfg.get("clean_up_tokenization_spaces", False)

        special = {}
        for attr in SPECIAL_ATTRS:
            if attr in smap:
                value = smap[attr]
            elif attr in cfg:
                value = cfg[attr]
            else:
                value = LLAMA_DEFAULTS.get(attr)
            tok = _token(value, True)
            if tok is not None:
                special[attr] = tok
        additional = [_token(t, True) for t in (cfg.get("additional_special_tokens") or [])]
        for t in smap.get("additional_special_tokens") or []:
            t = _token(t, True)
            if t["content"] not in [a["content"] for a in additional]:
                additional.append(t)
        self.special = special
        self.all_special_tokens = []
        for t in list(special.values()) + additional:
            if t["content"] not in self.all_special_tokens:
                self.all_special_tokens.append(t["content"])

        # added_tokens_decoder first, then missing special tokens (PreTrainedTokenizer.__init__).
        self.added_decoder = {}
        for key, value in (cfg.get("added_tokens_decoder") or {}).items():
            self.added_decoder[int(key)] = _token(value, False)
        for content, index in added_json.items():
            self.added_decoder[index] = _token(content, content in self.all_special_tokens)
        self.added_encoder = {t["content"]: i for i, t in self.added_decoder.items()}
        vocab = {self.sp.id_to_piece(i): i for i in range(self.sp.get_piece_size())}
        for i, t in self.added_decoder.items():
            vocab[t["content"]] = i
        for t in list(special.values()) + additional:
            if t["content"] in self.added_encoder:
                continue
            idx = vocab[t["content"]] if t["content"] in vocab else len(vocab)
            vocab[t["content"]] = idx
            self.added_decoder[idx] = dict(t, special=True)
            self.added_encoder[t["content"]] = idx
        self.trie = Trie(self.added_encoder.keys())
        self.all_special_ids = [self.convert_token_to_id(t) for t in self.all_special_tokens]
        self.unk_token = special["unk_token"]["content"]
        self.unk_token_length = len(self.sp.encode(self.unk_token))
        self.bos_token_id = self.convert_token_to_id(special["bos_token"]["content"]) if "bos_token" in special else None
        self.eos_token_id = self.convert_token_to_id(special["eos_token"]["content"]) if "eos_token" in special else None
        self.additional_special_tokens = [t["content"] for t in additional]

    def convert_token_to_id(self, token):
        if token in self.added_encoder:
            return self.added_encoder[token]
        return self.sp.piece_to_id(token)

    # PreTrainedTokenizer.tokenize
    def base_tokenize(self, text):
        no_split = set(self.added_encoder.keys())
        tokens = self.trie.split(text)
        for i, token in enumerate(tokens):
            if token in no_split:
                tok = self.added_decoder[self.added_encoder[token]]
                left = tokens[i - 1] if i > 0 else None
                right = tokens[i + 1] if i < len(tokens) - 1 else None
                if tok["rstrip"] and right:
                    tokens[i + 1] = right.lstrip()
                if tok["lstrip"] and left:
                    tokens[i - 1] = left.rstrip()
                if tok["single_word"] and left and left[-1] != " ":
                    tokens[i - 1] += token
                    tokens[i] = ""
                elif tok["single_word"] and right and right[0] != " ":
                    tokens[i] += right
                    tokens[i + 1] = ""
        out = []
        for token in tokens:
            if not token:
                continue
            if token in no_split:
                out.append(token)
            else:
                out.extend(self._tokenize(token))
        return out

    # LlamaTokenizer.tokenize (4.36)
    def tokenize(self, text):
        if self.legacy or len(text) == 0:
            return self.base_tokenize(text)
        tokens = self.base_tokenize(SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " "))
        if len(tokens) > 1 and tokens[0] == SPIECE_UNDERLINE and tokens[1] in self.all_special_tokens:
            tokens = tokens[1:]
        return tokens

    # LlamaTokenizer._tokenize (4.36)
    def _tokenize(self, text):
        tokens = self.sp.encode(text, out_type=str)
        if self.legacy or not text.startswith((SPIECE_UNDERLINE, " ")):
            return tokens
        tokens = self.sp.encode(self.unk_token + text, out_type=str)
        return tokens[self.unk_token_length :] if len(tokens) >= self.unk_token_length else tokens

    def encode(self, text):
        ids = [self.convert_token_to_id(t) for t in self.tokenize(text)]
        if self.add_bos_token:
            ids = [self.bos_token_id] + ids
        if self.add_eos_token:
            ids = ids + [self.eos_token_id]
        return ids

    # LlamaTokenizer.convert_tokens_to_string (4.36)
    def convert_tokens_to_string(self, tokens):
        if tokens[0].startswith(SPIECE_UNDERLINE):
            tokens[0] = tokens[0][1:]
        current_sub_tokens = []
        out_string = ""
        prev_is_special = False
        for i, token in enumerate(tokens):
            if token in self.all_special_tokens:
                if not prev_is_special and i != 0 and self.legacy:
                    out_string += " "
                out_string += self.sp.decode(current_sub_tokens) + token
                prev_is_special = True
                current_sub_tokens = []
            else:
                current_sub_tokens.append(token)
                prev_is_special = False
        out_string += self.sp.decode(current_sub_tokens)
        return out_string

    # PreTrainedTokenizer._decode (4.36), spaces_between_special_tokens=True (its default)
    def decode(self, ids, skip_special_tokens=False):
        tokens = []
        for i in ids:
            if skip_special_tokens and i in self.all_special_ids:
                continue
            if i in self.added_decoder:
                tokens.append(self.added_decoder[i]["content"])
            else:
                tokens.append(self.sp.id_to_piece(i))
        legacy_added = set(self.added_encoder.keys()) - set(self.all_special_tokens) | {
            t for t in self.additional_special_tokens if self.convert_token_to_id(t) >= self.sp.get_piece_size()
        }
        sub_texts = []
        current = []
        for token in tokens:
            if token in legacy_added:
                if current:
                    s = self.convert_tokens_to_string(current)
                    if len(s) > 0:
                        sub_texts.append(s)
                    current = []
                sub_texts.append(token)
            else:
                current.append(token)
        if current:
            sub_texts.append(self.convert_tokens_to_string(current))
        text = " ".join(sub_texts)
        if self.clean_up:
            raise NotImplementedError("clean_up_tokenization_spaces is off in every test config")
        return text


# --------------------------------------------------------------------------------------------
# Goldens
# --------------------------------------------------------------------------------------------


def random_id_sequences(sp, extra_ids, rng, count=80):
    n = sp.get_piece_size()
    byte_ids = [i for i in range(n) if sp.is_byte(i)]
    special_ids = [i for i in range(n) if sp.is_control(i) or sp.is_unknown(i)]
    seqs = []
    for _ in range(count):
        seq = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if byte_ids and r < 0.4:
                seq.append(rng.choice(byte_ids))
            elif r < 0.55:
                seq.append(rng.choice(special_ids + extra_ids))
            else:
                seq.append(rng.randrange(n))
        seqs.append(seq)
    # Every valid and invalid way to cut a 4-byte emoji, then text after it.
    if byte_ids:
        emoji = [sp.piece_to_id(f"<0x{b:02X}>") for b in "😀".encode("utf-8")]
        for k in range(1, 5):
            seqs.append(emoji[:k])
            seqs.append(emoji[:k] + [sp.piece_to_id("a")])
        seqs.append(emoji[1:] + emoji)
    return seqs


def model_goldens(name, folder, strings, rng):
    """Goldens of one tokenizer; `hf_cases` is reused for spm-bpe-yi's ChatML strings."""
    path = os.path.join(ROOT, folder)
    raw = spm.SentencePieceProcessor(model_file=os.path.join(path, "tokenizer.model"))
    slow = SlowLlamaTokenizer(path, legacy=False)
    slow_legacy = SlowLlamaTokenizer(path, legacy=True)
    extra_ids = sorted(i for i in slow.added_decoder if i >= raw.get_piece_size())

    sp_cases = []
    for s in strings:
        pieces = raw.encode(s, out_type=str)
        ids = raw.encode(s)
        sp_cases.append({"pieces": pieces, "ids": ids, "decoded": raw.decode(ids)})

    def hf_cases(tok, inputs=strings):
        cases = []
        for s in inputs:
            tokens = tok.tokenize(s)
            ids = tok.encode(s)
            cases.append(
                {
                    "tokens": tokens,
                    "ids": ids,
                    "decoded": tok.decode(ids),
                    "decoded_skip": tok.decode(ids, skip_special_tokens=True),
                }
            )
        return cases

    decode_cases = []
    for seq in random_id_sequences(raw, extra_ids, rng):
        base = [i for i in seq if i < raw.get_piece_size()]
        decode_cases.append(
            {
                "ids": seq,
                "sp": raw.decode(base),
                "sp_ids": base,
                "hf": slow.decode(seq),
                "hf_skip": slow.decode(seq, skip_special_tokens=True),
            }
        )
    extra = {}
    if name == "spm-bpe-yi":
        extra["chatml"] = {
            "strings": CHATML_STRINGS,
            "hf_legacy_false": hf_cases(slow, CHATML_STRINGS),
            "hf_legacy_true": hf_cases(slow_legacy, CHATML_STRINGS),
        }
    return {
        "model": folder + "/tokenizer.model",
        "vocab_size": raw.get_piece_size(),
        "bos_id": slow.bos_token_id,
        "eos_id": slow.eos_token_id,
        "unk_id": slow.convert_token_to_id(slow.unk_token),
        "all_special_ids": slow.all_special_ids,
        "sentencepiece": sp_cases,
        "hf_legacy_false": hf_cases(slow),
        "hf_legacy_true": hf_cases(slow_legacy),
        "decode": decode_cases,
        **extra,
    }


def load_vila(repo):
    """conversation.py executed as is; tokenizer_image_token extracted from mm_utils.py."""
    conv_ns = {}
    with open(os.path.join(repo, "llava", "conversation.py"), encoding="utf-8") as f:
        exec(compile(f.read(), "conversation.py", "exec"), conv_ns)
    with open(os.path.join(repo, "llava", "mm_utils.py"), encoding="utf-8") as f:
        source = f.read()
    fn = next(
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == "tokenizer_image_token"
    )
    mm_ns = {"IMAGE_TOKEN_INDEX": -200}
    exec(compile(ast.get_source_segment(source, fn), "mm_utils.py", "exec"), mm_ns)
    return conv_ns, mm_ns["tokenizer_image_token"]


class HFCallable:
    """Enough of a transformers tokenizer for tokenizer_image_token: tok(chunk).input_ids."""

    def __init__(self, slow):
        self.slow = slow
        self.bos_token_id = slow.bos_token_id

    def __call__(self, text):
        class Out:
            pass

        out = Out()
        out.input_ids = self.slow.encode(text)
        return out


def vila_goldens(repo):
    conv_ns, tokenizer_image_token = load_vila(repo)
    templates = conv_ns["conv_templates"]
    rendered = []
    conversations = {
        "single": [["USER", "<image>\nDescribe the image."], ["ASSISTANT", None]],
        "multi": [
            ["USER", "<image>\nWhat is shown?"],
            ["ASSISTANT", "A red square."],
            ["USER", "And the background?"],
            ["ASSISTANT", None],
        ],
        "closed": [["USER", "Hi"], ["ASSISTANT", "Hello!"]],
        "empty_answer": [["USER", "Hi"], ["ASSISTANT", ""]],
    }
    for name in ["vicuna_v1", "v1", "vicuna_v1_nosys", "llava_v1", "llava_v0", "llama_2", "llava_llama_2", "mistral", "mpt", "hermes-2", "llama_3", "plain"]:
        for conv_name, messages in conversations.items():
            conv = templates[name].copy()
            roles = conv.roles
            for i, (_, content) in enumerate(messages):
                conv.append_message(roles[i % 2], content)
            if name == "plain" and conv_name in ("multi", "closed"):
                continue  # upstream raises (sep2 is None)
            stop = conv.sep if conv.sep_style != conv_ns["SeparatorStyle"].TWO else conv.sep2
            rendered.append(
                {
                    "template": name,
                    "conversation": conv_name,
                    "messages": [[roles[i % 2], c] for i, (_, c) in enumerate(messages)],
                    "prompt": conv.get_prompt(),
                    "stop": stop,
                }
            )

    prompts = [
        "",
        "no image here",
        "<image>",
        "<image>\n",
        "<image><image>",
        "<image>\n<image>\nCompare them.",
        "Describe <image> please",
        "text before<image>",
        "<image> leading space after",
        " <image> ",
        "<s><image></s>",
        "\n<image>\n",
    ]
    vicuna = templates["vicuna_v1"]
    hermes = templates["hermes-2"]  # VILA1.5-40b
    for template in [vicuna, hermes]:
        for q in ["<image>\nDescribe the image.", "<image>\n<image>\nWhich is brighter?", "What is this? <image>"]:
            conv = template.copy()
            conv.append_message(conv.roles[0], q)
            conv.append_message(conv.roles[1], None)
            prompts.append(conv.get_prompt())
    image_tokens = {}
    for name, folder in MODELS.items():
        tok = HFCallable(SlowLlamaTokenizer(os.path.join(ROOT, folder), legacy=False))
        image_tokens[name] = [{"prompt": p, "ids": tokenizer_image_token(p, tok)} for p in prompts]
    return {"conversations": rendered, "image_tokens": image_tokens}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vila-repo", required=True, help="checkout of NVlabs/VILA at 48aadd5")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    strings = test_strings()
    print(f"{len(strings)} test strings, sentencepiece {spm.__version__}", file=sys.stderr)
    with open(os.path.join(OUT, "strings.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/tokenizer_goldens.py", "strings": strings}, f, ensure_ascii=False, indent=0)
        f.write("\n")
    for name, folder in MODELS.items():
        data = model_goldens(name, folder, strings, random.Random(name))
        data["generator"] = "tools/tokenizer_goldens.py"
        data["sentencepiece_version"] = spm.__version__
        with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {name}.json", file=sys.stderr)
    vila = vila_goldens(args.vila_repo)
    vila["generator"] = "tools/tokenizer_goldens.py"
    with open(os.path.join(OUT, "vila.json"), "w", encoding="utf-8") as f:
        json.dump(vila, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote vila.json", file=sys.stderr)


if __name__ == "__main__":
    main()
