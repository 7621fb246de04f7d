"""Cohen's kappa between the first annotation and the independent second one (420 sentences).

With --wire-style: the wire-style training articles (every sentence labelled by its author) against
their blind second annotation (agreement/wire_style_second_annotation.jsonl). train/dev hold the
adjudicated labels; the author's labels of the 42 disagreements are kept in
agreement/wire_style_adjudication.jsonl ("first"), so the table is the agreement before adjudication.

data/agreement/first_annotation.jsonl holds the sample's labels as first written (frozen before
adjudication); second_annotation.jsonl the independent labels; adjudication.jsonl every
disagreement with its final labels.
Usage: python data/tools/agreement.py   (prints a Markdown table)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score, f1_score

from diplotag.model.schema import TOPICS

DATA = Path(__file__).resolve().parents[1]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def table(first: dict[str, dict], second: list[dict]) -> None:
    ids = [r["id"] for r in second]
    print("| layer | Cohen's kappa | raw agreement | positives (first / second) |\n|---|---:|---:|---:|")
    for t in TOPICS:
        a = [t in first[i]["topics"] for i in ids]
        b = [t in r["topics"] for r in second]
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
        print(f"| topic: {t} | {cohen_kappa_score(a, b):.3f} | {agree:.1%} | {sum(a)} / {sum(b)} |")
    for head in ("stance", "rhetoric"):
        a = [first[i][head] for i in ids]
        b = [r[head] for r in second]
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
        print(f"| {head} | {cohen_kappa_score(a, b):.3f} | {agree:.1%} | – |")
    whole = sum(set(first[i]["topics"]) == set(r["topics"]) and first[i]["stance"] == r["stance"]
                and first[i]["rhetoric"] == r["rhetoric"] for i, r in zip(ids, second, strict=True))
    print(f"\nidentical on all three layers: {whole} of {len(ids)} ({whole / len(ids):.1%})")


def human_f1(annotation: list[dict], name: str) -> None:
    """Macro-F1 of one annotation against the final (adjudicated) labels: a human reference point
    for the model's macro-F1 (biased upwards, since adjudication kept many of these labels)."""
    final = {r["id"]: r for split in ("train", "dev", "test") for r in load(DATA / f"{split}.jsonl")}
    rows = [r for r in annotation if r["id"] in final]
    f1 = {"topics": f1_score([[t in final[r["id"]]["topics"] for t in TOPICS] for r in rows],
                             [[t in r["topics"] for t in TOPICS] for r in rows], average="macro")}
    for head in ("stance", "rhetoric"):
        f1[head] = f1_score([final[r["id"]][head] for r in rows], [r[head] for r in rows], average="macro")
    print(f"macro-F1 of the {name} against the final labels ({len(rows)} sentences): "
          + ", ".join(f"{h} {v:.3f}" for h, v in f1.items()))


def main() -> None:
    if sys.argv[1:] == ["--wire-style"]:
        rows = [r for split in ("train", "dev") for r in load(DATA / f"{split}.jsonl") if r.get("source") == "wire-style"]
        adjudicated = {r["id"]: r for r in load(DATA / "agreement" / "wire_style_adjudication.jsonl")}
        author = {r["id"]: adjudicated[r["id"]]["first"] if r["id"] in adjudicated else r for r in rows}
        table(author, load(DATA / "agreement" / "wire_style_second_annotation.jsonl"))
        summary(adjudicated)
        human_f1(load(DATA / "agreement" / "wire_style_second_annotation.jsonl"), "second annotation")
        return
    first = {r["id"]: r for r in load(DATA / "agreement" / "first_annotation.jsonl")}
    second = load(DATA / "agreement" / "second_annotation.jsonl")
    adjudicated = {r["id"]: r for r in load(DATA / "agreement" / "adjudication.jsonl")}
    table(first, second)
    ids = [r["id"] for r in second]
    print(f"\n{len(ids)} sentences double-annotated.")
    summary(adjudicated)
    human_f1(list(first.values()), "first annotation")
    human_f1(second, "second annotation")


def summary(adjudicated: dict[str, dict]) -> None:
    kept = [r["kept"] for r in adjudicated.values()]
    print(f"{len(adjudicated)} disagreed on at least one layer; adjudication kept the first annotation "
          f"{kept.count('A')} times, the second {kept.count('B')} times, a mix {kept.count('mixed') + kept.count('mix')} times.")


if __name__ == "__main__":
    main()
