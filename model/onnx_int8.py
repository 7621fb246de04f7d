"""The int8 CPU runtime: the merged classifier exported to ONNX, weights quantised to int8 per channel.

ONNX Runtime's dynamic quantisation (int8 weights per output channel, activations quantised on
the fly per batch, VNNI where the CPU has it) is the fastest CPU variant measured here, but it
moves single sentences: 6-7 % of test and wire sentences get a different decision on some
layer (bfloat16: 0.1-0.5 %), and topics macro-F1 lands 0.1-1.2 points under fp32 depending on
how sentences are batched (benchmarks/). So it is opt-in (precision=int8), never chosen by auto. The file is built once per model directory
(`onnx/model.int8.onnx`, keyed by a digest of the model's own files).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch

from diplotag.errors import ModelUnavailableError

log = logging.getLogger(__name__)
ONNX_DIR = "onnx"
INT8_FILE = "model.int8.onnx"
STAMP_FILE = "source.json"
# Below this share of check sentences with fp32's decisions, loading int8 logs a warning.
MIN_AGREEMENT = 0.9


def runtime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import onnxruntime.quantization  # noqa: F401
    except ImportError:
        return False
    return True


def source_digest(model_dir: Path) -> str:
    """What the int8 file was built from: the model's config, heads, adapter or encoder weights."""
    h = hashlib.sha256()
    for rel in ("config.json", "heads.safetensors", "adapter/adapter_model.safetensors", "encoder/model.safetensors"):
        path = model_dir / rel
        if path.is_file():
            h.update(rel.encode())
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:24]


def int8_path(model_dir: Path) -> Path | None:
    """The int8 file when it exists and was built from this model directory's current files."""
    path = model_dir / ONNX_DIR / INT8_FILE
    stamp = model_dir / ONNX_DIR / STAMP_FILE
    try:
        built_from = json.loads(stamp.read_text(encoding="utf-8")).get("source")
    except (OSError, json.JSONDecodeError):
        return None
    return path if path.is_file() and built_from == source_digest(model_dir) else None


class _Logits(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        out = self.model(input_ids, attention_mask)
        return out["topics"], out["stance"], out["rhetoric"]


def build_int8(model_dir: Path, model: torch.nn.Module, tokenizer) -> Path:
    """Export the (merged, fp32) classifier and quantise it; written atomically into model_dir/onnx/."""
    if not runtime_available():
        raise ModelUnavailableError("the int8 runtime needs onnxruntime and onnx (pip install onnxruntime onnx)")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = model.float().eval()
    sample = tokenizer(["passage: Les deux pays coopèrent.", "passage: Non."], padding=True, return_tensors="pt")
    target = model_dir / ONNX_DIR
    work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=model_dir))
    work.chmod(0o755)
    try:
        fp32 = work / "model.onnx"
        with torch.inference_mode():
            torch.onnx.export(_Logits(model), (sample["input_ids"], sample["attention_mask"]), str(fp32),
                              dynamo=False, opset_version=17, input_names=["input_ids", "attention_mask"],
                              output_names=["topics", "stance", "rhetoric"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"}})
        quantize_dynamic(str(fp32), str(work / INT8_FILE), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()
        (work / STAMP_FILE).write_text(json.dumps({"source": source_digest(model_dir), "weights": "int8 per channel",
                                                   "runtime": "onnxruntime"}) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("built the int8 ONNX model in %s (%.0f MB)", target, (target / INT8_FILE).stat().st_size / 2**20)
    return target / INT8_FILE


class Int8Classifier:
    """Called like the torch classifier (ids, mask) -> logits per head, on an ONNX Runtime session."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = path

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        topics, stance, rhetoric = self.session.run(None, {"input_ids": input_ids.numpy(),
                                                           "attention_mask": attention_mask.numpy()})
        return {"topics": torch.from_numpy(topics), "stance": torch.from_numpy(stance),
                "rhetoric": torch.from_numpy(rhetoric)}

