"""The default model: the shipped adapter (model/default/) on the e5-small base, or trained here."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from diplotag import paths
from diplotag.errors import ModelUnavailableError
from diplotag.model.base_encoders import resolve_base
from diplotag.model.classifier import TOKENIZER_DIR
from diplotag.model.config import ClassifierConfig

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "default"
SHIPPED_FILES = ("config.json", "heads.safetensors", "adapter/adapter_config.json", "adapter/adapter_model.safetensors",
                 "probe.json")


def shipped_available() -> bool:
    return all((SHIPPED / f).is_file() for f in SHIPPED_FILES)


def assemble_shipped(target: Path, home: Path | None = None) -> Path:
    """Copy the shipped adapter and heads, add the base's tokenizer: a ready model directory."""
    if not shipped_available():
        raise ModelUnavailableError(f"no shipped default model in {SHIPPED}")
    config = ClassifierConfig.load(SHIPPED)
    base_dir = Path(resolve_base(config.base_encoder, home, build=True))
    with paths.atomic_directory(target) as tmp:
        for item in SHIPPED.iterdir():
            if item.name.startswith((".", "__")):
                continue
            dest = tmp / item.name
            shutil.copytree(item, dest) if item.is_dir() else shutil.copy2(item, dest)
        (tmp / TOKENIZER_DIR).mkdir()
        for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            if (base_dir / f).is_file():
                shutil.copy2(base_dir / f, tmp / TOKENIZER_DIR / f)
    log.info("assembled the shipped default model in %s", target)
    return target


SHIP_ITEMS = ("config.json", "heads.safetensors", "adapter", "metrics.json", "probe.json", "README.md")


def ship(source: Path, dest: Path = SHIPPED) -> int:
    """Copy a trained LoRA model's small parts (no tokenizer, no base) into the repo; returns bytes."""
    config = ClassifierConfig.load(source)
    if config.weights != "lora":
        raise ModelUnavailableError(f"{source}: only a LoRA model can be shipped small (weights={config.weights})")
    missing = [i for i in SHIP_ITEMS if not (source / i).exists()]
    if missing:
        raise ModelUnavailableError(f"{source}: missing {', '.join(missing)}")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for item in SHIP_ITEMS:
        src = source / item
        shutil.copytree(src, dest / item) if src.is_dir() else shutil.copy2(src, dest / item)
    return sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())

