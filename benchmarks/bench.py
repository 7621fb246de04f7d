"""`make bench`: every benchmark in one run on one machine; writes results/latest.json and .md.

Usage: python benchmarks/bench.py [--model DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gpu_sweep  # noqa: E402
import score_memory  # noqa: E402
import service_load  # noqa: E402
import throughput  # noqa: E402

from diplotag import paths  # noqa: E402
from diplotag.documents import classify_document, units_from_text  # noqa: E402
from diplotag.model.predictor import Predictor  # noqa: E402
from diplotag.settings import get_settings  # noqa: E402
from diplotag.text import split_sentences  # noqa: E402
from diplotag.training.data import read_jsonl  # noqa: E402
from diplotag.training.wire import article_rows  # noqa: E402

GPU_RUN = HERE / "results" / "gpu" / "gpu_sweep_cuda.md"  # written by benchmarks/gpu_run.sh on a GPU machine


def cpu_model() -> str:
    """The CPU's name and the instruction sets bf16 speed depends on (AMX tiles, AVX-512 BF16, VNNI):
    figures from machines with and without AMX differ by up to 2x and are not comparable."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                platform.machine())
    flags = [f for f in ("amx_bf16", "avx512_bf16", "avx512_vnni") if f in info]
    return f"{name} ({', '.join(flags) or 'no AMX, no AVX-512 BF16'})"


def corpus_articles() -> list[str]:
    path = HERE / "corpus" / "articles.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def article_path(model_dir: Path, home: Path, articles: list[str]) -> dict:
    """Whole articles through the service's code path (compile=auto compiles, as the service does)."""
    pred = Predictor.from_pretrained(model_dir, precision="auto", home=home, cache_size=get_settings().cache_size)
    pred.maybe_compile("auto")
    classify_document(pred, units_from_text(articles[0]))
    t0 = time.perf_counter()
    n = 0
    for a in articles:
        n += len(classify_document(pred, units_from_text(a)).sentences)
    secs = time.perf_counter() - t0
    return {"articles": len(articles), "sentences": n, "articles_per_s": round(len(articles) / secs, 2),
            "sentences_per_s": round(n / secs, 1), "compiled": pred.compiled}


def score_path(model_dir: Path, home: Path, articles: list[str]) -> dict:
    """`diplotag score`'s code path on the corpus (a JSONL of the articles), cache cold; compile=auto leaves
    an input this small eager."""
    import tempfile

    from diplotag.scoring import ScoreOptions, score_file

    pred = Predictor.from_pretrained(model_dir, precision="auto", home=home, cache_size=get_settings().cache_size)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"id": i, "text": a}, ensure_ascii=False) + "\n"
                               for i, a in enumerate(articles)), encoding="utf-8")
        pred.maybe_compile("auto", input_bytes=src.stat().st_size)
        pred.score(["Réchauffement."])
        report = score_file(pred, src, Path(tmp) / "out.jsonl", ScoreOptions(progress=False))
    return {"documents": report.documents, "sentences": report.sentences,
            "sentences_per_s": round(report.sentences / report.seconds, 1), "compiled": pred.compiled}


def update_readme(table: str, readme: Path = HERE.parent / "README.md") -> None:
    """Put the latest table between the README's bench markers (headings one level down)."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        return
    body = table.replace("# diplotag benchmarks (", "#### Latest run (", 1)
    head, rest = text.split(start, 1)
    readme.write_text(f"{head}{start}\n{body.strip()}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def targets(res: dict) -> list[str]:
    """The issue's targets against this run."""
    rows = {r["variant"]: r for r in res["throughput"]}
    c = rows["c_diplotag_default"]
    loss = max([0.0] + [-d for d in c["f1_delta_vs_fp32"].values()])
    out = ["Targets:", "",
           f"- (c) vs naive (a): {c['x_vs_naive']}× (target ≥ 6×): {'met' if c['x_vs_naive'] >= 6 else 'short'}",
           f"- (c) vs plain (b): {c['x_vs_plain']}× (target ≥ 2.5×): {'met' if c['x_vs_plain'] >= 2.5 else 'short'}",
           f"- largest macro-F1 loss of (c) against fp32: {loss:.3f} (target ≤ 0.005): "
           f"{'met' if loss <= 0.005 else 'short'}"]
    sv = res.get("service")
    if sv:
        four = next((r for r in sv["runs"] if r["batcher"] == "on" and r["clients"] == 4), None)
        if four:
            out.append(f"- service p95 at 4 clients: {four['p95_s']} s (target ≤ 0.5 s): "
                       f"{'met' if four['p95_s'] <= 0.5 else 'short'}")
        if sv.get("soak"):
            out.append(f"- 16 clients for {sv['soak'].get('seconds', 60)} s: {sv['soak']['errors']} errors (target 0): "
                       f"{'met' if sv['soak']['errors'] == 0 else 'short'}")
    return out + [""]


def markdown(res: dict) -> str:
    lines = [f"# diplotag benchmarks ({res['when']})", "", f"Machine: {res['machine']}", "",
             f"Corpus: {res['corpus']['articles']} articles, {res['corpus']['sentences']} sentences "
             f"(mean {res['corpus']['mean_words']} words); best of 3 passes; (a), (b) and (c) timed again "
             f"in alternation (3 rounds) and reported from those rounds, so their ratios see the same machine load. F1: macro-F1 on the test split "
             f"({res['test_sentences']} sentences). Changed: share of the test and wire sentences "
             f"({res['test_sentences'] + res.get('wire_sentences', 0)}) whose decision on any layer differs from plain fp32 (b).",
             "", "| variant | what | sentences/s | × naive (a) | × plain (b) | topics F1 | stance F1 | rhetoric F1 | changed |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["throughput"]:
        f = r["macro_f1"]
        ch = r.get("decisions_changed_vs_fp32")
        lines.append(f"| {r['variant']} | {r['description']} | {r['sentences_per_s']} | {r['x_vs_naive']} | "
                     f"{r['x_vs_plain']} | {f['topics']:.3f} | {f['stance']:.3f} | {f['rhetoric']:.3f} | "
                     f"{'' if ch is None else f'{100 * ch:.1f} %'} |")
    ap = res["article_path"]
    sp = res["score_path"]
    naive = next(r for r in res["throughput"] if r["variant"] == "a_naive")["sentences_per_s"]
    def how(path: dict) -> str:
        return {True: ", compiled", False: ", eager"}.get(path.get("compiled"), "")

    lines += ["", f"Article path (the service's: splitting included{how(ap)}): {ap['articles_per_s']} articles/s, "
              f"{ap['sentences_per_s']} sentences/s over {ap['articles']} articles.", "",
              f"`diplotag score` path on the corpus as JSONL (splitting, packing, JSON rows written{how(sp)}; "
              f"compile=auto compiles inputs from 8 MB): "
              f"{sp['sentences_per_s']} sentences/s, {sp['sentences_per_s'] / naive:.1f}× the naive loop (a).", ""]
    sv = res.get("service")
    if sv:
        lines += [f"Service, one {sv['article_sentences']}-sentence article per request, loopback:", "",
                  "| batcher | clients | requests | errors | req/s | p50 s | p95 s | p99 s |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in sv["runs"] + ([sv["soak"] | {"clients": f"{sv['soak']['clients']} (soak)"}] if sv.get("soak") else []):
            lines.append(f"| {r['batcher']} | {r['clients']} | {r['requests']} | {r['errors']} | {r['requests_per_s']} | "
                         f"{r['p50_s']} | {r['p95_s']} | {r['p99_s']} |")
        rss = ", ".join(f"batcher {k}: {v} MB" for k, v in sv["peak_rss_mb"].items())
        lines += ["", f"Service peak RSS under this load: {rss}.", ""]
    lines += targets(res)
    if res.get("gpu"):
        lines += [gpu_sweep.markdown(res["gpu"])]
    elif GPU_RUN.is_file():
        lines += ["GPU: none on this machine; the latest GPU run (`benchmarks/gpu_run.sh`, another machine):", "",
                  GPU_RUN.read_text(encoding="utf-8")]
    else:
        lines += ["GPU: none on this machine and no GPU run recorded yet (the CUDA path is exercised on CPU by "
                  "`benchmarks/gpu_sweep.py --device cpu`; `benchmarks/gpu_run.sh` runs it on a GPU machine).", ""]
    mem = res.get("score_memory")
    if mem:
        lines += ["`diplotag score` peak memory:", "", "| sentences | documents | peak RSS MB | seconds | sentences/s |",
                  "|---:|---:|---:|---:|---:|"]
        lines += [f"| {m['sentences']} | {m['documents']} | {m['peak_rss_mb']} | {m['seconds']} | {m['sentences_per_s']} |"
                  for m in mem]
        lines += ["", "(The large input cycles through the corpus, so repeated sentences are answered by the "
                  "bounded sentence cache: these rows measure memory, not speed.)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--render", action="store_true", help="only rewrite latest.md from latest.json")
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="shorter service runs and a smaller memory test")
    ap.add_argument("--skip-service", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    if args.render:
        res = json.loads((HERE / "results" / "latest.json").read_text(encoding="utf-8"))
        (HERE / "results" / "latest.md").write_text(markdown(res), encoding="utf-8")
        update_readme(markdown(res))
        return
    logging.basicConfig(level=logging.WARNING)
    home = get_settings().home_dir
    model_dir = args.model or paths.resolve_model_dir(None, home)
    articles = corpus_articles()
    sentences = [s.text for a in articles for s in split_sentences(a)]
    test = read_jsonl(Path("data/test.jsonl"))
    res = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads",
        "model": str(model_dir.name),
        "corpus": {"articles": len(articles), "sentences": len(sentences),
                   "mean_words": round(sum(len(s.split()) for s in sentences) / len(sentences), 1)},
        "test_sentences": len(test),
    }
    print(f"corpus: {res['corpus']}", flush=True)
    wire = [r.text for r in article_rows(Path("data/wire/articles.jsonl"))]
    res["wire_sentences"] = len(wire)
    res["throughput"] = throughput.run(model_dir, home, sentences, test, check_texts=wire)
    res["article_path"] = article_path(model_dir, home, articles)
    res["score_path"] = score_path(model_dir, home, articles)
    if not args.skip_service:
        res["service"] = service_load.run(model_dir, articles_of(articles, 25), seconds=5 if args.quick else 15,
                                          soak_seconds=15 if args.quick else 60)
    if not args.skip_memory:
        res["score_memory"] = score_memory.run(model_dir, articles, (5_000, 50_000) if args.quick else (20_000, 200_000))
    if torch.cuda.is_available():
        res["gpu"] = gpu_sweep.run(model_dir, sentences, "cuda")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = markdown(res)
    (out / "latest.md").write_text(md, encoding="utf-8")
    if not (args.quick or args.skip_service or args.skip_memory):
        update_readme(md)  # the README shows the latest complete run only
    print(md)


def articles_of(articles: list[str], n_sentences: int) -> str:
    """The corpus article whose sentence count is closest to n_sentences (the 25-sentence service probe)."""
    return min(articles, key=lambda a: abs(len(split_sentences(a)) - n_sentences))


if __name__ == "__main__":
    main()
