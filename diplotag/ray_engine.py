"""`diplotag score --engine ray`: the same job on Ray Data, for collections beyond one machine.

read_json/read_csv/read_parquet → map_batches(DocumentScorer) on an actor pool of `workers`
(each actor holds the model; one GPU each when the cluster has GPUs) → write_parquet.
Rows are byte-for-byte the single-process engine's rows (same Predictor, same assembly).
Point it at a cluster with --ray-address ray://HEAD:10001 (or RAY_ADDRESS); without one it
starts a local Ray instance.
"""

from __future__ import annotations

import logging
from pathlib import Path

from diplotag.errors import BadInputError
from diplotag.readers import Record, input_format
from diplotag.scoring import ScoreOptions, ScoreReport, _document_units, _rows, dumps

log = logging.getLogger(__name__)


class DocumentScorer:
    """A Ray actor: loads the model once, scores batches of documents."""

    def __init__(self, model_dir: str, opts: ScoreOptions, device: str, precision: str, home: str | None,
                 threads: int, compile: str = "off", input_bytes: int | None = None) -> None:
        import torch

        from diplotag.model.predictor import Predictor

        torch.set_num_threads(max(1, threads))
        self.opts = opts
        self.predictor = Predictor.from_pretrained(Path(model_dir), device=device, precision=precision,
                                                   home=Path(home) if home else None, cache_size=10_000)
        self.predictor.maybe_compile(compile, input_bytes=input_bytes)

    def __call__(self, batch):
        import pyarrow as pa

        from diplotag.parquet_rows import DOCUMENT_ROW, SENTENCE_ROW

        schema = SENTENCE_ROW if self.opts.per_sentence else DOCUMENT_ROW
        schema = schema.append(pa.field("error", pa.string()))
        good, out = [], []
        for row in batch.to_pylist():
            parsed = _document_units(Record(0, row), self.opts)
            if isinstance(parsed, str):
                raw_id = row.get(self.opts.id_field)
                out.append({"id": None if raw_id is None else str(raw_id), "error": parsed})
            else:
                good.append(parsed)
        if good:
            out.extend(_rows(self.predictor, good, self.opts))
        return pa.Table.from_pylist(out, schema=schema)


def score_with_ray(model_dir: Path, input_path: Path, output: Path, opts: ScoreOptions, workers: int = 1,
                   address: str | None = None, device: str = "auto", precision: str = "auto",
                   home: Path | None = None, batch_documents: int = 64, compile: str = "auto") -> ScoreReport:
    try:
        import ray
    except ImportError as exc:
        raise BadInputError("the ray engine needs Ray: pip install 'diplotag[ray]'") from exc
    import time

    import torch

    fmt = input_format(input_path)
    if not input_path.is_file():
        raise BadInputError(f"input file not found: {input_path}")
    if output.suffix.lower() in (".jsonl", ".json"):
        raise BadInputError("the ray engine writes Parquet: give an output directory (e.g. out.parquet/)")
    t0 = time.perf_counter()
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING)
    readers = {"jsonl": ray.data.read_json, "csv": ray.data.read_csv, "parquet": ray.data.read_parquet}
    # Reads are light: a quarter CPU each, so they never starve the actors of a small machine.
    ds = readers[fmt](str(input_path), ray_remote_args={"num_cpus": 0.25})
    gpus = 1 if torch.cuda.is_available() else 0
    total_cpus = float(ray.cluster_resources().get("CPU", 1))
    actor_cpus = max(0.25, (total_cpus - 0.5) / max(workers, 1))
    scored = ds.map_batches(
        DocumentScorer, batch_format="pyarrow", batch_size=batch_documents, concurrency=workers, num_gpus=gpus,
        num_cpus=actor_cpus,
        fn_constructor_kwargs={"model_dir": str(model_dir), "opts": opts, "device": "cuda" if gpus else device,
                               "precision": precision, "home": str(home) if home else None,
                               "threads": max(1, int(actor_cpus)), "compile": compile,
                               "input_bytes": input_path.stat().st_size},
    ).materialize()
    errors = scored.filter(lambda r: r["error"] is not None).select_columns(["id", "error"]).take_all()
    ok = scored.filter(lambda r: r["error"] is None).drop_columns(["error"])
    output.mkdir(parents=True, exist_ok=True)
    ok.write_parquet(str(output))
    report = ScoreReport(documents=ok.count(), errors=len(errors), output=output)
    if errors:
        err_path = output.with_name(output.name.rstrip("/") + ".errors.jsonl")
        with err_path.open("w", encoding="utf-8") as f:
            for e in errors:
                f.write(dumps({"line": None, "id": e["id"], "reason": e["error"]}) + "\n")
        report.errors_file = err_path
    report.seconds = time.perf_counter() - t0
    return report




