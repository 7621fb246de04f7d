"""GPU throughput: precisions x batch sizes, end to end (tokenization included), and where the time goes.

Runs on CUDA when present (bench.py calls it then); `--device cpu` exercises the same code on CPU.
Each cell scores the same sentences (the corpus repeated to --sentences) through the diplotag
Predictor's own steps — tokenizer, padded length-sorted batches, host-to-device copy, forward and
heads — timing each step separately (CUDA synchronised between steps).
Usage: python benchmarks/gpu_sweep.py [--device cpu] [--sentences 20000] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from diplotag.model.classifier import DiplotagClassifier  # noqa: E402
from diplotag.model.predictor import Predictor, pad_batch  # noqa: E402

BATCH_SIZES = (32, 64, 128, 256, 512, 1024)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def one_cell(pred: Predictor, texts: list[str], batch_size: int) -> dict:
    """Score texts once, timing tokenizer, batch building + host-to-device copy, and forward + heads."""
    device = pred.device
    pad = pred.tokenizer.pad_token_id or 0
    _sync(device)
    t0 = time.perf_counter()
    ids, _ = pred.encode(texts)
    t_tok = time.perf_counter() - t0
    order = np.argsort([len(x) for x in ids], kind="stable")
    t_copy = t_fwd = 0.0
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            idx = order[i: i + batch_size]
            t1 = time.perf_counter()
            input_ids, attention = pad_batch([ids[j] for j in idx], pad)
            input_ids = input_ids.to(device, non_blocking=True)
            attention = attention.to(device, non_blocking=True)
            _sync(device)
            t2 = time.perf_counter()
            out = pred.model(input_ids, attention)
            probs = [torch.sigmoid(out["topics"].float()).cpu(), torch.softmax(out["stance"].float(), -1).cpu(),
                     torch.softmax(out["rhetoric"].float(), -1).cpu()]
            _sync(device)
            t3 = time.perf_counter()
            t_copy += t2 - t1
            t_fwd += t3 - t2
            del probs
    total = t_tok + t_copy + t_fwd
    return {"batch_size": batch_size, "sentences": len(texts), "sentences_per_s": round(len(texts) / total, 1),
            "tokenizer_s": round(t_tok, 3), "batch_and_copy_s": round(t_copy, 3), "forward_s": round(t_fwd, 3)}


def run(model_dir: Path, corpus: list[str], device: str = "cuda", n_sentences: int = 20_000,
        precisions: tuple[str, ...] = ("fp32", "fp16", "bf16"), batch_sizes: tuple[int, ...] = BATCH_SIZES) -> dict:
    texts = (corpus * (n_sentences // max(len(corpus), 1) + 1))[:n_sentences]
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    out = {"device": name, "sentences": len(texts), "cells": []}
    for precision in precisions:
        if device == "cpu" and precision == "fp16":
            continue
        model, tok = DiplotagClassifier.from_pretrained(model_dir)
        pred = Predictor(model, tok, device=device, precision=precision)
        one_cell(pred, texts[:256], 64)  # warm-up: kernels, allocator
        best = 0.0
        for bs in batch_sizes:
            try:
                cell = one_cell(pred, texts, bs)
            except torch.OutOfMemoryError:
                logging.warning("%s batch %d: out of memory", precision, bs)
                break
            cell["precision"] = precision
            out["cells"].append(cell)
            print(json.dumps(cell), flush=True)
            if cell["sentences_per_s"] < best * 1.02:  # saturated: bigger batches no longer help
                break
            best = max(best, cell["sentences_per_s"])
        del pred, model
        if device == "cuda":
            torch.cuda.empty_cache()
    return out


def markdown(res: dict) -> str:
    lines = [f"GPU sweep on {res['device']}, {res['sentences']} sentences, tokenization included:", "",
             "| precision | batch | sentences/s | tokenizer s | batch + copy s | forward s |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {c['precision']} | {c['batch_size']} | {c['sentences_per_s']} | {c['tokenizer_s']} | "
              f"{c['batch_and_copy_s']} | {c['forward_s']} |" for c in res["cells"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench import corpus_articles

    from diplotag import paths
    from diplotag.settings import get_settings
    from diplotag.text import split_sentences

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--sentences", type=int, default=20_000)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)))
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: use --device cpu to exercise the sweep on CPU")
    model_dir = args.model or paths.resolve_model_dir(None, get_settings().home_dir)
    corpus = [s.text for a in corpus_articles() for s in split_sentences(a)]
    res = run(model_dir, corpus, args.device, args.sentences,
              batch_sizes=tuple(int(b) for b in args.batch_sizes.split(",")))
    out = HERE / "results" / f"gpu_sweep_{args.device}.json"
    out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(markdown(res))


if __name__ == "__main__":
    main()
