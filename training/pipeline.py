"""Train → calibrate → evaluate (with baseline) → save a model directory with its card."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diplotag.model.classifier import ADAPTER_DIR
from diplotag.model.predictor import Predictor
from diplotag.training.baseline import TfidfBaseline
from diplotag.training.card import render_card
from diplotag.training.data import Row, fingerprint, read_jsonl, split_paths
from diplotag.training.evaluate import evaluate_rows
from diplotag.training.trainer import TRAINING_PACKING, TrainConfig, train

log = logging.getLogger(__name__)


@dataclass
class Splits:
    train: list[Row]
    dev: list[Row]
    test: list[Row]

    @classmethod
    def load(cls, data_dir: Path) -> Splits:
        p = split_paths(data_dir)
        return cls(read_jsonl(p["train"]), read_jsonl(p["dev"]), read_jsonl(p["test"]))


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def checkpoint_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.checkpoint.pt")


def train_and_save(cfg: TrainConfig, splits: Splits, output: Path, home: Path | None = None,
                   version: str = "1", parent: str | None = None, data_note: str | None = None,
                   extra_eval: dict[str, list[Row]] | None = None, resume: bool = False,
                   training_info: dict[str, Any] | None = None) -> tuple[Path, dict[str, Any]]:
    """Train with a checkpoint per epoch (`resume` continues it), evaluate, save the model directory."""
    ckpt = checkpoint_path(output)
    model, tokenizer, _ = train(cfg, splits.train, splits.dev, home=home, checkpoint=ckpt, resume=resume)
    model.config.training.update(training_info or {})
    model.config.model_version = version
    model.config.parent_version = parent
    model.config.data_fingerprint = fingerprint(splits.train, splits.dev)
    if data_note:
        model.config.training["data_note"] = data_note
    predictor = Predictor(model, tokenizer, device=cfg.device, precision="fp32", batch_size=64,
                          packing=TRAINING_PACKING)
    baseline = TfidfBaseline(model.config.schema).fit(splits.train)
    metrics: dict[str, Any] = {"test": evaluate_rows(predictor, splits.test, baseline, name="test")}
    for name, rows in (extra_eval or {}).items():
        metrics[name] = evaluate_rows(predictor, rows, baseline, name=name)
    model.float()
    from diplotag.model.probe import make_probe, write_probe

    probe = make_probe(model, tokenizer, [r.text for r in sorted(splits.test, key=lambda r: r.id or r.text)])
    model.save_pretrained(output, tokenizer, metrics=metrics)
    write_probe(output, probe)
    adapter = output / ADAPTER_DIR
    size = dir_size(adapter) + (output / "heads.safetensors").stat().st_size if adapter.is_dir() else None
    (output / "README.md").write_text(render_card(model.config, metrics, size), encoding="utf-8")
    ckpt.unlink(missing_ok=True)
    log.info("saved model %s to %s", version, output)
    return output, metrics

