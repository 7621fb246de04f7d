"""precision=int8: the ONNX Runtime path is built once per model directory, tracks fp32, and fails clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from diplotag.errors import BadInputError, ModelUnavailableError
from diplotag.model import onnx_int8
from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.predictor import Predictor

TEXTS = [
    "La Chine s'oppose fermement aux sanctions unilatérales.",
    "Les deux pays renforceront leur coopération agricole.",
    "L'entretien s'est tenu mardi.",
    "Kiev appelle ses partenaires à livrer davantage de défense antiaérienne, a déclaré le ministre ce matin.",
]


@pytest.fixture()
def model_copy(tiny_model, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_model, tmp_path / "model"))


def test_int8_is_built_once_and_tracks_fp32(model_copy):
    fp32 = Predictor.from_pretrained(model_copy, device="cpu", precision="fp32").score(TEXTS)
    pred = Predictor.from_pretrained(model_copy, device="cpu", precision="int8")
    assert pred.precision == "int8" and pred.runtime == "onnxruntime"
    path = onnx_int8.int8_path(model_copy)
    assert path is not None and path.stat().st_size > 0
    built = path.stat().st_mtime_ns
    got = pred.score(TEXTS)
    for head in ("topics", "stance", "rhetoric"):
        assert getattr(got, head).shape == getattr(fp32, head).shape
        assert np.abs(getattr(got, head) - getattr(fp32, head)).max() < 0.05
    assert np.allclose(got.stance.sum(1), 1, atol=1e-5)
    again = Predictor.from_pretrained(model_copy, device="cpu", precision="int8")
    assert onnx_int8.int8_path(model_copy).stat().st_mtime_ns == built  # reused, not rebuilt
    assert np.array_equal(again.score(TEXTS).topics, got.topics)


def test_a_changed_model_invalidates_the_int8_file(model_copy):
    Predictor.from_pretrained(model_copy, device="cpu", precision="int8")
    assert onnx_int8.int8_path(model_copy) is not None
    heads = model_copy / "heads.safetensors"
    heads.write_bytes(heads.read_bytes() + b" ")
    assert onnx_int8.int8_path(model_copy) is None


def test_auto_never_picks_int8(model_copy):
    pred = Predictor.from_pretrained(model_copy, device="cpu", precision="auto")
    assert pred.precision in ("bfloat16", "float32") and pred.runtime == "torch"
    assert not (model_copy / onnx_int8.ONNX_DIR).exists()


def test_int8_errors_are_clear(model_copy, monkeypatch):
    model, tok = DiplotagClassifier.from_pretrained(model_copy)
    with pytest.raises(BadInputError, match="needs a model directory"):
        Predictor(model, tok, device="cpu", precision="int8")
    monkeypatch.setattr(onnx_int8, "runtime_available", lambda: False)
    with pytest.raises(ModelUnavailableError, match="pip install onnxruntime"):
        Predictor(model, tok, device="cpu", precision="int8", model_dir=model_copy)


def test_unwritable_directory_is_a_clear_error(model_copy, monkeypatch):
    def fail(*_args, **_kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(onnx_int8, "build_int8", fail)
    with pytest.raises(ModelUnavailableError, match="cannot build or open"):
        Predictor.from_pretrained(model_copy, device="cpu", precision="int8")
