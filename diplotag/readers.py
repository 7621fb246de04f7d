"""Streaming readers for batch input: JSON Lines, CSV and Parquet, one document a row."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diplotag.errors import BadInputError

FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
           ".pq": "parquet"}


@dataclass
class Record:
    line: int  # 1-based line (JSONL/CSV data line) or row number (Parquet)
    data: dict[str, Any] | None
    error: str | None = None


def input_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInputError(f"{path}: unsupported input type {path.suffix!r} (use .jsonl, .csv or .parquet)")
    return fmt


def count_rows(path: Path) -> int | None:
    fmt = input_format(path)
    if fmt == "parquet":
        return _open_parquet(path).metadata.num_rows
    with path.open("rb") as f:
        n = sum(1 for line in f if line.strip())
    return n - 1 if fmt == "csv" else n


def read_records(path: Path, batch_rows: int = 1024) -> Iterator[Record]:
    if not path.is_file():
        raise BadInputError(f"input file not found: {path}")
    fmt = input_format(path)
    if fmt == "jsonl":
        yield from _jsonl(path)
    elif fmt == "csv":
        yield from _csv(path)
    else:
        yield from _parquet(path, batch_rows)


def _jsonl(path: Path) -> Iterator[Record]:
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield Record(n, None, "line is not valid UTF-8")
                continue
            except json.JSONDecodeError as exc:
                yield Record(n, None, f"invalid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                yield Record(n, None, "expected a JSON object")
                continue
            yield Record(n, obj)


def _csv(path: Path) -> Iterator[Record]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as f:
        try:
            reader = csv.DictReader(f)
            if reader.fieldnames is None:
                raise BadInputError(f"{path}: empty CSV file (no header)")
            for row in reader:
                line = reader.line_num
                if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
                    yield Record(line, None, "line is not valid UTF-8")
                    continue
                if None in row:
                    yield Record(line, None, "more fields than the header")
                    continue
                yield Record(line, dict(row))
        except csv.Error as exc:
            raise BadInputError(f"{path}: malformed CSV ({exc})") from exc


def _has_surrogates(s: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in s)


def _parquet(path: Path, batch_rows: int) -> Iterator[Record]:
    n = 0
    for batch in _open_parquet(path).iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            n += 1
            yield Record(n, row)


def _open_parquet(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInputError(f"{path}: not a readable Parquet file ({exc})") from exc
