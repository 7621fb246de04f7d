"""Arrow schemas of the batch rows, and a streaming JSON Lines → Parquet conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from diplotag.model.schema import RHETORIC, STANCES, TOPICS


def _label_score(values: tuple[str, ...]) -> pa.DataType:
    return pa.struct([("label", pa.string()), ("probabilities", pa.struct([(v, pa.float64()) for v in values]))])


SENTENCE_FIELDS = [
    ("index", pa.int32()), ("text", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
    ("topics", pa.struct([(t, pa.float64()) for t in TOPICS])), ("labels", pa.list_(pa.string())),
    ("stance", _label_score(STANCES)), ("rhetoric", _label_score(RHETORIC)), ("truncated", pa.bool_()),
]
DOCUMENT = pa.struct([
    ("sentences", pa.int32()),
    ("topics", pa.struct([(t, pa.struct([("share", pa.float64()), ("max_probability", pa.float64())])) for t in TOPICS])),
    ("stance", pa.struct([(s, pa.int32()) for s in STANCES])),
    ("rhetoric", pa.struct([(r, pa.int32()) for r in RHETORIC])),
])
MODEL = pa.struct([("name", pa.string()), ("version", pa.string()), ("schema_version", pa.string())])
DOCUMENT_ROW = pa.schema([("id", pa.string()), ("model", MODEL), ("sentences", pa.list_(pa.struct(SENTENCE_FIELDS))),
                          ("document", DOCUMENT)])
SENTENCE_ROW = pa.schema([("id", pa.string()), *SENTENCE_FIELDS])


def jsonl_to_parquet(src: Path, dest: Path, per_sentence: bool, rows_per_group: int = 2000) -> None:
    schema = SENTENCE_ROW if per_sentence else DOCUMENT_ROW
    with pq.ParquetWriter(dest, schema) as writer, src.open("r", encoding="utf-8") as f:
        buf: list[dict] = []
        for line in f:
            buf.append(json.loads(line))
            if len(buf) >= rows_per_group:
                writer.write_table(pa.Table.from_pylist(buf, schema=schema))
                buf = []
        if buf:
            writer.write_table(pa.Table.from_pylist(buf, schema=schema))
