"""Device and precision selection: auto picks CUDA when present, bf16 where the CPU has AMX or AVX-512 BF16."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import torch

from diplotag.errors import BadInputError

log = logging.getLogger(__name__)


def select_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInputError("device 'cuda' requested but no CUDA GPU is available")
    if device not in ("cpu", "cuda"):
        raise BadInputError(f"unknown device {device!r}: use auto, cpu or cuda")
    return torch.device(device)


@lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AMX tiles or AVX-512 BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def select_dtype(precision: str, device: torch.device) -> torch.dtype:
    """fp32/bf16/fp16 as asked; auto = fp16 on CUDA, bf16 on CPUs with native bf16, else fp32."""
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise BadInputError("precision bf16 is not supported by this GPU")
        return torch.bfloat16
    if precision == "fp16":
        if device.type == "cpu":
            raise BadInputError("precision fp16 is for GPUs; use bf16 or fp32 on CPU")
        return torch.float16
    if precision != "auto":
        raise BadInputError(f"unknown precision {precision!r}: use auto, int8, fp32, bf16 or fp16")
    if device.type == "cuda":
        chosen = torch.float16
    else:
        chosen = torch.bfloat16 if cpu_has_fast_bf16() else torch.float32
    log.info("precision auto -> %s on %s", str(chosen).replace("torch.", ""), device)
    return chosen
