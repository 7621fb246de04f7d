"""The model directory's config.json: a typed, validated dataclass."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from diplotag.errors import ModelUnavailableError
from diplotag.model.schema import HEADS, SCHEMA_VERSION, LabelSchema

CONFIG_NAME = "config.json"
FORMAT = "diplotag-classifier"


@dataclass
class LoraSettings:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha < 1 or not 0 <= self.dropout < 1:
            raise ValueError(f"invalid LoRA settings: r={self.r} alpha={self.alpha} dropout={self.dropout}")
        self.target_modules = tuple(self.target_modules)


@dataclass
class ClassifierConfig:
    """Everything needed to rebuild a trained classifier around its base encoder."""

    base_encoder: str
    hidden_size: int
    max_length: int = 128
    schema: LabelSchema = field(default_factory=LabelSchema)
    topic_thresholds: list[float] = field(default_factory=lambda: [0.5] * len(HEADS["topics"]))
    temperatures: dict[str, float] = field(default_factory=lambda: {"stance": 1.0, "rhetoric": 1.0})
    dropout: float = 0.1
    weights: str = "lora"  # "lora": adapter + heads on the base; "full": encoder saved whole
    lora: LoraSettings | None = field(default_factory=LoraSettings)
    text_prefix: str = ""
    model_version: str = "0"
    parent_version: str | None = None
    data_fingerprint: str | None = None
    created_at: str | None = None
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_length < 8 or self.max_length > 4096:
            raise ValueError(f"max_length must be within 8..4096, got {self.max_length}")
        if self.hidden_size < 1:
            raise ValueError("hidden_size must be positive")
        if len(self.topic_thresholds) != len(self.schema.topics):
            raise ValueError(f"need one threshold per topic ({len(self.schema.topics)}), "
                             f"got {len(self.topic_thresholds)}")
        if any(not 0.0 < t < 1.0 for t in self.topic_thresholds):
            raise ValueError(f"topic thresholds must lie in (0, 1): {self.topic_thresholds}")
        for head in ("stance", "rhetoric"):
            if self.temperatures.get(head, 0) <= 0:
                raise ValueError(f"temperature for {head} must be positive")
        if self.weights not in ("lora", "full"):
            raise ValueError(f"weights must be 'lora' or 'full', got {self.weights!r}")
        if self.weights == "lora" and self.lora is None:
            raise ValueError("weights='lora' needs LoRA settings")

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(zip(self.schema.topics, self.topic_thresholds, strict=True))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["schema"] = self.schema.to_dict()
        d["lora"] = None if self.lora is None else {**asdict(self.lora), "target_modules": list(self.lora.target_modules)}
        return {
            "format": FORMAT,
            "schema_version": self.schema.version,
            "id2label": self.schema.id2label(),
            "label2id": {h: {lab: i for i, lab in enumerate(self.schema.head(h))} for h in HEADS},
            **{k: v for k, v in d.items() if k != "schema"},
            "labels": self.schema.to_dict(),
        }

    def save(self, directory: Path) -> None:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        (directory / CONFIG_NAME).write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> ClassifierConfig:
        path = directory / CONFIG_NAME
        if not path.is_file():
            raise ModelUnavailableError(f"{directory}: not a diplotag model (no {CONFIG_NAME})")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelUnavailableError(f"{path}: unreadable or corrupt JSON ({exc})") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ModelUnavailableError(f"{path}: not a diplotag classifier config (format != {FORMAT!r})")
        version = str(raw.get("schema_version"))
        if version != SCHEMA_VERSION:
            raise ModelUnavailableError(
                f"{path}: label schema version {version} but this diplotag reads version {SCHEMA_VERSION}"
            )
        labels = raw.get("labels") or {}
        try:
            schema = LabelSchema(version=version, topics=tuple(labels["topics"]),
                                 stance=tuple(labels["stance"]), rhetoric=tuple(labels["rhetoric"]))
            if schema.to_dict() != LabelSchema().to_dict():
                raise ValueError(f"labels {schema.to_dict()} differ from schema v{SCHEMA_VERSION}")
            lora = raw.get("lora")
            return cls(
                base_encoder=raw["base_encoder"],
                hidden_size=int(raw["hidden_size"]),
                max_length=int(raw["max_length"]),
                schema=schema,
                topic_thresholds=[float(t) for t in raw["topic_thresholds"]],
                temperatures={k: float(v) for k, v in raw["temperatures"].items()},
                dropout=float(raw.get("dropout", 0.1)),
                weights=raw.get("weights", "lora"),
                lora=LoraSettings(**lora) if lora else None,
                text_prefix=raw.get("text_prefix", ""),
                model_version=str(raw.get("model_version", "0")),
                parent_version=raw.get("parent_version"),
                data_fingerprint=raw.get("data_fingerprint"),
                created_at=raw.get("created_at"),
                training=raw.get("training") or {},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelUnavailableError(f"{path}: invalid config ({exc!r})") from exc
