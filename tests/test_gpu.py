"""The CUDA path: Predictor, batch scoring and the service on a GPU, against CPU fp32.

Marked `gpu` and kept out of the default run (CI has no GPU); benchmarks/gpu_run.sh runs them on a
GPU machine with `pytest -m gpu`. The last test needs the real default model built in DIPLOTAG_HOME.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from diplotag.model.predictor import GPU_BATCH_SIZE, Predictor, Scores, same_decisions

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (pytest -m gpu on one)")]

TEXTS = ["Les deux pays renforceront leur coopération économique.", "Moscou dénonce les sanctions occidentales.",
         "L'entretien s'est tenu mardi à Pékin, a indiqué le ministère des Affaires étrangères.",
         "Kiev appelle ses partenaires à livrer davantage de défense antiaérienne."] * 40


def test_auto_picks_cuda_fp16_and_gpu_batches(tiny_model):
    pred = Predictor.from_pretrained(tiny_model)
    assert pred.device.type == "cuda" and pred.precision == "float16" and pred.batch_size == GPU_BATCH_SIZE
    assert next(pred.model.parameters()).is_cuda


@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_cuda_scores_match_cpu_fp32(tiny_model, precision):
    ref = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32").score(TEXTS)
    got = Predictor.from_pretrained(tiny_model, device="cuda", precision=precision).score(TEXTS)
    tol = {"fp32": 1e-4, "fp16": 5e-3, "bf16": 3e-2}[precision]
    for head in ("topics", "stance", "rhetoric"):
        np.testing.assert_allclose(getattr(got, head), getattr(ref, head), atol=tol)
    # the same sentence in another batch position scores the same
    np.testing.assert_allclose(got.topics[0], got.topics[4], atol=tol)


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_packed_batches_on_cuda_match_cpu_fp32(tiny_model, precision):
    """packing=on (off by default on a GPU until gpu_sweep shows it wins there) gives the same scores."""
    ref = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing="off").score(TEXTS)
    pred = Predictor.from_pretrained(tiny_model, device="cuda", precision=precision, packing="on")
    assert pred.packing and not Predictor.from_pretrained(tiny_model, device="cuda").packing
    got = pred.score(TEXTS)
    tol = {"fp32": 1e-4, "fp16": 5e-3}[precision]
    for head in ("topics", "stance", "rhetoric"):
        np.testing.assert_allclose(getattr(got, head), getattr(ref, head), atol=tol)


def test_score_file_on_cuda_equals_cpu(tiny_model, tmp_path):
    from diplotag.scoring import ScoreOptions, score_file

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": " ".join(TEXTS[i:i + 5])}) + "\n" for i in range(60)),
                   encoding="utf-8")
    rows = {}
    for device in ("cpu", "cuda"):
        pred = Predictor.from_pretrained(tiny_model, device=device, precision="fp32")
        out = tmp_path / f"{device}.jsonl"
        report = score_file(pred, src, out, ScoreOptions(progress=False))
        assert report.errors == 0 and report.documents == 60
        rows[device] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows["cpu"]] == [r["id"] for r in rows["cuda"]]
    for a, b in zip(rows["cpu"], rows["cuda"], strict=True):
        assert [s["labels"] for s in a["sentences"]] == [s["labels"] for s in b["sentences"]]
        for sa, sb in zip(a["sentences"], b["sentences"], strict=True):
            assert abs(sa["stance"]["probabilities"]["favor"] - sb["stance"]["probabilities"]["favor"]) < 1e-4


def test_service_serves_on_cuda(make_client):
    client = make_client(device="auto", precision="auto")
    info = client.get("/v1/model").json()
    assert info["device"].startswith("cuda") and info["precision"] == "float16"
    r = client.post("/v1/classify", json={"text": " ".join(TEXTS[:4])})
    assert r.status_code == 200 and len(r.json()["sentences"]) == 4


def test_default_model_on_cuda_keeps_the_probe_decisions():
    """The real default model (built by make model in DIPLOTAG_HOME) in fp16 on the GPU against its probe."""
    home = Path(os.environ.get("DIPLOTAG_GPU_MODEL_HOME", ".home"))
    model_dir = home / "models" / "default"
    if not (model_dir / "probe.json").is_file():
        pytest.fail(f"no default model in {model_dir}: run make model (or set DIPLOTAG_GPU_MODEL_HOME)")
    probe = json.loads((model_dir / "probe.json").read_text(encoding="utf-8"))
    pred = Predictor.from_pretrained(model_dir, device="cuda", precision="auto", home=home)
    got = pred.score(probe["sentences"])
    ref = Scores(*(np.asarray(probe["expected"][h], dtype=np.float32) for h in ("topics", "stance", "rhetoric")),
                 got.truncated)
    agree = same_decisions(got, ref, pred.config.topic_thresholds).mean()
    assert agree >= 0.96, f"fp16 on GPU keeps {agree:.0%} of the probe decisions"
    assert max(float(np.abs(getattr(got, h) - getattr(ref, h)).max()) for h in ("topics", "stance", "rhetoric")) < 0.05
