"""The shipped default model on the real e5-small base: assembles, passes its probe, names tampering."""

from __future__ import annotations

import json
import shutil

import pytest
from safetensors.torch import load_file, save_file

from diplotag.errors import ModelUnavailableError
from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.default_model import SHIPPED, assemble_shipped, shipped_available

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assembled(tmp_path_factory):
    assert shipped_available(), f"no shipped default model in {SHIPPED}"
    home = tmp_path_factory.mktemp("home")
    target = assemble_shipped(home / "models" / "default", home)
    return home, target


def test_shipped_model_is_small(assembled):
    size = sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file())
    assert size < 20e6, f"shipped model is {size / 1e6:.1f} MB"


def test_probe_passes_on_the_real_default_model(assembled):
    home, target = assembled
    model, tok = DiplotagClassifier.from_pretrained(target, home=home)
    assert model.config.base_encoder == "e5-small"
    assert len(json.loads((target / "probe.json").read_text())["sentences"]) == 50


def test_probe_names_a_wrong_tokenizer(assembled, tmp_path):
    home, target = assembled
    d = tmp_path / "m"
    shutil.copytree(target, d)
    tok = json.loads((d / "tokenizer" / "tokenizer.json").read_text())
    tok["normalizer"] = {"type": "Lowercase"}
    (d / "tokenizer" / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(ModelUnavailableError, match="wrong tokenizer"):
        DiplotagClassifier.from_pretrained(d, home=home)


def test_probe_names_a_wrong_adapter(assembled, tmp_path):
    home, target = assembled
    d = tmp_path / "m"
    shutil.copytree(target, d)
    path = d / "adapter" / "adapter_model.safetensors"
    weights = load_file(str(path))
    for k in list(weights)[:8]:
        weights[k] = weights[k] * 3.0
    save_file(weights, str(path))
    with pytest.raises(ModelUnavailableError, match="wrong adapter"):
        DiplotagClassifier.from_pretrained(d, home=home)


def test_compiled_bf16_default_model_keeps_the_probe_decisions(assembled):
    """The service's default on AMX CPUs: bf16, compiled. It must keep the decisions of fp32."""
    import numpy as np

    from diplotag.model.predictor import Predictor, same_decisions

    home, target = assembled
    texts = json.loads((target / "probe.json").read_text())["sentences"]
    fp32 = Predictor.from_pretrained(target, device="cpu", precision="fp32", home=home).score(texts)
    pred = Predictor.from_pretrained(target, device="cpu", precision="bf16", home=home)
    assert pred.maybe_compile("on") is True
    got = pred.score(texts)
    assert same_decisions(fp32, got, pred.config.topic_thresholds).mean() >= 0.96
    assert np.abs(got.stance - fp32.stance).max() < 0.1
