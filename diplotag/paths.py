"""Where things live under DIPLOTAG_HOME."""

from __future__ import annotations

from pathlib import Path

from diplotag.settings import get_settings


def home(root: Path | None = None) -> Path:
    path = (root or get_settings().home_dir).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def bases_dir(root: Path | None = None) -> Path:
    """Built base encoders: <home>/bases/<name>."""
    return home(root) / "bases"


def models_dir(root: Path | None = None) -> Path:
    """Trained model versions: <home>/models/<version>."""
    return home(root) / "models"


def default_model_dir(root: Path | None = None) -> Path:
    """The default model built by `make model`: <home>/models/default."""
    return models_dir(root) / "default"


def resolve_model_dir(model: str | None = None, root: Path | None = None) -> Path:
    """The model to use: the argument, else DIPLOTAG_MODEL, else the default model in home."""
    chosen = model or get_settings().model
    return Path(chosen).expanduser() if chosen else default_model_dir(root)
