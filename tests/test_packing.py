"""Sequence packing: the plan, the tensors, and that packed sentences score as they do alone (padded)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from diplotag.errors import BadInputError
from diplotag.model import packing
from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.predictor import Predictor, max_difference

TEXTS = [
    "La Chine s'oppose fermement aux sanctions unilatérales.",
    "Les deux pays renforceront leur coopération agricole.",
    "L'entretien s'est tenu mardi.",
    "Kiev appelle ses partenaires à livrer davantage de défense antiaérienne, a déclaré le ministre ce matin.",
    "Oui.",
    "Le porte-parole a rappelé que la souveraineté et l'intégrité territoriale de tous les pays doivent être "
    "respectées, que les principes de la Charte des Nations unies doivent être observés et que les "
    "préoccupations légitimes de sécurité de tous les pays doivent être prises au sérieux.",
] * 3


def test_best_fit_decreasing_rows():
    # 100 opens a row (28 free), 60 another (68 free); 30 goes to the 68, 28 fills the first row, 20 the second
    assert packing.plan_rows([100, 60, 30, 28, 20], 128) == [[0, 3], [1, 2, 4]]


def test_a_sentence_longer_than_a_row_gets_its_own():
    assert packing.plan_rows([200, 10, 10], 64) == [[0], [1, 2]]


@pytest.mark.parametrize("seed", range(5))
def test_plan_places_every_sentence_once_within_the_limits(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 129, size=int(rng.integers(1, 400))).tolist()
    batches = packing.plan_packed(lengths, row_tokens=128, batch_tokens=2048)
    placed = sorted(i for rows in batches for row in rows for i in row)
    assert placed == list(range(len(lengths)))
    for rows in batches:
        widths = [sum(lengths[i] for i in row) for row in rows]
        assert max(widths) <= 128
        assert len(rows) == 1 or max(widths) * len(rows) <= 2048
    if len(lengths) >= 50:  # best fit leaves little room: rows are on average well filled
        assert sum(lengths) / (128 * sum(len(rows) for rows in batches)) > 0.85


def test_build_batch_positions_segments_and_padding():
    ids = [[0, 11, 12, 2], [0, 13, 2], [0, 14, 15, 16, 2]]
    batch = packing.build_batch([[2, 1], [0]], ids, pad=1, offset=2)
    assert batch.input_ids.tolist() == [[0, 14, 15, 16, 2, 0, 13, 2], [0, 11, 12, 2, 1, 1, 1, 1]]
    assert batch.position_ids.tolist() == [[2, 3, 4, 5, 6, 2, 3, 4], [2, 3, 4, 5, 2, 2, 2, 2]]
    assert batch.segments.tolist() == [[0, 0, 0, 0, 0, 1, 1, 1], [2, 2, 2, 2, -1, -1, -1, -1]]
    assert batch.sentences.tolist() == [2, 1, 0]


def test_pool_averages_each_sentence_and_skips_padding():
    hidden = torch.arange(12, dtype=torch.float32).reshape(1, 6, 2)
    segments = torch.tensor([[0, 0, 1, 1, 1, -1]])
    assert packing.pool(hidden, segments, 2).tolist() == [[1.0, 2.0], [6.0, 7.0]]


@pytest.mark.parametrize(("model_type", "pad", "expected"), [
    ("bert", 0, 0), ("camembert", 1, 2), ("xlm-roberta", 1, 2), ("roberta", 1, 2), ("distilbert", 0, None)])
def test_position_offset(model_type, pad, expected):
    encoder = SimpleNamespace(config=SimpleNamespace(model_type=model_type, pad_token_id=pad))
    assert packing.position_offset(encoder) == expected


def _classifier(base, weights):
    torch.manual_seed(3)
    model, tok = DiplotagClassifier.from_base(str(base), max_length=48, weights=weights)
    for head in model.heads().values():  # heads with weight, so that the probabilities spread
        torch.nn.init.normal_(head.weight, std=0.3)
    return model, tok


@pytest.mark.parametrize(("base", "weights"), [("tiny_bert", "lora"), ("tiny_bert", "full"),
                                               ("tiny_camembert", "full")])
def test_packed_scores_match_padded(request, base, weights):
    """Positions restart per sentence (from 0 for BERT, from padding + 1 for CamemBERT) and no token
    sees another sentence: fp32 probabilities agree with the padded path, the truncated sentence included."""
    model, tok = _classifier(request.getfixturevalue(base), weights)
    padded = Predictor(model, tok, device="cpu", precision="fp32", packing="off")
    assert not padded.packing
    want = padded.score(TEXTS)
    packed = Predictor(model, tok, device="cpu", precision="fp32", packing="on")
    assert packed.packing
    for row_tokens in (packing.ROW_TOKENS, 48, 16):  # one row; several; every sentence alone
        packed.row_tokens = row_tokens
        got = packed.score(TEXTS)
        assert max_difference(got, want) < 1e-5
        assert got.truncated.tolist() == want.truncated.tolist() and got.truncated.any()
    assert np.ptp(want.stance[:, 0]) > 0.01  # spread 1,000 times the tolerance: not saturated


def test_packing_auto_is_on_for_cpu_and_off_setting_keeps_padded_batches(tiny_model):
    assert Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32").packing
    assert not Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing="off").packing


def test_unknown_packing_setting_is_a_bad_input(tiny_model):
    with pytest.raises(BadInputError, match="auto, on or off"):
        Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing="yes")


def test_encoder_without_position_ids_stays_padded(tiny_model, monkeypatch, caplog):
    monkeypatch.setattr(packing, "POSITIONS_FROM_ZERO", ())
    with caplog.at_level(logging.WARNING, logger="diplotag.model.predictor"):
        pred = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32", packing="on")
    assert not pred.packing and "packing: off" in caplog.text
    assert len(pred.score(TEXTS)) == len(TEXTS)
