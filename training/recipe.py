"""The training recipe: a typed, validated dataclass with the default model's settings.

Kept free of heavy imports so the command line can show its defaults without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    base: str = "e5-small"
    epochs: int = 12
    batch_size: int = 16
    lr: float = 1e-3
    head_lr: float = 3e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 128
    patience: int = 3
    seed: int = 13
    weights: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    freeze_embeddings: bool = True
    class_weighting: bool = True
    device: str = "auto"
    precision: str = "auto"
    max_steps: int | None = None
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if not (0 < self.lr < 1 and 0 < self.head_lr < 1):
            raise ValueError("learning rates must lie in (0, 1)")
        if self.weights not in ("lora", "full"):
            raise ValueError("weights must be 'lora' or 'full'")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError("warmup_ratio must lie in [0, 1)")
