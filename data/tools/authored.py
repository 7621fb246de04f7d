"""Reading authored slices: the one loop that validates rows and drops repeated texts, for the data tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from diplotag.model.schema import TOPICS, validate_labels


def text_key(text: str) -> str:
    """Texts equal up to case and spacing are the same sentence."""
    return " ".join(text.lower().split())


def read_authored(path: Path, seen: set[str], taken_ids: frozenset[str] = frozenset()) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each valid row of an authored JSONL, topics in schema order.

    Exits naming file:line on invalid labels or an id in taken_ids; skips (and reports) a text
    already in seen, then adds each kept text to seen.
    """
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        problems = validate_labels(row)
        if problems:
            raise SystemExit(f"{path}:{n}: {problems}")
        if row["id"] in taken_ids:
            raise SystemExit(f"{path}:{n}: id {row['id']} is already in the data")
        key = text_key(row["text"])
        if key in seen:  # recurring boilerplate ("(Avec agences)") or a repeat: keep the first
            print(f"drop exact duplicate {path}:{n}")
            continue
        seen.add(key)
        row["topics"] = [t for t in TOPICS if t in row["topics"]]
        yield n, row
