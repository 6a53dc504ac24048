"""Write a trained VilaShapes in the published VILA 1.5 folder layout (the configs are those of
tools/make_tiny_vila.py, which mirror a VILA1.5-3b repo): config.json, llm/ (one safetensors file),
vision_tower/ (SigLIP + preprocessor_config.json), mm_projector/, all weights bf16; and read one back."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import make_tiny_vila as mk  # noqa: E402
from vila_torch import read_safetensors  # noqa: E402

# part of the model -> its weights file in the folder
WEIGHT_FILES = {"llm": "llm/model.safetensors", "vision_tower": "vision_tower/model.safetensors",
                "mm_projector": "mm_projector/model.safetensors"}


def _bf16(sd) -> dict:
    return {k: v.detach().cpu().to(torch.bfloat16).contiguous() for k, v in sd.items()}


def write_checkpoint(out: str, model, d: dict) -> None:
    for sub in ("llm", "vision_tower", "mm_projector"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    sds = model.state_dicts()
    cfg = mk.top_config(d)
    cfg["_name_or_path"] = cfg["resume_path"] = "./vila-shapes"
    mk.write_json(os.path.join(out, "config.json"), cfg)
    mk.write_json(os.path.join(out, "trainer_state.json"), mk.TRAINER_STATE)

    llm = os.path.join(out, "llm")
    mk.write_json(os.path.join(llm, "config.json"), mk.llm_config(d))
    mk.write_json(os.path.join(llm, "generation_config.json"), mk.GENERATION_CONFIG)
    mk.write_json(os.path.join(llm, "tokenizer_config.json"), mk.tokenizer_config(d))
    mk.write_json(os.path.join(llm, "special_tokens_map.json"), mk.SPECIAL_TOKENS_MAP)
    mk.write_safetensors(os.path.join(out, WEIGHT_FILES["llm"]), _bf16(sds["llm"]))

    vt = os.path.join(out, "vision_tower")
    mk.write_json(os.path.join(vt, "config.json"), mk.vision_config(d))
    mk.write_json(os.path.join(vt, "preprocessor_config.json"), mk.preprocessor_config(d))
    mk.write_safetensors(os.path.join(out, WEIGHT_FILES["vision_tower"]), _bf16(sds["vision_tower"]))

    mp = os.path.join(out, "mm_projector")
    mk.write_json(os.path.join(mp, "config.json"), mk.projector_config(d))
    mk.write_safetensors(os.path.join(out, WEIGHT_FILES["mm_projector"]), _bf16(sds["mm_projector"]))


def load_checkpoint(model, folder: str) -> None:
    """The weights of a written folder into the training graph (bf16 -> float32), every key required."""
    for name, f in WEIGHT_FILES.items():
        sd = read_safetensors(os.path.join(folder, f))
        getattr(model, name).load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
