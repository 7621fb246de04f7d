"""Sentence-scoring variants, timed side by side on the same corpus, with macro-F1 beside each.

(a) naive: tokenizer + model, one sentence at a time, fp32
(b) plain PyTorch a competent user writes: batch 32, length-sorted, inference_mode, fp32
(c) diplotag as users get it: Predictor(precision=auto, cache on, compile=auto as the service and large
    `diplotag score` inputs run it: compiled at start-up, about 20 s once, not in the timed passes)
(d) each optimisation alone, against (b0), plain unsorted batch 32 fp32, and the opt-in int8 runtime;
    the Predictor variants other than "packed" run padded, length-sorted batches (packing off)

Every variant is timed three times after a warm-up on other sentences (best pass kept; sentence
caches emptied before each pass). Beside the speed: macro-F1 on the test split, and the share of
test and wire sentences whose decisions (any topic at its threshold, stance, rhetoric) differ
from plain fp32 — an optimisation can keep macro-F1 and still move single sentences.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.config import ClassifierConfig
from diplotag.model.predictor import Predictor, Scores, same_decisions
from diplotag.training.data import Row, label_arrays
from diplotag.training.evaluate import decisions
from diplotag.training.metrics import layer_metrics


@dataclass
class Variant:
    name: str
    description: str
    score: Callable[[Sequence[str]], Scores]
    subset: int | None = None  # time on N sentences spread over the corpus only (slow variants)
    reset: Callable[[], None] | None = None  # empties a cache before each timed pass


def _heads(model: DiplotagClassifier, ids: torch.Tensor, mask: torch.Tensor, t_s: float, t_r: float):
    out = model(ids, mask)
    return (torch.sigmoid(out["topics"].float()), torch.softmax(out["stance"].float() / t_s, -1),
            torch.softmax(out["rhetoric"].float() / t_r, -1))


def plain_scorer(model: DiplotagClassifier, tokenizer, dtype: torch.dtype, batch_size: int, sort: bool):
    """What twenty lines of transformers code do: batches of padded tensors through the model."""
    cfg = model.config
    m = model.to(dtype).eval()

    def score(texts: Sequence[str]) -> Scores:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if sort else list(range(len(texts)))
        n = len(texts)
        t = np.zeros((n, 4), np.float32)
        s = np.zeros((n, 3), np.float32)
        r = np.zeros((n, 5), np.float32)
        with torch.inference_mode():
            for i in range(0, n, batch_size):
                idx = order[i: i + batch_size]
                enc = tokenizer([texts[j] for j in idx], padding=True, truncation=True, max_length=cfg.max_length,
                                return_tensors="pt")
                a, b, c = _heads(m, enc["input_ids"], enc["attention_mask"], cfg.temperatures["stance"],
                                 cfg.temperatures["rhetoric"])
                t[idx], s[idx], r[idx] = a.numpy(), b.numpy(), c.numpy()
        return Scores(t, s, r, np.zeros(n, bool))

    return score


def naive_scorer(model: DiplotagClassifier, tokenizer):
    cfg = model.config
    m = model.float().eval()

    def score(texts: Sequence[str]) -> Scores:
        rows = []
        with torch.no_grad():
            for text in texts:
                enc = tokenizer(text, truncation=True, max_length=cfg.max_length, return_tensors="pt")
                rows.append([x.numpy()[0] for x in _heads(m, enc["input_ids"], enc["attention_mask"],
                                                           cfg.temperatures["stance"], cfg.temperatures["rhetoric"])])
        return Scores(np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]), np.stack([r[2] for r in rows]),
                      np.zeros(len(rows), bool))

    return score


def variants(model_dir, home, batch_size: int = 32) -> list[Variant]:
    def fresh():
        return DiplotagClassifier.from_pretrained(model_dir, home=home)

    model, tok = fresh()
    out = [Variant("a_naive", "one sentence at a time, fp32", naive_scorer(model, tok), subset=300)]
    model, tok = fresh()
    out.append(Variant("b0_plain_unsorted", "batch 32, unsorted, fp32", plain_scorer(model, tok, torch.float32, batch_size, False)))
    model, tok = fresh()
    out.append(Variant("b_plain_sorted", "batch 32, length-sorted, inference_mode, fp32",
                       plain_scorer(model, tok, torch.float32, batch_size, True)))
    model, tok = fresh()
    out.append(Variant("d_bf16_only", "batch 32, unsorted, bf16 weights", plain_scorer(model, tok, torch.bfloat16, batch_size, False)))

    def predictor(precision: str, packing: str = "off", **kwargs) -> Predictor:
        """A Predictor on a freshly loaded model; padded batches unless the variant is about packing."""
        model, tok = fresh()
        return Predictor(model, tok, device="cpu", precision=precision, batch_size=batch_size, packing=packing,
                         **kwargs)

    out.append(Variant("d_predictor_fp32", "diplotag Predictor, fp32, no cache (sorting by tokens)",
                       predictor("fp32").score))
    out.append(Variant("d_predictor_fp32_packed", "diplotag Predictor, fp32, no cache, packed rows",
                       predictor("fp32", packing="on").score))
    p32 = predictor("fp32", cache_size=10_000)
    out.append(Variant("d_predictor_fp32_cache", "diplotag Predictor, fp32, sentence cache", p32.score,
                       reset=p32._cache.clear))
    out.append(Variant("d_predictor_int8", "diplotag Predictor, precision=int8 (ONNX Runtime, opt-in), no cache",
                       predictor("int8", model_dir=Path(model_dir)).score))
    out.append(Variant("d_predictor_bf16", "diplotag Predictor, bf16, no cache, eager", predictor("bf16").score))
    out.append(Variant("d_predictor_bf16_packed", "diplotag Predictor, bf16, no cache, eager, packed rows",
                       predictor("bf16", packing="on").score))
    pc = predictor("bf16", model_dir=Path(model_dir))
    seconds = _compile(pc, "on")
    out.append(Variant("d_predictor_bf16_compiled", f"diplotag Predictor, bf16, no cache, compiled ({seconds:.0f} s "
                       "once)" if pc.compiled else "diplotag Predictor, bf16, no cache (compilation unavailable)",
                       pc.score))
    p = predictor("auto", packing="auto", cache_size=10_000, model_dir=Path(model_dir))
    seconds = _compile(p, "auto")
    how = f"compiled ({seconds:.0f} s once)" if p.compiled else "eager"
    rows = "packed rows" if p.packing else "token-length sorting"
    out.append(Variant("c_diplotag_default", f"diplotag default (service, large score inputs): precision=auto "
                       f"({p.precision}), {how}, {rows}, cache", p.score, reset=p._cache.clear))
    return out


def _compile(predictor: Predictor, setting: str) -> float:
    """Seconds maybe_compile took (0 when it did not compile)."""
    t0 = time.perf_counter()
    return time.perf_counter() - t0 if predictor.maybe_compile(setting) else 0.0


def timed(fn: Callable[[Sequence[str]], Scores], texts: Sequence[str], warmup: Sequence[str],
          repeats: int = 3, reset: Callable[[], None] | None = None) -> tuple[float, Scores]:
    fn(warmup)  # warm-up on other sentences, so a cache starts cold on the timed corpus
    best = float("inf")
    scores = None
    for _ in range(repeats):
        if reset:
            reset()
        t0 = time.perf_counter()
        scores = fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best, scores


def f1(scores: Scores, rows: list[Row], thresholds: list[float]) -> dict[str, float]:
    m = layer_metrics(label_arrays(rows), decisions(scores, thresholds))
    return {h: round(m[h]["macro_f1"], 4) for h in ("topics", "stance", "rhetoric")}


def changed(a: Scores, b: Scores, thresholds: list[float]) -> float:
    """Share of sentences with a different decision on any layer."""
    return round(1.0 - float(same_decisions(a, b, thresholds).mean()), 4)


def spread(texts: Sequence[str], n: int) -> list[str]:
    """n sentences taken at even steps through the corpus, so a subset keeps its length distribution."""
    step = max(1, len(texts) // n)
    return list(texts[::step][:n])


PAIRED = ("a_naive", "b_plain_sorted", "c_diplotag_default")


def interleave(all_variants: list[Variant], results: list[dict], corpus: list[str], rounds: int = 3) -> None:
    """Re-time (a), (b) and (c) in alternation, a pass of each per round, so that the ratios the targets
    are judged on see the same machine load (these shared machines drift by about 10 % over minutes)."""
    by_name = {v.name: v for v in all_variants}
    best = dict.fromkeys(PAIRED, 0.0)
    for _ in range(rounds):
        for name in PAIRED:
            v = by_name[name]
            texts = spread(corpus, v.subset) if v.subset else corpus
            if v.reset:
                v.reset()
            t0 = time.perf_counter()
            v.score(texts)
            best[name] = max(best[name], len(texts) / (time.perf_counter() - t0))
    for r in results:
        if r["variant"] in best:
            r["sentences_per_s"] = round(best[r["variant"]], 1)
            r["timing"] = f"interleaved with {', '.join(n for n in PAIRED if n != r['variant'])}, best of {rounds}"
    print("interleaved: " + ", ".join(f"{n} {best[n]:.1f}" for n in PAIRED), flush=True)


def run(model_dir, home, corpus: list[str], test_rows: list[Row], check_texts: Sequence[str] = ()) -> list[dict]:
    """check_texts: extra sentences (the wire set) for the decisions-changed column."""
    results = []
    test_texts = [r.text for r in test_rows]
    quality_texts = test_texts + list(check_texts)
    thresholds = ClassifierConfig.load(model_dir).topic_thresholds
    reference = None
    all_variants = variants(model_dir, home)
    for v in all_variants:
        texts = spread(corpus, v.subset) if v.subset else corpus
        rate, _ = timed(v.score, texts, warmup=test_texts[:16], reset=v.reset)
        if v.reset:
            v.reset()
        scores = v.score(quality_texts)
        if v.name == "b_plain_sorted":
            reference = scores
        results.append({"variant": v.name, "description": v.description, "sentences": len(texts),
                        "sentences_per_s": round(rate, 1),
                        "macro_f1": f1(scores.slice(0, len(test_texts)), test_rows, thresholds),
                        "_scores": scores})
        print(f"{v.name:26} {rate:8.1f} sent/s  F1 {results[-1]['macro_f1']}", flush=True)
    for r in results:
        r["decisions_changed_vs_fp32"] = changed(r.pop("_scores"), reference, thresholds)
        r["checked_sentences"] = len(quality_texts)
    interleave(all_variants, results, corpus)
    a = next(r for r in results if r["variant"] == "a_naive")["sentences_per_s"]
    b = next(r for r in results if r["variant"] == "b_plain_sorted")["sentences_per_s"]
    fp32 = next(r for r in results if r["variant"] == "b_plain_sorted")["macro_f1"]
    for r in results:
        r["x_vs_naive"] = round(r["sentences_per_s"] / a, 2)
        r["x_vs_plain"] = round(r["sentences_per_s"] / b, 2)
        r["f1_delta_vs_fp32"] = {h: round(r["macro_f1"][h] - fp32[h], 4) for h in fp32}
    return results
