"""The probe: 50 sentences and the outputs the model gave when it was evaluated.

Loading a model with a probe re-scores the sentences and compares. A mismatch is an error
that names the likely cause: the tokenizer (token ids differ), the base encoder (its
embedding and LayerNorm weights, which the adapter never changes, differ from the recorded
fingerprint), or else the adapter and heads.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from diplotag.errors import ModelUnavailableError

log = logging.getLogger(__name__)
PROBE_FILE = "probe.json"
N_PROBE = 50
TOLERANCE = 2e-3


def token_digest(tokenizer, texts: list[str], prefix: str = "") -> str:
    ids = tokenizer([prefix + t for t in texts], add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]


def base_fingerprint(model) -> str:
    """A hash of the weights LoRA leaves alone: embeddings and every LayerNorm (rounded)."""
    h = hashlib.sha256()
    for name, p in sorted(model.encoder.named_parameters()):
        if "embeddings" in name or "LayerNorm" in name or "layer_norm" in name:
            t = p.detach().float()
            sample = t.flatten()[:: max(1, t.numel() // 4096)]
            h.update(name.split("base_model.model.")[-1].encode())
            h.update(np.round(sample.cpu().numpy(), 4).tobytes())
    return h.hexdigest()[:16]


def _scores(model, tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    from diplotag.model.predictor import Predictor

    pred = Predictor(model, tokenizer, device="cpu", precision="fp32", batch_size=64, packing="off")  # as recorded
    s = pred.score(texts)
    return {"topics": s.topics, "stance": s.stance, "rhetoric": s.rhetoric}


def make_probe(model, tokenizer, texts: list[str]) -> dict[str, Any]:
    texts = texts[:N_PROBE]
    scores = _scores(model, tokenizer, texts)
    return {
        "sentences": texts,
        "token_digest": token_digest(tokenizer, texts, model.config.text_prefix),
        "base_fingerprint": base_fingerprint(model),
        "expected": {k: np.round(v, 6).tolist() for k, v in scores.items()},
        "tolerance": TOLERANCE,
    }


def write_probe(directory: Path, probe: dict[str, Any]) -> None:
    (directory / PROBE_FILE).write_text(json.dumps(probe, ensure_ascii=False) + "\n", encoding="utf-8")


def check_probe(directory: Path, model, tokenizer) -> dict[str, Any] | None:
    """Raise ModelUnavailableError naming the cause when the model no longer gives its recorded outputs."""
    path = directory / PROBE_FILE
    if not path.is_file():
        return None
    try:
        probe = json.loads(path.read_text(encoding="utf-8"))
        texts = probe["sentences"]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise ModelUnavailableError(f"{path}: unreadable probe ({exc})") from exc
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        scores = _scores(model, tokenizer, texts)
    model.train(was_training)
    diff = max(float(np.max(np.abs(scores[k] - np.asarray(probe["expected"][k])))) for k in scores)
    if diff <= probe.get("tolerance", TOLERANCE):
        log.info("probe passed on %d sentences (max difference %.2e)", len(texts), diff)
        return {"sentences": len(texts), "max_diff": diff}
    if token_digest(tokenizer, texts, model.config.text_prefix) != probe["token_digest"]:
        cause = "wrong tokenizer: the token ids of the probe sentences differ from the evaluated model's"
    elif base_fingerprint(model) != probe["base_fingerprint"]:
        cause = (f"wrong base encoder: {model.config.base_encoder!r} here is not the base the model was "
                 "trained on (its embedding/LayerNorm weights differ)")
    else:
        cause = "wrong adapter or heads: same tokenizer and base, different outputs"
    raise ModelUnavailableError(f"{directory}: probe check failed (max probability difference {diff:.4f} > "
                                f"{probe.get('tolerance', TOLERANCE)}): {cause}")
