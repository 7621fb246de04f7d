"""compile=auto/on/off: when the encoder is compiled, that it tracks eager, and that every failure stays eager."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from diplotag.errors import BadInputError
from diplotag.model import compiled
from diplotag.model.predictor import Predictor

TEXTS = [
    "La Chine s'oppose fermement aux sanctions unilatérales.",
    "Les deux pays renforceront leur coopération agricole.",
    "L'entretien s'est tenu mardi.",
    "Kiev appelle ses partenaires à livrer davantage de défense antiaérienne, a déclaré le ministre ce matin.",
]
CPU = torch.device("cpu")


@pytest.mark.parametrize(("setting", "device", "dtype", "size", "expected"), [
    ("auto", CPU, torch.bfloat16, None, True),  # a service: long-running
    ("auto", CPU, torch.bfloat16, compiled.AUTO_MIN_INPUT_BYTES, True),
    ("auto", CPU, torch.bfloat16, compiled.AUTO_MIN_INPUT_BYTES - 1, False),  # a small batch job
    ("auto", CPU, torch.float32, None, False),
    ("auto", torch.device("cuda"), torch.float16, None, False),
    ("auto", CPU, None, None, False),  # int8
    ("on", CPU, torch.float32, 10, True),
    ("off", CPU, torch.bfloat16, None, False),
])
def test_wanted(setting, device, dtype, size, expected):
    assert compiled.wanted(setting, device, dtype, size) is expected


def test_unknown_setting_is_a_bad_input():
    with pytest.raises(BadInputError, match="auto, on or off"):
        compiled.wanted("yes", CPU, torch.bfloat16)


def test_pair_padded_runs_one_row_as_two():
    seen = []

    def fake(ids, mask):
        seen.append(tuple(ids.shape))
        return {"topics": ids.float()[:, :2] + mask[:, :2]}

    eager = torch.nn.Linear(1, 1)
    eager.config = None
    wrapped = compiled.PairPadded(fake, eager)
    out = wrapped(torch.tensor([[5, 6, 7]]), torch.tensor([[1, 1, 1]]))
    assert seen == [(2, 3)] and out["topics"].tolist() == [[6.0, 7.0]]
    wrapped(torch.ones(3, 4, dtype=torch.long), torch.ones(3, 4, dtype=torch.long))
    assert seen[-1] == (3, 4)


def _eager_scores(tiny_model, packing: str = "auto"):
    return Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing=packing).score(TEXTS)


def test_no_compiler_stays_eager_and_says_why(tiny_model, monkeypatch, caplog):
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    with caplog.at_level(logging.WARNING, logger="diplotag.model.compiled"):
        assert pred.maybe_compile("on") is False
    assert not pred.compiled and "no C++ compiler" in caplog.text
    assert np.array_equal(pred.score(TEXTS).stance, _eager_scores(tiny_model).stance)


def test_compilation_error_stays_eager(tiny_model, monkeypatch, caplog):
    def broken(model, **kwargs):
        def run(*args):
            raise RuntimeError("inductor exploded\nlong traceback")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    with caplog.at_level(logging.WARNING, logger="diplotag.model.compiled"):
        assert pred.maybe_compile("on") is False
    assert "compilation failed: inductor exploded" in caplog.text and "traceback" not in caplog.text
    assert np.array_equal(pred.score(TEXTS).topics, _eager_scores(tiny_model).topics)


def test_compiled_model_that_disagrees_is_undone(tiny_model, monkeypatch, caplog):
    def wrong(model, **kwargs):
        def run(ids, mask):
            out = model(ids, mask)
            return {k: -v for k, v in out.items()}  # every decision flips
        return run

    monkeypatch.setattr(torch, "compile", wrong)
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing="off")
    with caplog.at_level(logging.WARNING, logger="diplotag.model.compiled"):
        assert pred.maybe_compile("on") is False
    assert "matches eager decisions on only" in caplog.text
    assert np.array_equal(pred.score(TEXTS).rhetoric, _eager_scores(tiny_model, packing="off").rhetoric)


@pytest.mark.parametrize("packing", ["on", "off"])
def test_real_compilation_tracks_eager_with_one_graph(tiny_model, packing):
    """Packed rows (the encoder compiled) and padded batches (the classifier compiled) alike."""
    from torch._dynamo.utils import counters

    if compiled.unavailable_reason(CPU, torch.float32):
        pytest.skip(compiled.unavailable_reason(CPU, torch.float32))

    eager = _eager_scores(tiny_model)
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing=packing)
    graphs = counters["stats"]["unique_graphs"]
    assert pred.maybe_compile("on") is True and pred.compiled and pred.packing == (packing == "on")
    got = pred.score(TEXTS)
    pred.score(TEXTS[:1])
    pred.score(TEXTS * 9)
    assert counters["stats"]["unique_graphs"] - graphs == 1  # one dynamic graph for every batch shape
    for head in ("topics", "stance", "rhetoric"):
        assert np.abs(getattr(got, head) - getattr(eager, head)).max() < 1e-3
