"""The model being served, swapped atomically on reload."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from diplotag.documents import ModelRef, model_ref
from diplotag.errors import ModelUnavailableError
from diplotag.model.predictor import Predictor
from diplotag.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    predictor: Predictor
    path: Path
    ref: ModelRef
    metrics: dict


class ModelHolder:
    """Holds the current model; readers take a reference, reload replaces it in one assignment."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: Loaded | None = None
        self.error: str | None = None
        self._reload_lock = threading.Lock()

    def get(self) -> Loaded:
        loaded = self.current
        if loaded is None:
            raise ModelUnavailableError(self.error or "the model is still loading")
        return loaded

    def load(self, path: Path) -> Loaded:
        """Load a model directory (blocking); raises ModelUnavailableError naming what is wrong."""
        import json

        s = self.settings
        predictor = Predictor.from_pretrained(path, device=s.device, precision=s.precision,
                                              batch_size=s.batch_size, home=s.home_dir,
                                              cache_size=s.cache_size, packing=s.packing)
        predictor.maybe_compile(s.compile)
        predictor.score(["Warm-up."])
        metrics_file = path / "metrics.json"
        try:
            metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
        except (OSError, json.JSONDecodeError):
            metrics = {}
        return Loaded(predictor=predictor, path=path, ref=model_ref(predictor), metrics=metrics)

    def swap(self, path: Path) -> tuple[Loaded | None, Loaded]:
        with self._reload_lock:
            new = self.load(path)
            old, self.current = self.current, new
            self.error = None
            log.info("serving model %s from %s", new.ref.version, path)
            return old, new
