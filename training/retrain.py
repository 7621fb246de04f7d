"""`diplotag train --add NEW.jsonl`: validate, merge, train a challenger, compare, promote or reject."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diplotag.model.predictor import Predictor
from diplotag.training.data import Row, read_jsonl
from diplotag.training.evaluate import evaluate_rows
from diplotag.training.pipeline import Splits, train_and_save
from diplotag.training.trainer import TRAINING_PACKING, TrainConfig
from diplotag.training.versions import ModelStore

log = logging.getLogger(__name__)
LAYERS = ("topics", "stance", "rhetoric")


@dataclass
class MergeReport:
    base: int
    added: int
    replaced: list[dict[str, Any]] = field(default_factory=list)
    dropped_test_overlap: int = 0
    total: int = 0


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def merge(base: list[Row], new: list[Row], test: list[Row]) -> tuple[list[Row], MergeReport]:
    """Base rows plus new rows; an exact-duplicate text takes the newer labels; test texts never enter."""
    test_texts = {norm(r.text) for r in test}
    report = MergeReport(base=len(base), added=len(new))
    merged: dict[str, Row] = {norm(r.text): r for r in base}
    for r in new:
        key = norm(r.text)
        if key in test_texts:
            report.dropped_test_overlap += 1
            continue
        old = merged.get(key)
        if old is not None and (old.topics, old.stance, old.rhetoric) != (r.topics, r.stance, r.rhetoric):
            report.replaced.append({"text": r.text[:120], "old": [old.topics, old.stance, old.rhetoric],
                                    "new": [r.topics, r.stance, r.rhetoric], "line": r.line})
        merged[key] = r
    rows = list(merged.values())
    report.total = len(rows)
    return rows, report


def compare(champion: dict[str, Any], challenger: dict[str, Any], tolerance: float) -> dict[str, Any]:
    deltas = {h: round(challenger["model"][h]["macro_f1"] - champion["model"][h]["macro_f1"], 4) for h in LAYERS}
    worse = [h for h in LAYERS if deltas[h] < -tolerance]
    return {"champion": {h: round(champion["model"][h]["macro_f1"], 4) for h in LAYERS},
            "challenger": {h: round(challenger["model"][h]["macro_f1"], 4) for h in LAYERS},
            "delta": deltas, "worse_beyond_tolerance": worse, "tolerance": tolerance}


def retrain(new_file: Path, cfg: TrainConfig, data_dir: Path, home: Path | None = None,
            eval_file: Path | None = None, tolerance: float = 0.01, force: bool = False,
            resume: bool = False) -> dict[str, Any]:
    new_rows = read_jsonl(new_file)  # raises DataFileError listing every problem; nothing trained
    eval_rows = read_jsonl(eval_file) if eval_file else None
    splits = Splits.load(data_dir)
    store = ModelStore(home)
    champion = store.current()
    if champion is None:
        from diplotag.errors import ModelUnavailableError

        raise ModelUnavailableError("no current model to compare with: build the default model first "
                                    "(`make model`) or promote a version")
    merged, merge_report = merge(splits.train, new_rows, splits.test)
    version = store.next_version()
    out = store.root / version
    extra = {"eval": eval_rows} if eval_rows else None
    info = {"added_data": {"file": new_file.name, **merge_report.__dict__}}
    _, metrics = train_and_save(cfg, Splits(merged, splits.dev, splits.test), out, home=home, version=version,
                                parent=champion, extra_eval=extra, resume=resume, training_info=info)
    champ_pred = Predictor.from_pretrained(store.path(champion), device=cfg.device, precision="fp32", home=home,
                                           packing=TRAINING_PACKING)
    result: dict[str, Any] = {"challenger": version, "champion": champion, "merge": info["added_data"]}
    result["test"] = compare(evaluate_rows(champ_pred, splits.test), metrics["test"], tolerance)
    if eval_rows:
        result["eval"] = compare(evaluate_rows(champ_pred, eval_rows), metrics["eval"], tolerance)
    worse = result["test"]["worse_beyond_tolerance"] + (result.get("eval", {}).get("worse_beyond_tolerance") or [])
    promote = not worse or force
    result["decision"] = "promoted" if promote else "rejected"
    result["forced"] = bool(force and worse)
    reason = "not worse than the champion within tolerance" if not worse else f"forced despite {sorted(set(worse))}"
    if promote:
        store.promote(version, reason=reason, forced=result["forced"])
    (out / "comparison.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "comparison.md").write_text(render_comparison(result), encoding="utf-8")
    cfg_path = out / "config.json"
    cfg_json = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg_json["training"]["promotion"] = {"decision": result["decision"], "forced": result["forced"], "reason": reason}
    cfg_path.write_text(json.dumps(cfg_json, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def render_comparison(result: dict[str, Any]) -> str:
    lines = [f"# {result['challenger']} (challenger) vs {result['champion']} (champion): {result['decision']}"
             + (" (forced)" if result["forced"] else ""), ""]
    for name in ("test", "eval"):
        if name not in result:
            continue
        c = result[name]
        lines += [f"## {name} (tolerance {c['tolerance']})", "", "| layer | champion | challenger | Δ |", "|---|---:|---:|---:|"]
        lines += [f"| {h} | {c['champion'][h]:.4f} | {c['challenger'][h]:.4f} | {c['delta'][h]:+.4f} |" for h in LAYERS]
        lines.append("")
    m = result["merge"]
    lines.append(f"Data: {m['base']} base rows + {m['added']} new rows ({len(m['replaced'])} relabelled duplicates, "
                 f"{m['dropped_test_overlap']} dropped as test-set texts) = {m['total']} training rows.")
    return "\n".join(lines) + "\n"
