"""Evaluate a model (through the Predictor) beside the TF-IDF baseline; JSON and Markdown reports."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from diplotag.model.predictor import Predictor, Scores
from diplotag.training.baseline import TfidfBaseline
from diplotag.training.data import Row, label_arrays
from diplotag.training.metrics import expected_calibration_error, layer_metrics

log = logging.getLogger(__name__)
LAYERS = ("topics", "stance", "rhetoric")


def decisions(scores: Scores, thresholds: list[float]) -> dict[str, np.ndarray]:
    return {
        "topics": (scores.topics >= np.asarray(thresholds)[None, :]).astype(np.int64),
        "stance": scores.stance.argmax(1),
        "rhetoric": scores.rhetoric.argmax(1),
    }


def evaluate_rows(predictor: Predictor, rows: list[Row], baseline: TfidfBaseline | None = None,
                  name: str = "test") -> dict[str, Any]:
    """Metrics of the model on rows, and of a fitted baseline beside it (when given)."""
    gold = label_arrays(rows, predictor.config.schema)
    scores = predictor.score([r.text for r in rows])
    pred = decisions(scores, predictor.config.topic_thresholds)
    report: dict[str, Any] = {"data": name, "n": len(rows), "model": layer_metrics(gold, pred)}
    report["model"]["calibration"] = {
        h: {"ece": round(expected_calibration_error(getattr(scores, h), gold[h]), 4)} for h in ("stance", "rhetoric")
    }
    report["errors"] = worst_errors(rows, scores, pred, gold, predictor)
    if baseline is not None:
        report["baseline"] = layer_metrics(gold, baseline.predict([r.text for r in rows]))
    return report


def worst_errors(rows: list[Row], scores: Scores, pred: dict[str, np.ndarray], gold: dict[str, np.ndarray],
                 predictor: Predictor, k: int = 10) -> list[dict[str, Any]]:
    """The k sentences the model got most confidently wrong, with gold and predicted labels."""
    schema = predictor.config.schema
    n = len(rows)
    loss = np.zeros(n)
    eps = 1e-7
    t = np.clip(scores.topics, eps, 1 - eps)
    loss += -(gold["topics"] * np.log(t) + (1 - gold["topics"]) * np.log(1 - t)).sum(1)
    loss += -np.log(np.clip(scores.stance[np.arange(n), gold["stance"]], eps, 1))
    loss += -np.log(np.clip(scores.rhetoric[np.arange(n), gold["rhetoric"]], eps, 1))
    wrong = [i for i in range(n) if not (np.array_equal(pred["topics"][i], gold["topics"][i])
                                         and pred["stance"][i] == gold["stance"][i]
                                         and pred["rhetoric"][i] == gold["rhetoric"][i])]
    wrong.sort(key=lambda i: -loss[i])

    def labels(topics_row, s, r) -> dict[str, Any]:
        return {"topics": [schema.topics[j] for j, v in enumerate(topics_row) if v],
                "stance": schema.stance[int(s)], "rhetoric": schema.rhetoric[int(r)]}

    return [{"text": rows[i].text, "gold": labels(gold["topics"][i], gold["stance"][i], gold["rhetoric"][i]),
             "predicted": labels(pred["topics"][i], pred["stance"][i], pred["rhetoric"][i])}
            for i in wrong[:k]]


def markdown_table(report: dict[str, Any]) -> str:
    """Per-label P/R/F1 of the model with the baseline's F1 beside it, then macro/micro per layer."""
    m, b = report["model"], report.get("baseline")
    lines = [f"Evaluation on `{report['data']}` ({report['n']} sentences)", "",
             "| layer | label | precision | recall | F1 | baseline F1 | support |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for layer in LAYERS:
        for label, v in m[layer]["per_label"].items():
            bf = f"{b[layer]['per_label'][label]['f1']:.3f}" if b else "–"
            lines.append(f"| {layer} | {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {bf} | {v['support']} |")
    lines += ["", "| layer | macro-F1 | baseline macro-F1 | Δ | micro-F1 | baseline micro-F1 |",
              "|---|---:|---:|---:|---:|---:|"]
    for layer in LAYERS:
        mm, mi = m[layer]["macro_f1"], m[layer]["micro_f1"]
        if b:
            bm, bi = b[layer]["macro_f1"], b[layer]["micro_f1"]
            lines.append(f"| {layer} | {mm:.3f} | {bm:.3f} | {mm - bm:+.3f} | {mi:.3f} | {bi:.3f} |")
        else:
            lines.append(f"| {layer} | {mm:.3f} | – | – | {mi:.3f} | – |")
    for head in ("stance", "rhetoric"):
        conf = m[head]["confusion"]
        lines += ["", f"Confusion matrix, {head} (rows gold, columns predicted)", "",
                  "| gold \\ predicted | " + " | ".join(conf["labels"]) + " |",
                  "|---|" + "---:|" * len(conf["labels"])]
        for lab, row in zip(conf["labels"], conf["matrix"], strict=True):
            lines.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out_dir: Path, stem: str = "evaluation") -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    j, md = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    j.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(markdown_table(report), encoding="utf-8")
    return j, md
