"""Peak memory of `diplotag score` on a small and a 200,000-sentence input: flat, not growing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from diplotag.text import split_sentences


def make_input(path: Path, articles: list[str], target_sentences: int) -> int:
    """Documents cycling through the corpus with unique ids until the sentence count is reached."""
    counts = [len(split_sentences(a)) for a in articles]
    total = i = 0
    with path.open("w", encoding="utf-8") as f:
        while total < target_sentences:
            k = i % len(articles)
            f.write(json.dumps({"id": f"doc-{i}", "text": articles[k]}, ensure_ascii=False) + "\n")
            total += counts[k]
            i += 1
    return total


def peak_rss_of(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Run a command; return (peak RSS MB, seconds, exit code).

    The peak is the child's own VmHWM, polled from /proc (ru_maxrss would carry over the forking
    parent's size across exec).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0.0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    return peak, time.perf_counter() - t0, proc.returncode


def run(model_dir: Path, articles: list[str], sizes: tuple[int, ...] = (20_000, 200_000)) -> list[dict]:
    out = []
    env = {**os.environ, "DIPLOTAG_MODEL": str(model_dir)}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            src = Path(tmp) / f"in-{size}.jsonl"
            n = make_input(src, articles, size)
            dest = Path(tmp) / f"out-{size}.jsonl"
            rss, secs, code = peak_rss_of([sys.executable, "-m", "diplotag.cli", "score", str(src), "-o", str(dest),
                                           "--no-progress", "--no-text"], env)
            rows = sum(1 for _ in dest.open()) if dest.exists() else 0
            out.append({"sentences": n, "documents": rows, "peak_rss_mb": round(rss, 1), "seconds": round(secs, 1),
                        "sentences_per_s": round(n / secs, 1), "exit_code": code})
            print(f"score {n} sentences: {out[-1]}", flush=True)
    return out
