from __future__ import annotations

import json
import shutil

import pytest
from safetensors.torch import load_file, save_file
from tiny import build_tiny_bert

from diplotag.errors import ModelUnavailableError
from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.probe import PROBE_FILE


def copy(tiny_model, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model, d)
    return d


def test_probe_is_written_and_passes(tiny_model):
    probe = json.loads((tiny_model / PROBE_FILE).read_text())
    assert len(probe["sentences"]) == 12  # the mini test split has 12 sentences (50 on real data)
    DiplotagClassifier.from_pretrained(tiny_model)


def test_wrong_heads_are_named(tiny_model, tmp_path):
    d = copy(tiny_model, tmp_path)
    heads = load_file(str(d / "heads.safetensors"))
    heads["stance.bias"][0] += 2.0  # a uniform shift would leave the softmax unchanged
    save_file(heads, str(d / "heads.safetensors"))
    with pytest.raises(ModelUnavailableError, match="wrong adapter or heads"):
        DiplotagClassifier.from_pretrained(d)
    DiplotagClassifier.from_pretrained(d, check=False)  # the check can be skipped explicitly


def test_wrong_base_is_named(tiny_model, tmp_path):
    d = copy(tiny_model, tmp_path)
    other = build_tiny_bert(tmp_path / "other-base", seed=7)
    cfg = json.loads((d / "config.json").read_text())
    cfg["base_encoder"] = str(other)
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelUnavailableError, match="wrong base encoder"):
        DiplotagClassifier.from_pretrained(d)


def test_wrong_tokenizer_is_named(tiny_model, tmp_path):
    d = copy(tiny_model, tmp_path)
    tok = json.loads((d / "tokenizer" / "tokenizer.json").read_text())
    tok["normalizer"] = {"type": "Lowercase"}
    (d / "tokenizer" / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(ModelUnavailableError, match="wrong tokenizer"):
        DiplotagClassifier.from_pretrained(d)
