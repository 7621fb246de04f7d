"""Where things live under DIPLOTAG_HOME."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def current_model_dir(root: Path | None = None) -> Path:
    """The version named current in <home>/models/index.json, else the default model."""
    import json

    index = models_dir(root) / "index.json"
    if index.is_file():
        try:
            current = json.loads(index.read_text(encoding="utf-8")).get("current")
        except (OSError, ValueError):
            current = None
        if current:
            return models_dir(root) / current
    return default_model_dir(root)


def resolve_model_dir(model: str | None = None, root: Path | None = None) -> Path:
    """The model to use: the argument, else DIPLOTAG_MODEL, else the current (promoted) model."""
    chosen = model or get_settings().model
    return Path(chosen).expanduser() if chosen else current_model_dir(root)


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a directory in a hidden sibling and rename it over `target` only when complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
