"""Versioned models under <home>/models: one directory per version and an index naming the current.

index.json: {"current": "v2", "history": [{"version", "action", "at", "reason", "forced"}...]}.
Without an index, the current model is the default model (<home>/models/default) when it exists.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from diplotag import paths
from diplotag.errors import BadInputError, ConflictError, ModelUnavailableError
from diplotag.model.config import ClassifierConfig

INDEX = "index.json"
VERSION_DIR = re.compile(r"^(default|v\d+)$")


class ModelStore:
    def __init__(self, home: Path | None = None) -> None:
        self.root = paths.models_dir(home)
        self.root.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ reading
    @property
    def index_path(self) -> Path:
        return self.root / INDEX

    def index(self) -> dict[str, Any]:
        if self.index_path.is_file():
            try:
                return json.loads(self.index_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ModelUnavailableError(f"{self.index_path}: unreadable model index ({exc})") from exc
        current = "default" if (self.root / "default" / "config.json").is_file() else None
        return {"current": current, "history": []}

    def versions(self) -> list[str]:
        names = [p.name for p in self.root.iterdir() if p.is_dir() and VERSION_DIR.match(p.name)
                 and (p / "config.json").is_file()]
        return sorted(names, key=lambda n: (n != "default", int(n[1:]) if n != "default" else 0))

    def current(self) -> str | None:
        return self.index().get("current")

    def path(self, version: str) -> Path:
        p = self.root / version
        if not VERSION_DIR.match(version) or not (p / "config.json").is_file():
            raise BadInputError(f"no model version {version!r} (have: {', '.join(self.versions()) or 'none'})")
        return p

    def next_version(self) -> str:
        numbers = [int(v[1:]) for v in self.versions() if v != "default"]
        return f"v{max(numbers, default=0) + 1}"

    def describe(self, version: str) -> dict[str, Any]:
        p = self.path(version)
        cfg = ClassifierConfig.load(p)
        metrics = json.loads((p / "metrics.json").read_text(encoding="utf-8")) if (p / "metrics.json").is_file() else {}
        test = metrics.get("test", {}).get("model", {})
        return {
            "version": version,
            "current": version == self.current(),
            "model_version": cfg.model_version,
            "parent": cfg.parent_version,
            "base_encoder": cfg.base_encoder,
            "data_fingerprint": cfg.data_fingerprint,
            "created_at": cfg.created_at,
            "test_macro_f1": {h: round(test[h]["macro_f1"], 4) for h in ("topics", "stance", "rhetoric") if h in test},
            "added_data": cfg.training.get("added_data"),
            "promotion": cfg.training.get("promotion"),
            "path": str(p),
        }

    # ------------------------------------------------------------------ writing
    def _write_index(self, index: dict[str, Any]) -> None:
        tmp = self.index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.index_path)

    def set_current(self, version: str, action: str, reason: str = "", forced: bool = False) -> dict[str, Any]:
        self.path(version)
        index = self.index()
        index["history"].append({"version": version, "previous": index.get("current"), "action": action,
                                 "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 "reason": reason, "forced": forced})
        index["current"] = version
        self._write_index(index)
        return index

    def promote(self, version: str, reason: str = "manual", forced: bool = False) -> dict[str, Any]:
        if version == self.current():
            raise ConflictError(f"{version} is already the current model")
        return self.set_current(version, "promote", reason, forced)

    def rollback(self) -> dict[str, Any]:
        """Make the model that was current before the last promotion current again."""
        index = self.index()
        current = index.get("current")
        for entry in reversed(index["history"]):
            if entry["version"] == current and entry.get("previous"):
                return self.set_current(entry["previous"], "rollback", f"rollback from {current}")
        raise ConflictError("nothing to roll back to: no earlier promotion is recorded")
