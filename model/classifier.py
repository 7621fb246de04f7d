"""Encoder + mean pooling + three heads, saved as a model directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from diplotag.errors import BaseEncoderError, ModelUnavailableError
from diplotag.model.base_encoders import lora_targets, resolve_base
from diplotag.model.config import ClassifierConfig, LoraSettings
from diplotag.paths import atomic_directory

log = logging.getLogger(__name__)

HEADS_FILE = "heads.safetensors"
ADAPTER_DIR = "adapter"
ENCODER_DIR = "encoder"
METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"
TOKENIZER_DIR = "tokenizer"


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)


class DiplotagClassifier(nn.Module):
    """A base encoder with a multi-label topic head and two single-label heads."""

    def __init__(self, encoder: nn.Module, config: ClassifierConfig) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        h = config.hidden_size
        self.dropout = nn.Dropout(config.dropout)
        self.topics = nn.Linear(h, len(config.schema.topics))
        self.stance = nn.Linear(h, len(config.schema.stance))
        self.rhetoric = nn.Linear(h, len(config.schema.rhetoric))

    def heads(self) -> nn.ModuleDict:
        return nn.ModuleDict({"topics": self.topics, "stance": self.stance, "rhetoric": self.rhetoric})

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head_logits(self.dropout(mean_pool(hidden, attention_mask)))

    def head_logits(self, pooled: torch.Tensor) -> dict[str, torch.Tensor]:
        """The three heads' logits for pooled sentence vectors [n, hidden]."""
        return {"topics": self.topics(pooled), "stance": self.stance(pooled), "rhetoric": self.rhetoric(pooled)}

    # ------------------------------------------------------------------ building
    @classmethod
    def from_base(cls, base: str, max_length: int = 128, weights: str = "lora",
                  lora: LoraSettings | None = None, home: Path | None = None,
                  seed: int = 13) -> tuple[DiplotagClassifier, PreTrainedTokenizerBase]:
        """A fresh classifier around a base encoder (LoRA-wrapped when weights='lora')."""
        source = resolve_base(base, home, build=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            encoder = AutoModel.from_pretrained(source, add_pooling_layer=False) if _takes_pooling(source) \
                else AutoModel.from_pretrained(source)
        except OSError as exc:
            raise BaseEncoderError(f"cannot load base encoder {base!r} from {source!r}: {exc}") from exc
        torch.manual_seed(seed)
        if weights == "lora":
            lora = lora or LoraSettings()
            if not lora.target_modules:
                lora = LoraSettings(lora.r, lora.alpha, lora.dropout, lora_targets(base))
            encoder = _wrap_lora(encoder, lora)
        else:
            lora = None
        cfg = ClassifierConfig(base_encoder=base, hidden_size=encoder.config.hidden_size,
                               max_length=max_length, weights=weights, lora=lora)
        return cls(encoder, cfg), tokenizer

    # ------------------------------------------------------------------ saving
    def save_pretrained(self, directory: str | Path, tokenizer: PreTrainedTokenizerBase,
                        metrics: dict | None = None, card: str | None = None) -> Path:
        """Write the model directory atomically (a temporary sibling renamed at the end)."""
        directory = Path(directory)
        with atomic_directory(directory) as tmp:
            heads = {f"{name}.{k}": v.detach().float().contiguous().cpu()
                     for name, mod in self.heads().items() for k, v in mod.state_dict().items()}
            save_file(heads, str(tmp / HEADS_FILE), metadata={"format": "diplotag-heads"})
            if self.config.weights == "lora":
                if not hasattr(self.encoder, "peft_config"):
                    raise ModelUnavailableError("this classifier's LoRA adapter was merged; it cannot be re-saved")
                self.encoder.save_pretrained(str(tmp / ADAPTER_DIR), safe_serialization=True)
                _portable_adapter(tmp / ADAPTER_DIR, self.config.base_encoder)
            else:
                self.encoder.save_pretrained(str(tmp / ENCODER_DIR), safe_serialization=True)
            tokenizer.save_pretrained(str(tmp / TOKENIZER_DIR))
            self.config.save(tmp)
            (tmp / METRICS_FILE).write_text(json.dumps(metrics or {}, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
            if card is not None:
                (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        return directory

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(cls, directory: str | Path, home: Path | None = None, merge: bool = True,
                        trainable: bool = False, check: bool = True) -> tuple[DiplotagClassifier, PreTrainedTokenizerBase]:
        """Load a model directory; every missing or broken part is named in the error.

        With `check`, a model that carries a probe must reproduce its recorded outputs.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise ModelUnavailableError(f"model directory not found: {directory}")
        config = ClassifierConfig.load(directory)
        required = [HEADS_FILE, f"{TOKENIZER_DIR}/tokenizer_config.json",
                    f"{ADAPTER_DIR}/adapter_config.json" if config.weights == "lora" else f"{ENCODER_DIR}/config.json"]
        missing = [f for f in required if not (directory / f).is_file()]
        if missing:
            raise ModelUnavailableError(f"{directory}: incomplete model directory, missing {', '.join(missing)}")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory / TOKENIZER_DIR))
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            raise ModelUnavailableError(f"{directory}: tokenizer files are unreadable ({exc})") from exc
        encoder = _load_encoder(directory, config, home, merge=merge, trainable=trainable)
        model = cls(encoder, config)
        try:
            state = load_file(str(directory / HEADS_FILE))
        except (SafetensorError, OSError) as exc:
            raise ModelUnavailableError(f"{directory / HEADS_FILE}: corrupt safetensors ({exc})") from exc
        for name, mod in model.heads().items():
            sub = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(name + ".")}
            try:
                mod.load_state_dict(sub)
            except RuntimeError as exc:
                raise ModelUnavailableError(f"{directory / HEADS_FILE}: head {name!r} does not fit ({exc})") from exc
        model.eval()
        if check:
            from diplotag.model.probe import check_probe

            check_probe(directory, model, tokenizer)
        return model, tokenizer


def _portable_adapter(adapter_dir: Path, base_encoder: str) -> None:
    """Name the base by its registry name (not the local path it was loaded from); drop peft's stub card."""
    cfg_path = adapter_dir / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["base_model_name_or_path"] = base_encoder
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    (adapter_dir / "README.md").unlink(missing_ok=True)


def _takes_pooling(source: str) -> bool:
    try:
        cfg = AutoConfig.from_pretrained(source)
    except OSError:
        return False
    return cfg.model_type in ("bert", "roberta", "camembert", "xlm-roberta")


def _wrap_lora(encoder: nn.Module, lora: LoraSettings) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    for p in encoder.parameters():
        p.requires_grad_(False)
    cfg = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                     target_modules=list(lora.target_modules), bias="none")
    return get_peft_model(encoder, cfg)


def _load_encoder(directory: Path, config: ClassifierConfig, home: Path | None, merge: bool,
                  trainable: bool) -> nn.Module:
    if config.weights == "full":
        try:
            return AutoModel.from_pretrained(str(directory / ENCODER_DIR))
        except (OSError, ValueError, SafetensorError) as exc:
            raise ModelUnavailableError(f"{directory / ENCODER_DIR}: encoder weights unreadable ({exc})") from exc
    from peft import PeftModel

    try:
        source = resolve_base(config.base_encoder, home, build=False)
    except BaseEncoderError as exc:
        raise ModelUnavailableError(f"{directory}: needs base encoder {config.base_encoder!r}: {exc}") from exc
    try:
        kwargs = {"add_pooling_layer": False} if _takes_pooling(source) else {}
        base = AutoModel.from_pretrained(source, **kwargs)
    except OSError as exc:
        raise ModelUnavailableError(
            f"{directory}: base encoder {config.base_encoder!r} unavailable at {source!r} ({exc})") from exc
    try:
        model = PeftModel.from_pretrained(base, str(directory / ADAPTER_DIR), is_trainable=trainable)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        raise ModelUnavailableError(f"{directory / ADAPTER_DIR}: adapter does not load ({exc})") from exc
    if merge and not trainable:
        return model.merge_and_unload()
    return model
