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
    kinds = {(c["precision"], c["packing"]) for c in res["cells"]}
    assert kinds == {("fp32", "off"), ("fp32", "on"), ("bf16", "off"), ("bf16", "on")}  # no fp16 on CPU
    for cell in res["cells"]:
        assert cell["sentences"] == 40 and cell["sentences_per_s"] > 0
        if cell["packing"] == "off":  # the synchronised split is of padded batches
            assert cell["tokenizer_s"] >= 0 and cell["forward_s"] > 0 and cell["batch_and_copy_s"] >= 0
    table = gpu_sweep.markdown(res)
    assert table.count("\n| fp32 |") + table.count("\n| bf16 |") == len(res["cells"])
    assert table.count("| packed |") == sum(c["packing"] == "on" for c in res["cells"])


def test_quality_compares_each_precision_with_cpu_fp32(tiny_model, mini_data):
    from diplotag.training.data import read_jsonl

    rows = read_jsonl(mini_data / "test.jsonl")
    res = gpu_sweep.quality(tiny_model, rows, SENTENCES, device="cpu")
    assert [q["precision"] for q in res] == ["fp32 (cpu, reference)", "fp32 (cpu)", "fp32 (cpu, packed)",
                                             "bf16 (cpu)", "bf16 (cpu, packed)"]
    assert res[1]["decisions_changed_vs_cpu_fp32"] == 0.0 and res[1]["max_probability_diff"] == 0.0
    assert res[2]["decisions_changed_vs_cpu_fp32"] == 0.0 and res[2]["max_probability_diff"] < 1e-5
    assert res[3]["sentences"] == len(rows) + len(SENTENCES) and 0 < res[3]["max_probability_diff"] < 0.1
    assert set(res[3]["macro_f1"]) == {"topics", "stance", "rhetoric"}
    assert "| bf16 (cpu) |" in gpu_sweep.markdown({"device": "cpu", "sentences": 0, "cells": [], "quality": res})
