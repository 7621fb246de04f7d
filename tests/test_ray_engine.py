"""The Ray engine on a local Ray instance gives the single-process engine's rows."""

from __future__ import annotations

import json

import pytest

from diplotag.model.predictor import Predictor
from diplotag.ray_engine import score_with_ray
from diplotag.scoring import ScoreOptions, score_file

pytestmark = pytest.mark.slow  # `make test-slow` installs the ray extra first


def test_ray_rows_equal_local_rows(tiny_model, tmp_path):
    import ray

    docs = [{"id": f"d{i}", "text": f"Minsk dénonce l'embargo numéro {i}. Kiev appelle à la paix. Le sommet s'ouvre."}
            for i in range(30)] + [{"id": "bad", "text": "   "}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    local_out = tmp_path / "local.parquet"
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    score_file(pred, src, local_out, ScoreOptions(progress=False))
    ray_out = tmp_path / "ray.parquet"
    try:
        report = score_with_ray(tiny_model, src, ray_out, ScoreOptions(progress=False), workers=2, device="cpu",
                                precision="fp32")
    finally:
        ray.shutdown()
    assert report.documents == 30 and report.errors == 1
    import pyarrow.parquet as pq

    local = sorted(pq.read_table(local_out).to_pylist(), key=lambda r: r["id"])
    remote = sorted(pq.read_table(ray_out).to_pylist(), key=lambda r: r["id"])
    assert [r["id"] for r in remote] == [r["id"] for r in local]
    for a, b in zip(local, remote, strict=True):
        assert a["document"] == b["document"]
        assert [s["labels"] for s in a["sentences"]] == [s["labels"] for s in b["sentences"]]
        for sa, sb in zip(a["sentences"], b["sentences"], strict=True):
            assert (sa["start"], sa["end"], sa["text"]) == (sb["start"], sb["end"], sb["text"])
            for t, p in sa["topics"].items():
                assert abs(p - sb["topics"][t]) < 1e-5
    errors = [json.loads(line) for line in (tmp_path / "ray.parquet.errors.jsonl").read_text().splitlines()]
    assert errors == [{"line": None, "id": "bad", "reason": "empty text"}]
