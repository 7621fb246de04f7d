"""Labelled JSONL: loading with file:line validation, splits and a data fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from diplotag.errors import DataFileError
from diplotag.model.schema import DEFAULT_SCHEMA, LabelSchema, validate_labels

SPLITS = ("train", "dev", "test")
MAX_CHARS = 2000


@dataclass
class Row:
    text: str
    topics: list[str]
    stance: str
    rhetoric: str
    id: str | None = None
    source: str | None = None
    line: int = 0


def read_jsonl(path: str | Path, schema: LabelSchema = DEFAULT_SCHEMA) -> list[Row]:
    """Read and validate every line; raise DataFileError listing each problem as file:line."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: file not found")
    rows: list[Row] = []
    problems: list[str] = []
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc})") from exc
    for lineno, raw in enumerate(raw_bytes.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{path}:{lineno}: not valid UTF-8")
            continue
        try:
            obj: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{path}:{lineno}: expected a JSON object")
            continue
        issues = validate_labels(obj, schema)
        if isinstance(obj.get("text"), str) and len(obj["text"]) > MAX_CHARS:
            issues.append(f"text longer than {MAX_CHARS} characters")
        if issues:
            problems.extend(f"{path}:{lineno}: {p}" for p in issues)
            continue
        rows.append(Row(text=obj["text"], topics=list(obj["topics"]), stance=obj["stance"],
                        rhetoric=obj["rhetoric"], id=None if obj.get("id") is None else str(obj["id"]),
                        source=obj.get("source"), line=lineno))
    if problems:
        raise DataFileError(problems)
    if not rows:
        raise DataFileError(f"{path}: no labelled rows")
    return rows


def to_dataset(rows: list[Row], schema: LabelSchema = DEFAULT_SCHEMA) -> Dataset:
    """A datasets.Dataset with label indices: topics as a multi-hot vector."""
    return Dataset.from_dict({
        "text": [r.text for r in rows],
        "topics": [[float(t in r.topics) for t in schema.topics] for r in rows],
        "stance": [schema.stance.index(r.stance) for r in rows],
        "rhetoric": [schema.rhetoric.index(r.rhetoric) for r in rows],
    })


def label_arrays(rows: list[Row], schema: LabelSchema = DEFAULT_SCHEMA) -> dict[str, np.ndarray]:
    return {
        "topics": np.array([[int(t in r.topics) for t in schema.topics] for r in rows], dtype=np.int64),
        "stance": np.array([schema.stance.index(r.stance) for r in rows], dtype=np.int64),
        "rhetoric": np.array([schema.rhetoric.index(r.rhetoric) for r in rows], dtype=np.int64),
    }


def split_paths(data_dir: str | Path) -> dict[str, Path]:
    data_dir = Path(data_dir)
    return {s: data_dir / f"{s}.jsonl" for s in SPLITS}


def fingerprint(*row_lists: list[Row]) -> str:
    """A stable hash of texts and labels (order-sensitive), to tie a model to its data."""
    h = hashlib.sha256()
    for rows in row_lists:
        for r in rows:
            h.update(json.dumps([r.text, sorted(r.topics), r.stance, r.rhetoric], ensure_ascii=False).encode())
        h.update(b"\x00")
    return "sha256:" + h.hexdigest()[:16]
