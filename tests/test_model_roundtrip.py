from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from diplotag.errors import ModelUnavailableError
from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.predictor import Predictor
from diplotag.model.schema import RHETORIC, STANCES, TOPICS
from diplotag.training.pipeline import Splits, train_and_save
from diplotag.training.trainer import TrainConfig

SENTENCES = ["Pékin appelle Kiev et Moscou à reprendre les pourparlers.",
             "La coopérative laitière inaugure une fromagerie.",
             "Minsk dénonce les nouvelles restrictions."]


def test_model_directory_contents(tiny_model):
    for name in ("config.json", "heads.safetensors", "adapter/adapter_config.json",
                 "adapter/adapter_model.safetensors", "tokenizer/tokenizer.json", "metrics.json", "README.md"):
        assert (tiny_model / name).is_file(), name
    cfg = json.loads((tiny_model / "config.json").read_text())
    assert cfg["schema_version"] == "1"
    assert cfg["id2label"]["topics"] == {str(i): t for i, t in enumerate(TOPICS)}
    assert cfg["id2label"]["stance"]["1"] == "against"
    assert len(cfg["topic_thresholds"]) == 4
    assert cfg["max_length"] == 64
    card = (tiny_model / "README.md").read_text()
    assert "baseline" in card and "macro-F1" in card


def test_predictions_are_probabilities(tiny_model):
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    out = pred.predict(SENTENCES)
    assert [p.index for p in out] == [0, 1, 2]
    for p in out:
        assert set(p.topics) == set(TOPICS)
        assert all(0.0 <= v <= 1.0 for v in p.topics.values())
        assert p.stance.label in STANCES and p.rhetoric.label in RHETORIC
        assert abs(sum(p.stance.probabilities.values()) - 1) < 1e-4
        assert abs(sum(p.rhetoric.probabilities.values()) - 1) < 1e-4
        assert p.stance.label == max(p.stance.probabilities, key=p.stance.probabilities.get)


def test_reload_gives_identical_outputs(tiny_model, tmp_path):
    a = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32").score(SENTENCES)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    b = Predictor.from_pretrained(copy, device="cpu", precision="fp32").score(SENTENCES)
    np.testing.assert_allclose(a.topics, b.topics, atol=1e-6)
    np.testing.assert_allclose(a.rhetoric, b.rhetoric, atol=1e-6)


def test_batching_and_order_do_not_change_scores(tiny_model):
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    texts = SENTENCES * 5 + ["Court.", "Une phrase nettement plus longue que les autres, avec des virgules et des mots."]
    one = pred.score(texts, batch_size=1)
    many = pred.score(texts, batch_size=7)
    np.testing.assert_allclose(one.topics, many.topics, atol=1e-5)
    np.testing.assert_allclose(one.stance, many.stance, atol=1e-5)


def test_truncation_is_flagged(tiny_model):
    pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    long = " ".join(["la coopération agricole entre les deux pays"] * 30)
    scores = pred.score(["Court.", long])
    assert scores.truncated.tolist() == [False, True]


def test_bf16_stays_close_to_fp32(tiny_model):
    texts = SENTENCES * 2
    a = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32").score(texts)
    b = Predictor.from_pretrained(tiny_model, device="cpu", precision="bf16").score(texts)
    assert np.max(np.abs(a.topics - b.topics)) < 0.05
    assert np.max(np.abs(a.stance - b.stance)) < 0.05


@pytest.mark.parametrize("broken", ["config", "heads", "adapter", "schema", "corrupt-heads", "tokenizer"])
def test_broken_directories_fail_clearly(tiny_model, tmp_path, broken):
    d = tmp_path / "m"
    shutil.copytree(tiny_model, d)
    expect = {"config": "config.json", "heads": "heads.safetensors", "adapter": "adapter",
              "schema": "schema version", "corrupt-heads": "heads.safetensors", "tokenizer": "tokenizer"}[broken]
    if broken == "config":
        (d / "config.json").unlink()
    elif broken == "heads":
        (d / "heads.safetensors").unlink()
    elif broken == "adapter":
        shutil.rmtree(d / "adapter")
    elif broken == "schema":
        cfg = json.loads((d / "config.json").read_text())
        cfg["schema_version"] = "2"
        (d / "config.json").write_text(json.dumps(cfg))
    elif broken == "corrupt-heads":
        (d / "heads.safetensors").write_bytes(b"not a safetensors file")
    elif broken == "tokenizer":
        (d / "tokenizer" / "tokenizer_config.json").unlink()
    with pytest.raises(ModelUnavailableError, match=expect):
        DiplotagClassifier.from_pretrained(d)


def test_missing_directory(tmp_path):
    with pytest.raises(ModelUnavailableError, match="not found"):
        DiplotagClassifier.from_pretrained(tmp_path / "nope")


def test_tiny_camembert_trains_saves_loads_predicts(tiny_camembert, mini_data, tmp_path):
    """The real CamemBERT path (a local directory) works exactly like the default."""
    cfg = TrainConfig(base=str(tiny_camembert), epochs=1, batch_size=8, max_length=32, device="cpu",
                      precision="fp32", progress=False, lora_r=4, lora_alpha=8)
    out, metrics = train_and_save(cfg, Splits.load(mini_data), tmp_path / "cam", version="1")
    assert set(metrics["test"]["model"]) >= {"topics", "stance", "rhetoric"}
    cfg_json = json.loads((out / "config.json").read_text())
    assert cfg_json["base_encoder"] == str(tiny_camembert)
    model, tok = DiplotagClassifier.from_pretrained(out)
    assert model.encoder.config.model_type == "camembert"
    pred = Predictor(model, tok, device="cpu", precision="fp32")
    a = pred.score(SENTENCES)
    b = Predictor.from_pretrained(out, device="cpu", precision="fp32").score(SENTENCES)
    np.testing.assert_allclose(a.stance, b.stance, atol=1e-6)


def test_camembert_registry_names_resolve_to_hub_ids():
    from diplotag.model.base_encoders import resolve_base

    assert resolve_base("camembert-base") == "almanach/camembert-base"
    assert resolve_base("camembertav2-base") == "almanach/camembertav2-base"


def test_cache_returns_the_same_scores(tiny_model):
    plain = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")
    cached = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", cache_size=3)
    texts = SENTENCES + SENTENCES[:2] + ["Une autre phrase.", SENTENCES[0]]
    a = plain.score(texts)
    for _ in range(2):  # second round partly from the cache, with evictions (size 3)
        b = cached.score(texts)
        np.testing.assert_allclose(a.topics, b.topics, atol=1e-6)
        np.testing.assert_allclose(a.rhetoric, b.rhetoric, atol=1e-6)
        assert a.truncated.tolist() == b.truncated.tolist()
    assert len(cached._cache) == 3
    assert len(cached.score([])) == 0


def test_plan_batches_covers_every_sentence_once_within_limits():
    from diplotag.model.predictor import WIDTH_RATIO, WIDTH_SLACK, plan_batches

    rng = np.random.default_rng(3)
    lengths = [int(x) for x in rng.integers(3, 120, size=500)]
    batches = plan_batches(lengths, 32)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(500))
    for b in batches:
        widths = [lengths[i] for i in b]
        assert len(b) <= 32
        assert len(b) == 1 or (len(b) * max(widths) <= 32 * 32 and max(widths) <= WIDTH_RATIO * min(widths) + WIDTH_SLACK)
    # one article's worth of mixed lengths is cut into several batches, not padded to its longest
    assert len(plan_batches([10, 12, 14, 30, 33, 60, 64, 90], 32)) >= 3
    assert plan_batches([], 32) == []
