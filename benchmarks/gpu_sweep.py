"""GPU throughput: precisions x batch sizes, end to end (tokenization included), and where the time goes.

Runs on CUDA when present (bench.py calls it then; benchmarks/gpu_run.sh on a lent GPU machine);
`--device cpu` exercises the same code on CPU. Each cell scores the same sentences (the corpus
repeated to --sentences, sentence cache off) twice:
- end to end: `Predictor.score`, the path users get (tokenizer, length-sorted padded batches,
  host-to-device copies, forward, heads, one copy back), best of two passes;
- split: the same steps one after the other with the GPU synchronised between them, to show
  where the time goes (tokenizer, batch building + host-to-device copy, forward + heads).
Then the same batch sizes with packing on (model/packing.py: several sentences per row, batch_size x 128
tokens per batch), end to end only: packing is on by default on CPU and off on a GPU until these cells
show it wins there.
Beside the speed, per precision (padded and packed): macro-F1 on the test split and the share of test + wire
sentences whose decisions differ from fp32 on CPU (the reference the model was evaluated in).
Usage: python benchmarks/gpu_sweep.py [--device cpu] [--sentences 20000] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from diplotag.model.classifier import DiplotagClassifier  # noqa: E402
from diplotag.model.predictor import (  # noqa: E402
    Predictor,
    Scores,
    max_difference,
    pad_batch,
    plan_batches,
    same_decisions,
)

BATCH_SIZES = (32, 64, 128, 256, 512, 1024)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def split_cell(pred: Predictor, texts: list[str], batch_size: int) -> dict:
    """Score texts once step by step, synchronised: tokenizer, batch building + copy, forward + heads."""
    device = pred.device
    pad = pred.tokenizer.pad_token_id or 0
    _sync(device)
    t0 = time.perf_counter()
    ids, _ = pred.encode(texts)
    t_tok = time.perf_counter() - t0
    t_copy = t_fwd = 0.0
    with torch.inference_mode():
        for idx in plan_batches([len(x) for x in ids], batch_size):
            t1 = time.perf_counter()
            input_ids, attention = pad_batch([ids[j] for j in idx], pad)
            input_ids = input_ids.to(device)
            attention = attention.to(device)
            _sync(device)
            t2 = time.perf_counter()
            out = pred.model(input_ids, attention)
            probs = [torch.sigmoid(out["topics"].float()).cpu(), torch.softmax(out["stance"].float(), -1).cpu(),
                     torch.softmax(out["rhetoric"].float(), -1).cpu()]
            _sync(device)
            t_copy += t2 - t1
            t_fwd += time.perf_counter() - t2
            del probs
    total = t_tok + t_copy + t_fwd
    return {"split_sentences_per_s": round(len(texts) / total, 1), "tokenizer_s": round(t_tok, 3),
            "batch_and_copy_s": round(t_copy, 3), "forward_s": round(t_fwd, 3)}


def e2e_cell(pred: Predictor, texts: list[str], batch_size: int, passes: int = 2) -> float:
    """Sentences/s of Predictor.score (what users call), best of `passes`."""
    best = float("inf")
    for _ in range(passes):
        _sync(pred.device)
        t0 = time.perf_counter()
        pred.score(texts, batch_size=batch_size)
        _sync(pred.device)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def run(model_dir: Path, corpus: list[str], device: str = "cuda", n_sentences: int = 20_000,
        precisions: tuple[str, ...] = ("fp32", "fp16", "bf16"), batch_sizes: tuple[int, ...] = BATCH_SIZES) -> dict:
    texts = (corpus * (n_sentences // max(len(corpus), 1) + 1))[:n_sentences]
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    out = {"device": name, "sentences": len(texts), "torch": torch.__version__, "cells": []}
    for precision in precisions:
        if device == "cpu" and precision == "fp16":
            continue
        for packing in ("off", "on"):
            model, tok = DiplotagClassifier.from_pretrained(model_dir)
            pred = Predictor(model, tok, device=device, precision=precision, packing=packing)
            pred.score(texts[:512], batch_size=64)  # warm-up: kernels, allocator
            best = 0.0
            for bs in batch_sizes:
                try:
                    rate = e2e_cell(pred, texts, bs)
                    split = split_cell(pred, texts, bs) if packing == "off" else {}
                except torch.OutOfMemoryError:
                    logging.warning("%s batch %d packing %s: out of memory", precision, bs, packing)
                    break
                cell = {"precision": precision, "packing": packing, "batch_size": bs, "sentences": len(texts),
                        "sentences_per_s": round(rate, 1), **split}
                out["cells"].append(cell)
                print(json.dumps(cell), flush=True)
                if rate < best * 1.02:  # saturated: bigger batches no longer help
                    break
                best = max(best, rate)
            del pred, model
            if device == "cuda":
                torch.cuda.empty_cache()
    return out


def quality(model_dir: Path, test_rows: list, wire_texts: list[str], device: str = "cuda",
            precisions: tuple[str, ...] = ("fp32", "fp16", "bf16")) -> list[dict]:
    """Per precision on the device: macro-F1 on the test split, and decisions changed against fp32 on CPU
    over the test and wire sentences."""
    from throughput import changed, f1

    texts = [r.text for r in test_rows] + list(wire_texts)

    def scores(dev: str, precision: str, packing: str = "off") -> tuple[Scores, list[float]]:
        model, tok = DiplotagClassifier.from_pretrained(model_dir)
        pred = Predictor(model, tok, device=dev, precision=precision, packing=packing)
        return pred.score(texts), pred.config.topic_thresholds

    reference, thresholds = scores("cpu", "fp32")
    n_test = len(test_rows)
    rows = [{"precision": "fp32 (cpu, reference)", "macro_f1": f1(reference.slice(0, n_test), test_rows, thresholds),
             "decisions_changed_vs_cpu_fp32": 0.0, "max_probability_diff": 0.0}]
    for precision, packing in [(p, k) for p in precisions for k in ("off", "on")]:
        if device == "cpu" and precision == "fp16":
            continue
        got, _ = scores(device, precision, packing)
        diff = max_difference(got, reference)
        rows.append({"precision": f"{precision} ({device}{', packed' if packing == 'on' else ''})", "macro_f1": f1(got.slice(0, n_test), test_rows, thresholds),
                     "decisions_changed_vs_cpu_fp32": changed(got, reference, thresholds),
                     "max_probability_diff": round(diff, 4),
                     "same_decisions": int(same_decisions(got, reference, thresholds).sum()), "sentences": len(texts)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(res: dict) -> str:
    lines = [f"GPU sweep on {res['device']} (torch {res.get('torch', '?')}), {res['sentences']} sentences (the corpus "
             "repeated, sentence cache off), tokenization included. End to end: `Predictor.score`, best of 2. "
             "Split: the same steps synchronised one after the other (where the time goes).", "",
             "| precision | batches | batch | sentences/s end to end | split sentences/s | tokenizer s | batch + copy s "
             "| forward s |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {c['precision']} | {'packed' if c.get('packing') == 'on' else 'padded'} | {c['batch_size']} | "
              f"{c['sentences_per_s']} | {c.get('split_sentences_per_s', '–')} | {c.get('tokenizer_s', '–')} | "
              f"{c.get('batch_and_copy_s', '–')} | {c.get('forward_s', '–')} |" for c in res["cells"]]
    if res.get("quality"):
        lines += ["", "| precision | topics F1 | stance F1 | rhetoric F1 | decisions changed vs CPU fp32 | max prob. diff |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {q['precision']} | {q['macro_f1']['topics']} | {q['macro_f1']['stance']} | "
                  f"{q['macro_f1']['rhetoric']} | {100 * q['decisions_changed_vs_cpu_fp32']:.1f} % | "
                  f"{q['max_probability_diff']} |" for q in res["quality"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench import corpus_articles

    from diplotag import paths
    from diplotag.settings import get_settings
    from diplotag.text import split_sentences
    from diplotag.training.data import read_jsonl
    from diplotag.training.wire import article_rows

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--sentences", type=int, default=20_000)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)))
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: use --device cpu to exercise the sweep on CPU")
    model_dir = args.model or paths.resolve_model_dir(None, get_settings().home_dir)
    corpus = [s.text for a in corpus_articles() for s in split_sentences(a)]
    res = run(model_dir, corpus, args.device, args.sentences,
              batch_sizes=tuple(int(b) for b in args.batch_sizes.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"gpu_sweep_{args.device}.json"
    out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    root = HERE.parent
    res["quality"] = quality(model_dir, read_jsonl(root / "data" / "test.jsonl"),
                             [r.text for r in article_rows(root / "data" / "wire" / "articles.jsonl")], args.device)
    out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (args.out / f"gpu_sweep_{args.device}.md").write_text(markdown(res), encoding="utf-8")
    print(markdown(res))


if __name__ == "__main__":
    main()
