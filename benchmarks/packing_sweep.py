"""Packing's two settings, side by side: row width (tokens per encoder row) x tokens per batch.

One Predictor (the default model, precision=auto, compiled as the service runs it unless --eager; cache
off) scores the bench corpus and one 25-sentence article under each setting, and padded batches
(packing off) as the reference; the settings are timed in alternation, best of --rounds, so that they see
the same machine load. Writes results/packing_sweep.md. The defaults in model/packing.py and
model/predictor.py (ROW_TOKENS, PACKED_TOKENS_PER_SENTENCE) come from this table.

Usage: python benchmarks/packing_sweep.py [--model DIR] [--eager] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import articles_of, corpus_articles, cpu_model  # noqa: E402

from diplotag import paths  # noqa: E402
from diplotag.model.predictor import PACKED_TOKENS_PER_SENTENCE, Predictor  # noqa: E402
from diplotag.settings import get_settings  # noqa: E402
from diplotag.text import split_sentences  # noqa: E402

ROWS = (64, 96, 128, 192)
BATCH_TOKENS = (2048, 4096, 8192)


def timed(fn, texts: list[str], repeats: int) -> float:
    """Seconds of the fastest of `repeats` calls."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return best


def run(model_dir: Path, home: Path, compile_: bool, rounds: int) -> dict:
    articles = corpus_articles()
    corpus = [s.text for a in articles for s in split_sentences(a)]
    article = [s.text for s in split_sentences(articles_of(articles, 25))]
    packed = Predictor.from_pretrained(model_dir, precision="auto", home=home, packing="on")
    padded = Predictor.from_pretrained(model_dir, precision="auto", home=home, packing="off")
    for p in (packed, padded):
        if compile_:
            p.maybe_compile("on")
        p.score(corpus)  # warm-up: every batch shape of the corpus seen once
    settings = [(r, b) for r in ROWS for b in BATCH_TOKENS]
    best: dict = {}
    for _ in range(rounds):
        for key in [("padded", None), *settings]:
            if key[0] == "padded":
                pred = padded
            else:
                pred = packed
                packed.row_tokens = key[0]
                packed.batch_size = key[1] // PACKED_TOKENS_PER_SENTENCE
            corpus_s = timed(pred.score, corpus, 1)
            article_s = timed(pred.score, article, 5)
            old = best.get(key, (0.0, float("inf")))
            best[key] = (max(old[0], len(corpus) / corpus_s), min(old[1], article_s))
    return {"machine": cpu_model(), "precision": packed.precision, "compiled": packed.compiled,
            "corpus_sentences": len(corpus), "article_sentences": len(article), "rounds": rounds,
            "rows": [{"row_tokens": k[0], "batch_tokens": k[1], "sentences_per_s": round(v[0], 1),
                      "article_ms": round(1000 * v[1], 1)} for k, v in best.items()]}


def markdown(res: dict) -> str:
    ref = next(r for r in res["rows"] if r["row_tokens"] == "padded")
    lines = ["# Packing settings", "", f"Machine: {res['machine']}; {res['precision']}, "
             f"{'compiled' if res['compiled'] else 'eager'}; bench corpus ({res['corpus_sentences']} sentences) and one "
             f"{res['article_sentences']}-sentence article; best of {res['rounds']} alternating rounds.", "",
             "| row tokens | batch tokens | corpus sentences/s | × padded | article ms | × padded |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        what = "padded (packing off)" if r["row_tokens"] == "padded" else r["row_tokens"]
        lines.append(f"| {what} | {r['batch_tokens'] or '32 sentences'} | {r['sentences_per_s']} | "
                     f"{r['sentences_per_s'] / ref['sentences_per_s']:.2f} | {r['article_ms']} | "
                     f"{ref['article_ms'] / r['article_ms']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--eager", action="store_true", help="do not compile")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    home = get_settings().home_dir
    res = run(args.model or paths.resolve_model_dir(None, home), home, not args.eager, args.rounds)
    md = markdown(res)
    out = HERE / "results" / ("packing_sweep_eager.md" if args.eager else "packing_sweep.md")
    out.write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
