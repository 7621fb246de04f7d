"""`diplotag score`: stream documents in, packed length-sorted batches through the Predictor, rows out.

Nothing lost, nothing twice: rows go to a hidden partial JSON Lines file, flushed chunk by
chunk, and the output appears (renamed, or converted to Parquet) only when the run completes.
`resume` keeps the complete rows of an interrupted run and skips their ids. Rows that cannot
be scored go to OUTPUT.errors.jsonl with their line number and reason.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from diplotag.documents import assemble, model_inputs, units_from_sentences, units_from_text
from diplotag.errors import BadInputError
from diplotag.model.predictor import Predictor
from diplotag.readers import Record, count_rows, read_records
from diplotag.text import Span

log = logging.getLogger(__name__)
OUTPUT_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def dumps(obj: Any) -> str:
    """The same compact JSON the service sends."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass
class ScoreOptions:
    id_field: str = "id"
    text_field: str = "text"
    sentences_field: str = "sentences"
    per_sentence: bool = False
    resume: bool = False
    chunk_sentences: int | None = None  # sentences scored per Predictor call; None: 32 batches' worth (>= 1024)
    include_text: bool = True
    progress: bool = True


@dataclass
class ScoreReport:
    documents: int = 0
    sentences: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    output: Path | None = None
    errors_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def partial_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial.jsonl")


def errors_path(output: Path) -> Path:
    return output.with_name(output.name + ".errors.jsonl")


def completed_ids(partial: Path) -> set[str]:
    """Ids of the complete rows of an interrupted run; a torn last line is cut off."""
    done: set[str] = set()
    if not partial.is_file():
        return done
    good = 0
    with partial.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                done.add(str(json.loads(raw)["id"]))
            except (json.JSONDecodeError, KeyError, UnicodeDecodeError):
                break
            good += len(raw)
    with partial.open("r+b") as f:
        f.truncate(good)
    return done


def _document_units(rec: Record, opts: ScoreOptions) -> tuple[str, list[Span]] | str:
    """(id, units) or the reason this row cannot be scored."""
    data = rec.data or {}
    raw_id = data.get(opts.id_field)
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        return f"missing id (field {opts.id_field!r})"
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        return f"id must be a string or an integer, got {type(raw_id).__name__}"
    doc_id = str(raw_id)
    sentences = data.get(opts.sentences_field)
    text = data.get(opts.text_field)
    if sentences is not None and text is None:
        if isinstance(sentences, str):
            try:
                sentences = json.loads(sentences)  # CSV cells hold JSON lists
            except json.JSONDecodeError:
                return f"field {opts.sentences_field!r} must be a list of strings"
        if not isinstance(sentences, list) or not sentences or not all(isinstance(s, str) and s.strip() for s in sentences):
            return f"field {opts.sentences_field!r} must be a non-empty list of non-empty strings"
        return doc_id, units_from_sentences(sentences)
    if not isinstance(text, str):
        return f"field {opts.text_field!r} must be a string" if text is not None else f"missing text (field {opts.text_field!r})"
    units = units_from_text(text)
    if not units:
        return "empty text"
    return doc_id, units


def _rows(predictor: Predictor, docs: list[tuple[str, list[Span]]], opts: ScoreOptions) -> Iterator[dict[str, Any]]:
    flat = [t for _, units in docs for t in model_inputs(units)]
    scores = predictor.score(flat)
    start = 0
    for doc_id, units in docs:
        end = start + len(units)
        result = assemble(predictor, scores.slice(start, end), units, include_text=opts.include_text)
        start = end
        body = result.model_dump(exclude_none=True)
        if opts.per_sentence:
            for s in body["sentences"]:
                yield {"id": doc_id, **s}
        else:
            yield {"id": doc_id, **body}


def score_file(predictor: Predictor, input_path: Path, output: Path, opts: ScoreOptions) -> ScoreReport:
    out_fmt = OUTPUT_FORMATS.get(output.suffix.lower())
    if out_fmt is None:
        raise BadInputError(f"{output}: unsupported output type {output.suffix!r} (use .jsonl or .parquet)")
    if not input_path.is_file():
        raise BadInputError(f"input file not found: {input_path}")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial, err_path = partial_path(output), errors_path(output)
    done = completed_ids(partial) if opts.resume else set()
    if not opts.resume and partial.exists():
        partial.unlink()
    report = ScoreReport(skipped=0, errors_file=err_path)
    total = count_rows(input_path)
    t0 = time.perf_counter()
    seen: set[str] = set()
    pending: list[tuple[str, list[Span]]] = []
    pending_sentences = 0
    chunk = opts.chunk_sentences or max(1024, 32 * predictor.batch_size)
    with partial.open("a", encoding="utf-8") as out, err_path.open("w", encoding="utf-8") as errs, \
            tqdm(total=total, unit="doc", disable=not opts.progress, mininterval=1.0) as bar:

        def flush() -> None:
            nonlocal pending, pending_sentences
            if not pending:
                return
            for row in _rows(predictor, pending, opts):
                out.write(dumps(row) + "\n")
            out.flush()
            os.fsync(out.fileno())
            report.documents += len(pending)
            report.sentences += pending_sentences
            bar.update(len(pending))
            elapsed = time.perf_counter() - t0
            bar.set_postfix(docs_s=f"{report.documents / elapsed:.1f}", sent_s=f"{report.sentences / elapsed:.0f}")
            pending, pending_sentences = [], 0

        for rec in read_records(input_path):
            reason = rec.error
            parsed = None if reason else _document_units(rec, opts)
            if isinstance(parsed, str):
                reason = parsed
            if reason is None:
                doc_id, units = parsed
                if doc_id in seen:
                    reason = f"duplicate id {doc_id!r}"
                else:
                    seen.add(doc_id)
                    if doc_id in done:
                        report.skipped += 1
                        bar.update(1)
                        continue
                    pending.append((doc_id, units))
                    pending_sentences += len(units)
                    if pending_sentences >= chunk:
                        flush()
                    continue
            report.errors += 1
            raw_id = (rec.data or {}).get(opts.id_field)
            errs.write(dumps({"line": rec.line, "id": None if raw_id is None else str(raw_id), "reason": reason}) + "\n")
            bar.update(1)
        flush()
    _finish(partial, output, out_fmt, opts.per_sentence)
    if report.errors == 0:
        err_path.unlink(missing_ok=True)
        report.errors_file = None
    report.seconds = time.perf_counter() - t0
    report.output = output
    return report


def _finish(partial: Path, output: Path, fmt: str, per_sentence: bool) -> None:
    if fmt == "jsonl":
        os.replace(partial, output)
        return
    from diplotag.parquet_rows import jsonl_to_parquet

    tmp = output.with_name(f".{output.name}.tmp")
    jsonl_to_parquet(partial, tmp, per_sentence)
    os.replace(tmp, output)
    partial.unlink()
