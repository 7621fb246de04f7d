"""The GPU sweep's code path (benchmarks/gpu_sweep.py), exercised on CPU with the tiny model."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu_sweep  # noqa: E402

SENTENCES = ["Les deux pays renforceront leur coopération.", "Moscou dénonce les sanctions.",
             "L'entretien s'est tenu mardi à Pékin, a indiqué le ministère."]


def test_sweep_times_every_step_on_cpu(tiny_model):
    res = gpu_sweep.run(tiny_model, SENTENCES, device="cpu", n_sentences=40, batch_sizes=(4, 8, 16))
    assert res["device"] == "cpu" and res["sentences"] == 40
    precisions = {c["precision"] for c in res["cells"]}
    assert precisions == {"fp32", "bf16"}  # fp16 is skipped on CPU
    for cell in res["cells"]:
        assert cell["sentences"] == 40 and cell["sentences_per_s"] > 0
        assert cell["tokenizer_s"] >= 0 and cell["forward_s"] > 0 and cell["batch_and_copy_s"] >= 0
    table = gpu_sweep.markdown(res)
    assert table.count("\n| fp32 |") + table.count("\n| bf16 |") == len(res["cells"])
