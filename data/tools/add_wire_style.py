"""Append authored wire-style training articles to train/dev, split by article (never by sentence).

The articles are disjoint from the wire test set (other events, written without seeing it);
`diplotag data check` then verifies that no sentence is a near-duplicate of a held-out one.
Usage: python data/tools/add_wire_style.py data/raw/wiretrain/*.jsonl --out data --dev-per-file 2
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from authored import read_authored, text_key

FIELDS = ("id", "text", "topics", "stance", "rhetoric", "source", "article")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("data"))
    ap.add_argument("--dev-per-file", type=int, default=2, help="articles of each input file that go to dev")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    held = [json.loads(line) for split in ("train", "dev", "test")
            for line in (args.out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    taken_ids = frozenset(r["id"] for r in held)
    seen = {text_key(r["text"]) for r in held}
    out: dict[str, list[dict]] = {"train": [], "dev": []}
    for path in args.inputs:
        articles: dict[str, list[dict]] = defaultdict(list)
        for _, row in read_authored(path, seen, taken_ids):
            articles[row["article"]].append({k: row[k] for k in FIELDS})
        names = sorted(articles)
        dev = set(rng.sample(names, args.dev_per_file))
        for name in names:
            out["dev" if name in dev else "train"].extend(articles[name])
    for split, rows in out.items():
        with (args.out / f"{split}.jsonl").open("a", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{split}: +{len(rows)} sentences from {len({r['article'] for r in rows})} articles")


if __name__ == "__main__":
    main()
