"""The one inference path: length-sorted batches, tokenizer, encoder, heads, thresholds."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.device import select_device, select_dtype
from diplotag.model.outputs import LabelScore, SentencePrediction
from diplotag.model.packing import (
    ROW_TOKENS,
    PackedEncoder,
    build_batch,
    plan_packed,
    pool,
    position_offset,
)

log = logging.getLogger(__name__)


@dataclass
class Scores:
    """Probabilities for n sentences, in input order."""

    topics: np.ndarray  # [n, T] sigmoid
    stance: np.ndarray  # [n, S] softmax (temperature-scaled)
    rhetoric: np.ndarray  # [n, R] softmax (temperature-scaled)
    truncated: np.ndarray  # [n] bool

    def __len__(self) -> int:
        return len(self.truncated)

    def slice(self, start: int, end: int) -> Scores:
        return Scores(self.topics[start:end], self.stance[start:end], self.rhetoric[start:end],
                      self.truncated[start:end])


def max_difference(a: Scores, b: Scores) -> float:
    """The largest absolute probability difference between a and b over the three heads."""
    return max(float(np.max(np.abs(getattr(a, h) - getattr(b, h)))) for h in ("topics", "stance", "rhetoric"))


def same_decisions(a: Scores, b: Scores, thresholds: Sequence[float]) -> np.ndarray:
    """Per sentence: True when a and b agree on every topic (at its threshold), on stance and on rhetoric."""
    th = np.asarray(thresholds)
    same = ((a.topics >= th) == (b.topics >= th)).all(axis=1)
    return same & (a.stance.argmax(1) == b.stance.argmax(1)) & (a.rhetoric.argmax(1) == b.rhetoric.argmax(1))


class Predictor:
    """Wraps a loaded classifier for inference on CPU or GPU."""

    def __init__(self, model: DiplotagClassifier, tokenizer: PreTrainedTokenizerBase,
                 device: str = "auto", precision: str = "auto", batch_size: int | None = None,
                 cache_size: int = 0, model_dir: Path | None = None, packing: str = "auto") -> None:
        """precision: auto (fp16 on GPU, bf16 on CPUs that compute it natively, else fp32), fp32, bf16, fp16
        (GPU) or int8 (CPU, ONNX Runtime, built on first use into model_dir/onnx/). int8 is opt-in: it is
        the fastest CPU variant but moves some sentences' decisions (benchmarks/results).
        batch_size: sentences per forward batch; None picks the device's (CPU_BATCH_SIZE, GPU_BATCH_SIZE).
        packing: auto (on CPU), on or off: several sentences per encoder row (model/packing.py); packed
        batches hold up to batch_size * PACKED_TOKENS_PER_SENTENCE tokens."""
        self.device = select_device(device)
        self.tokenizer = tokenizer
        self.config = model.config
        self.batch_size = batch_size or (GPU_BATCH_SIZE if self.device.type == "cuda" else CPU_BATCH_SIZE)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = OrderedDict()
        self._lock = threading.Lock()
        self.runtime = "torch"
        self.model_dir = model_dir
        self.compiled = False
        self.packed: nn.Module | None = None  # the encoder over packed rows, when packing
        self.row_tokens = ROW_TOKENS
        self._position_offset = 0
        if precision == "int8":
            self.model, self.dtype, self.runtime = self._int8_engine(model, model_dir), None, "onnxruntime"
        else:
            self.dtype = select_dtype(precision, self.device)
            self.model = model.to(self.device, dtype=self.dtype).eval()
        if _packing_wanted(packing, self.device) and self.runtime == "torch":
            offset = position_offset(model.encoder)
            if offset is None:
                log.log(logging.WARNING if packing == "on" else logging.INFO,
                        "packing: off (encoder type %r takes no position ids)",
                        getattr(getattr(model.encoder, "config", None), "model_type", None))
            else:
                self.packed, self._position_offset = PackedEncoder(model.encoder), offset

    @property
    def packing(self) -> bool:
        """Whether sentences are packed several to an encoder row."""
        return self.packed is not None

    @property
    def precision(self) -> str:
        """What scores sentences: int8, bfloat16, float16 or float32."""
        return "int8" if self.dtype is None else str(self.dtype).replace("torch.", "")

    def _int8_engine(self, model: DiplotagClassifier, model_dir: Path | None):
        """The int8 ONNX model of model_dir (built on first use), compared with fp32 on the check sentences."""
        from diplotag.errors import BadInputError, ModelUnavailableError
        from diplotag.model import onnx_int8

        if self.device.type != "cpu":
            raise BadInputError("precision int8 runs on CPU only; use fp16 or bf16 on a GPU")
        if model_dir is None:
            raise BadInputError("precision int8 needs a model directory (Predictor.from_pretrained)")
        if not onnx_int8.runtime_available():
            raise ModelUnavailableError("precision int8 needs onnxruntime and onnx: pip install onnxruntime onnx")
        try:
            path = onnx_int8.int8_path(model_dir) or onnx_int8.build_int8(model_dir, model, self.tokenizer)
            engine = onnx_int8.Int8Classifier(path)
        except OSError as exc:
            raise ModelUnavailableError(f"precision int8: cannot build or open the int8 model in {model_dir}: {exc}") from exc
        texts = _check_sentences(model_dir)
        reference = Predictor(model, self.tokenizer, device="cpu", precision="fp32").score(texts)
        self.model, self.dtype = engine, None
        got = self._score(texts)
        agreement = float(same_decisions(reference, got, self.config.topic_thresholds).mean())
        diff = max_difference(reference, got)
        level = logging.INFO if agreement >= onnx_int8.MIN_AGREEMENT else logging.WARNING
        log.log(level, "precision int8 (ONNX Runtime): same decisions as fp32 on %.0f%% of %d check sentences, "
                "max probability difference %.3f", 100 * agreement, len(texts), diff)
        return engine

    def maybe_compile(self, setting: str = "on", input_bytes: int | None = None) -> bool:
        """Compile the encoder when setting (auto/on/off) asks for it (model/compiled.py), checked against
        eager on the probe sentences; returns whether the encoder now runs compiled."""
        from diplotag.model import compiled

        if self.compiled:
            return True
        if not compiled.wanted(setting, self.device, self.dtype, input_bytes):
            if setting == "auto":
                log.info("compile auto: eager (%s on %s%s)", self.precision, self.device.type,
                         "" if input_bytes is None else f", input of {input_bytes} bytes")
            return False
        texts = _check_sentences(self.model_dir)
        reference = self._score(texts)
        target = "packed" if self.packed is not None else "model"  # the module every batch runs through
        eager = getattr(self, target)

        def check(candidate) -> float:
            setattr(self, target, candidate)
            try:
                got = self._score(texts)
                self._score(texts[:1])
            finally:
                setattr(self, target, eager)
            return float(same_decisions(reference, got, self.config.topic_thresholds).mean())

        setattr(self, target, compiled.compile_encoder(eager, check, self.device, self.dtype))
        self.compiled = getattr(self, target) is not eager
        return self.compiled

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "auto", precision: str = "auto",
                        batch_size: int | None = None, home: Path | None = None, cache_size: int = 0,
                        packing: str = "auto") -> Predictor:
        model, tokenizer = DiplotagClassifier.from_pretrained(directory, home=home)
        return cls(model, tokenizer, device=device, precision=precision, batch_size=batch_size,
                   cache_size=cache_size, model_dir=Path(directory), packing=packing)

    @property
    def max_length(self) -> int:
        return self.config.max_length

    def encode(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token ids cut to the model window (keeping the closing special token), and a truncated flag."""
        prefix = self.config.text_prefix
        enc = self.tokenizer([prefix + t for t in texts], add_special_tokens=True, truncation=False,
                             verbose=False)["input_ids"]
        limit = self.max_length
        truncated = np.array([len(ids) > limit for ids in enc], dtype=bool)
        ids = [x if len(x) <= limit else x[: limit - 1] + x[-1:] for x in enc]
        return ids, truncated

    def score(self, texts: Sequence[str], batch_size: int | None = None) -> Scores:
        """Probabilities for texts, in order. Repeated sentences (boilerplate) come from an LRU cache
        when cache_size > 0, and duplicates inside one call are scored once."""
        if self.cache_size <= 0:
            return self._score(texts, batch_size)
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = self._score(todo, batch_size) if todo else None
        with self._lock:
            rows = {}
            for i, t in enumerate(todo):
                rows[t] = (fresh.topics[i], fresh.stance[i], fresh.rhetoric[i], bool(fresh.truncated[i]))
                self._cache[t] = rows[t]
            for t in texts:
                if t not in rows:
                    rows[t] = self._cache[t]
                    self._cache.move_to_end(t)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        if not texts:
            return self._score([], batch_size)
        return Scores(np.stack([rows[t][0] for t in texts]), np.stack([rows[t][1] for t in texts]),
                      np.stack([rows[t][2] for t in texts]), np.array([rows[t][3] for t in texts], dtype=bool))

    def _score(self, texts: Sequence[str], batch_size: int | None = None) -> Scores:
        n = len(texts)
        cfg = self.config
        widths = [len(cfg.schema.topics), len(cfg.schema.stance), len(cfg.schema.rhetoric)]
        if n == 0:
            return Scores(*(np.zeros((0, w), dtype=np.float32) for w in widths), np.zeros(0, dtype=bool))
        ids, truncated = self.encode(texts)
        bs = batch_size or self.batch_size
        with self._lock, torch.inference_mode():
            order, parts = self._run_packed(ids, bs) if self.packed is not None else self._run_padded(ids, bs)
            flat = torch.cat(parts).cpu().numpy()
        out = np.empty_like(flat)
        out[np.concatenate(order)] = flat
        a, b = widths[0], widths[0] + widths[1]
        return Scores(out[:, :a], out[:, a:b], out[:, b:], truncated)

    def _probabilities(self, logits: dict[str, torch.Tensor]) -> torch.Tensor:
        """[n, T + S + R]: sigmoid topics, temperature-scaled softmax stance and rhetoric."""
        t = self.config.temperatures
        return torch.cat([torch.sigmoid(logits["topics"].float()),
                          torch.softmax(logits["stance"].float() / t["stance"], -1),
                          torch.softmax(logits["rhetoric"].float() / t["rhetoric"], -1)], dim=1)

    def _run_padded(self, ids: list[list[int]], bs: int) -> tuple[list[np.ndarray], list[torch.Tensor]]:
        """Length-sorted padded batches; (sentence indices, probabilities on the device) per batch.
        Probabilities stay on the device until every batch is queued: one copy back at the end, so the
        host pads and launches the next batch while a GPU runs this one."""
        pad = self.tokenizer.pad_token_id or 0
        cuda = self.device.type == "cuda"
        order, parts = [], []
        for idx in plan_batches([len(x) for x in ids], bs):
            input_ids, mask = pad_batch([ids[j] for j in idx], pad)
            if cuda:
                input_ids, mask = input_ids.pin_memory(), mask.pin_memory()
            parts.append(self._probabilities(self.model(input_ids.to(self.device, non_blocking=cuda),
                                                        mask.to(self.device, non_blocking=cuda))))
            order.append(idx)
        return order, parts

    def _run_packed(self, ids: list[list[int]], bs: int) -> tuple[list[np.ndarray], list[torch.Tensor]]:
        """Packed batches (model/packing.py): the encoder over packed rows, pooling and heads per sentence."""
        pad = self.tokenizer.pad_token_id or 0
        order, parts = [], []
        for rows in plan_packed([len(x) for x in ids], self.row_tokens, bs * PACKED_TOKENS_PER_SENTENCE):
            batch = build_batch(rows, ids, pad, self._position_offset)
            segments = batch.segments.to(self.device)
            hidden = self.packed(batch.input_ids.to(self.device), batch.position_ids.to(self.device), segments)
            pooled = pool(hidden, segments, len(batch.sentences)).to(hidden.dtype)
            parts.append(self._probabilities(self.model.head_logits(pooled)))
            order.append(batch.sentences)
        return order, parts

    def to_predictions(self, scores: Scores, texts: Sequence[str] | None = None,
                       spans: Sequence[tuple[int, int]] | None = None,
                       thresholds: dict[str, float] | None = None,
                       include_text: bool = True) -> list[SentencePrediction]:
        schema = self.config.schema
        th = {**self.config.thresholds, **(thresholds or {})}
        preds = []
        for i in range(len(scores)):
            topics = {t: round(float(scores.topics[i, k]), 6) for k, t in enumerate(schema.topics)}
            st = {s: round(float(scores.stance[i, k]), 6) for k, s in enumerate(schema.stance)}
            rh = {r: round(float(scores.rhetoric[i, k]), 6) for k, r in enumerate(schema.rhetoric)}
            preds.append(SentencePrediction(
                index=i,
                text=texts[i] if (texts is not None and include_text) else None,
                start=spans[i][0] if spans else None,
                end=spans[i][1] if spans else None,
                topics=topics,
                labels=[t for t in schema.topics if scores.topics[i, schema.topics.index(t)] >= th[t]],
                stance=LabelScore(label=schema.stance[int(scores.stance[i].argmax())], probabilities=st),
                rhetoric=LabelScore(label=schema.rhetoric[int(scores.rhetoric[i].argmax())], probabilities=rh),
                truncated=bool(scores.truncated[i]),
            ))
        return preds

    def predict(self, texts: Sequence[str], thresholds: dict[str, float] | None = None) -> list[SentencePrediction]:
        return self.to_predictions(self.score(texts), texts=texts, thresholds=thresholds)


# Sentences per forward batch when none is set: 32 on CPU (16-64 within 4 % on these CPUs), GPU_BATCH_SIZE on
# CUDA (benchmarks/gpu_sweep.py: where sentences/s stops growing).
CPU_BATCH_SIZE = 32
GPU_BATCH_SIZE = 256

# A batch holds at most batch_size sentences and batch_size * TOKENS_PER_SENTENCE padded tokens, and
# its longest sentence is at most WIDTH_RATIO times its shortest (+ WIDTH_SLACK tokens): a single
# 25-sentence article then runs as a few well-filled batches instead of one padded to its longest
# sentence (1.9x faster on these CPUs, no change on large inputs; benchmarks/).
TOKENS_PER_SENTENCE = 32
WIDTH_RATIO = 1.5
WIDTH_SLACK = 2
# Packed batches (model/packing.py) hold up to batch_size * PACKED_TOKENS_PER_SENTENCE tokens: 4,096 at
# the CPU's 32, the fastest of 1,024-8,192 on the bench corpus (benchmarks/).
PACKED_TOKENS_PER_SENTENCE = 128


def _packing_wanted(setting: str, device: torch.device) -> bool:
    """packing=on/off as asked; auto: on CPU (measured there; a GPU keeps padded batches until measured)."""
    if setting not in ("auto", "on", "off"):
        from diplotag.errors import BadInputError

        raise BadInputError(f"unknown packing setting {setting!r}: use auto, on or off")
    return setting == "on" or (setting == "auto" and device.type == "cpu")


def plan_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices of each batch: sentences sorted by token length, cut by count, token budget and width."""
    order = np.argsort(lengths, kind="stable")
    budget = batch_size * TOKENS_PER_SENTENCE
    batches: list[np.ndarray] = []
    start = 0
    for k in range(1, len(order)):
        width = lengths[order[k]]
        count = k - start + 1
        if count > batch_size or count * width > budget or width > WIDTH_RATIO * lengths[order[start]] + WIDTH_SLACK:
            batches.append(order[start:k])
            start = k
    if len(order):
        batches.append(order[start:])
    return batches


def pad_batch(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> (input_ids, attention_mask), right-padded to the longest row."""
    width = max(len(r) for r in rows)
    input_ids = np.full((len(rows), width), pad, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        input_ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask)


def _check_sentences(model_dir: Path | None) -> list[str]:
    """The probe's sentences, or the French sentences the e5 conversion is checked on."""
    import json

    try:
        if model_dir is None:
            raise OSError("no model directory")
        return json.loads((model_dir / "probe.json").read_text(encoding="utf-8"))["sentences"]
    except (OSError, ValueError, KeyError):
        path = Path(__file__).with_name("e5_check_sentences.txt")
        return [t for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
