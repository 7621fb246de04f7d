"""The encoder compiled by TorchInductor, weights frozen into the graph (oneDNN packed bf16 matmuls on CPU).

Measured on these 2-core AMX CPUs (benchmarks/): about 20 % more sentences/s than the same bf16
model run eagerly, with 99.8 % of decisions unchanged. It costs about 20-25 s of compilation once per
process (more on a loaded machine), so it pays back only on long runs: the service compiles at
start-up, `diplotag score` when its input is large, `diplotag predict` never. One graph serves every
batch shape (dynamic sizes); a one-sentence batch is run as two identical rows so that it does not
trigger a second, specialised compilation. Anything that goes wrong (no C++ compiler, an Inductor
error, outputs that disagree with eager) leaves the model eager, with a warning that says why.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable

import torch
from torch import nn
from torch._inductor import config as inductor_config

log = logging.getLogger(__name__)

# Below this share of the check sentences with the eager model's decisions, compilation is undone (bf16
# kernels move about 0.2 % of decisions: 0.95 tolerates two of the 50 probe sentences).
MIN_AGREEMENT = 0.95
# `diplotag score` compiles (compile=auto) from this input size on: about 50,000 sentences of news
# (150 bytes each as JSONL), past the ~43,000 where 23 s of compilation is won back at +20 %.
AUTO_MIN_INPUT_BYTES = 8_000_000


class PairPadded(nn.Module):
    """Runs a one-row batch as two identical rows (the compiled graph is specialised for size 1 otherwise).
    Wraps the classifier (input_ids, attention_mask -> logits dict) or the packed encoder (input_ids,
    position_ids, segments -> hidden states): every input has its rows first, and so has every output."""

    def __init__(self, compiled: Callable, eager: nn.Module) -> None:
        super().__init__()
        self.compiled = compiled
        self.eager = eager
        self.config = eager.config

    def forward(self, *inputs: torch.Tensor):
        # Freezing is read when a graph is compiled, which happens lazily inside a call; torch.compile's
        # options={"freezing": True} did not freeze here (+2 %), the config patch does (+20 %).
        with inductor_config.patch(freezing=True):
            if inputs[0].shape[0] != 1:
                return self.compiled(*inputs)
            out = self.compiled(*(x.repeat(2, *([1] * (x.dim() - 1))) for x in inputs))
        return {k: v[:1] for k, v in out.items()} if isinstance(out, dict) else out[:1]


def unavailable_reason(device: torch.device, dtype: torch.dtype | None) -> str | None:
    """Why the encoder cannot be compiled here, or None."""
    if dtype is None:
        return "the int8 runtime is ONNX Runtime, not torch"
    if device.type != "cpu":
        return f"compilation is measured and enabled on CPU only (device {device})"
    compiler = os.environ.get("CXX") or "g++"
    if not (shutil.which(compiler) or shutil.which("c++") or shutil.which("clang++")):
        return "no C++ compiler found (TorchInductor builds C++ kernels: install g++ or set CXX)"
    return None


def wanted(setting: str, device: torch.device, dtype: torch.dtype | None, input_bytes: int | None = None) -> bool:
    """compile=on/off as asked; auto: on for bf16 on CPU when the work is long (a service, or an input of
    at least AUTO_MIN_INPUT_BYTES; input_bytes None means a long-running process)."""
    if setting not in ("auto", "on", "off"):
        from diplotag.errors import BadInputError

        raise BadInputError(f"unknown compile setting {setting!r}: use auto, on or off")
    if setting != "auto":
        return setting == "on"
    long_work = input_bytes is None or input_bytes >= AUTO_MIN_INPUT_BYTES
    return long_work and device.type == "cpu" and dtype == torch.bfloat16


def compile_encoder(model: nn.Module, run_check: Callable[[nn.Module], float], device: torch.device,
                    dtype: torch.dtype | None) -> nn.Module:
    """model compiled, or model itself when compilation is unavailable, fails or changes decisions.
    run_check(candidate) scores the check sentences with candidate and returns the share of them
    whose decisions match the eager model's (it also serves as the warm-up that compiles)."""
    reason = unavailable_reason(device, dtype)
    if reason:
        log.warning("compile: staying eager: %s", reason)
        return model
    started = time.perf_counter()
    candidate = PairPadded(torch.compile(model, dynamic=True), model)
    try:
        agreement = run_check(candidate)
    except Exception as exc:  # Inductor raises many kinds (BackendCompilerFailed, CalledProcessError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("compile: staying eager: compilation failed: %s", first[:300])
        return model
    seconds = time.perf_counter() - started
    if agreement < MIN_AGREEMENT:
        log.warning("compile: staying eager: compiled model matches eager decisions on only %.1f%% of the check "
                    "sentences", 100 * agreement)
        return model
    log.info("compile: encoder compiled in %.1f s; same decisions as eager on %.1f%% of the check sentences",
             seconds, 100 * agreement)
    return candidate
