"""Sequence packing: several sentences share one row of the encoder's input, each attending only to itself.

Padded batches spend compute on padding and, on a CPU, run many small matrix products (a 25-sentence
article became five batches of 1-8 sentences). Packing puts the sentences, longest first, into rows of at
most `row_tokens` tokens (best fit), and rows into batches of at most `batch_tokens` tokens. A
block-diagonal attention mask keeps the sentences of a row apart and the position ids restart at each
sentence, so every sentence is encoded as it would be alone: in fp32 the probabilities match the padded
path to about 1e-5 (tests/test_packing.py). Mean pooling then averages each sentence's own tokens
(special tokens included, as in training).

Only encoders whose embeddings take explicit position ids are packed (BERT: positions from 0;
RoBERTa/CamemBERT/XLM-R: from the padding index + 1); any other keeps padded batches.
Measured on 2-core AMX CPUs, bf16, compiled (benchmarks/): +40-50 % sentences/s on the bench corpus and
about half the time for one 25-sentence article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

# Tokens per encoder row (benchmarks/packing_sweep.py: rows of 64-128 tokens were the fastest on the bench
# corpus; wider rows spend more on masked-out attention). Tokens per batch: the Predictor's
# PACKED_TOKENS_PER_SENTENCE times its batch size.
ROW_TOKENS = 128

POSITIONS_FROM_ZERO = ("bert",)
POSITIONS_AFTER_PADDING = ("roberta", "camembert", "xlm-roberta")


def position_offset(encoder: nn.Module) -> int | None:
    """The first position id of a sentence for this encoder, or None when it cannot be packed."""
    config = getattr(encoder, "config", None)
    model_type = getattr(config, "model_type", None)
    if model_type in POSITIONS_FROM_ZERO:
        return 0
    if model_type in POSITIONS_AFTER_PADDING and getattr(config, "pad_token_id", None) is not None:
        return int(config.pad_token_id) + 1
    return None


@dataclass
class PackedBatch:
    input_ids: torch.Tensor  # [B, W]
    position_ids: torch.Tensor  # [B, W]
    segments: torch.Tensor  # [B, W]: slot of the sentence each token belongs to; -1 on padding
    sentences: np.ndarray  # [n]: input index of the sentence in each slot


def plan_rows(lengths: Sequence[int], row_tokens: int) -> list[list[int]]:
    """Sentence indices per row: longest first, each into the open row with the least room that fits it
    (best-fit decreasing). A sentence longer than row_tokens gets a row of its own."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    rows: list[list[int]] = []
    room: list[int] = []
    by_room: list[list[int]] = [[] for _ in range(row_tokens + 1)]  # free tokens -> open rows
    for i in order:
        n = lengths[i]
        row = next((by_room[free].pop() for free in range(min(n, row_tokens + 1), row_tokens + 1)
                    if by_room[free]), None)
        if row is None:
            row = len(rows)
            rows.append([])
            room.append(max(row_tokens, n))
        rows[row].append(i)
        room[row] -= n
        if room[row] > 0:
            by_room[room[row]].append(row)
    return rows


def plan_packed(lengths: Sequence[int], row_tokens: int, batch_tokens: int) -> list[list[list[int]]]:
    """Rows grouped into batches of at most batch_tokens tokens (widest rows first, so each batch's
    first row sets its width and rows of similar width go together)."""
    rows = plan_rows(lengths, row_tokens)
    widths = [sum(lengths[i] for i in r) for r in rows]
    order = sorted(range(len(rows)), key=lambda r: -widths[r])
    batches: list[list[list[int]]] = []
    for r in order:
        if batches and widths[batches[-1][0]] * (len(batches[-1]) + 1) <= batch_tokens:
            batches[-1].append(r)
        else:
            batches.append([r])
    return [[rows[r] for r in batch] for batch in batches]


def build_batch(rows: Sequence[Sequence[int]], ids: Sequence[Sequence[int]], pad: int, offset: int) -> PackedBatch:
    """The tensors of one packed batch; rows hold indices into ids (token id lists)."""
    width = max(sum(len(ids[i]) for i in r) for r in rows)
    input_ids = np.full((len(rows), width), pad, dtype=np.int64)
    positions = np.full((len(rows), width), offset, dtype=np.int64)
    segments = np.full((len(rows), width), -1, dtype=np.int64)
    sentences = []
    for b, row in enumerate(rows):
        at = 0
        for i in row:
            n = len(ids[i])
            input_ids[b, at: at + n] = ids[i]
            positions[b, at: at + n] = np.arange(offset, offset + n)
            segments[b, at: at + n] = len(sentences)
            sentences.append(i)
            at += n
    return PackedBatch(torch.from_numpy(input_ids), torch.from_numpy(positions), torch.from_numpy(segments),
                       np.asarray(sentences, dtype=np.int64))


class PackedEncoder(nn.Module):
    """The encoder over packed rows: a token attends to the tokens of its own sentence only (padding
    attends to padding, so no row of the softmax is empty)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
        dtype = next(self.encoder.parameters()).dtype
        same = segments[:, None, :, None] == segments[:, None, None, :]
        bias = torch.zeros(same.shape, dtype=dtype, device=segments.device).masked_fill(~same, torch.finfo(dtype).min)
        return self.encoder(input_ids=input_ids, attention_mask=bias, position_ids=position_ids).last_hidden_state


def pool(hidden: torch.Tensor, segments: torch.Tensor, n: int) -> torch.Tensor:
    """[n, H] float32: the mean of each sentence's token states (segments as in PackedBatch)."""
    flat = hidden.reshape(-1, hidden.shape[-1]).float()
    seg = segments.reshape(-1)
    keep = seg >= 0
    seg = seg[keep]
    sums = torch.zeros((n, flat.shape[1]), dtype=torch.float32, device=hidden.device).index_add_(0, seg, flat[keep])
    counts = torch.bincount(seg, minlength=n).clamp(min=1).unsqueeze(1)
    return sums / counts
