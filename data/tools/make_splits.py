"""Merge the authored slices into train/dev/test (80/10/10), stratified on labels.

Sentences whose token Jaccard exceeds 0.6 are kept in the same split (union-find), so no
near-duplicates cross splits; exact and > 0.8 near-duplicates are dropped (first one kept).
Usage: python data/tools/make_splits.py data/raw/*.jsonl --out data
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from authored import read_authored

from diplotag.training.datacheck import near_duplicates, tokens

FIELDS = ("id", "text", "topics", "stance", "rhetoric", "source", "note")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("data"))
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()

    rows: list[dict] = []
    seen: set[str] = set()
    for path in args.inputs:
        for _, row in read_authored(path, seen):
            rows.append({k: row[k] for k in FIELDS if k in row})

    items = [(r["id"], tokens(r["text"])) for r in rows]
    drop = {j for i, j, _ in near_duplicates(items, 0.8)}
    for j in sorted(drop):
        print(f"drop near-duplicate {rows[j]['id']}")
    parent = list(range(len(rows)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in near_duplicates(items, 0.6):
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        if i not in drop:
            groups[find(i)].append(i)

    rng = random.Random(args.seed)
    strata: dict[str, list[list[int]]] = defaultdict(list)
    for members in groups.values():
        r = rows[members[0]]
        strata["+".join(r["topics"]) + "|" + r["rhetoric"]].append(members)
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for key in sorted(strata):
        bucket = strata[key]
        rng.shuffle(bucket)
        for k, members in enumerate(bucket):
            slot = k % 10
            name = "dev" if slot == 3 else "test" if slot == 7 else "train"
            splits[name] += [rows[i] for i in members]
    for name, part in splits.items():
        rng.shuffle(part)
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for r in part:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{name}: {len(part)}")


if __name__ == "__main__":
    main()
