"""Per-label precision/recall/F1, micro/macro-F1 per layer and confusion matrices."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from diplotag.model.schema import DEFAULT_SCHEMA, LabelSchema


def _per_label(y_true: np.ndarray, y_pred: np.ndarray, names: tuple[str, ...], labels=None) -> dict[str, Any]:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, n in enumerate(names)}


def layer_metrics(y_true: dict[str, np.ndarray], y_pred: dict[str, np.ndarray],
                  schema: LabelSchema = DEFAULT_SCHEMA) -> dict[str, Any]:
    """y_*['topics'] multi-hot [n, T]; y_*['stance'|'rhetoric'] class indices [n]."""
    out: dict[str, Any] = {}
    t_true, t_pred = y_true["topics"], y_pred["topics"]
    out["topics"] = {
        "per_label": _per_label(t_true, t_pred, schema.topics),
        "macro_f1": float(precision_recall_fscore_support(t_true, t_pred, average="macro", zero_division=0)[2]),
        "micro_f1": float(precision_recall_fscore_support(t_true, t_pred, average="micro", zero_division=0)[2]),
        "exact_match": float(np.mean(np.all(t_true == t_pred, axis=1))),
    }
    for head in ("stance", "rhetoric"):
        names = schema.head(head)
        labels = list(range(len(names)))
        yt, yp = y_true[head], y_pred[head]
        out[head] = {
            "per_label": _per_label(yt, yp, names, labels=labels),
            "macro_f1": float(precision_recall_fscore_support(yt, yp, labels=labels, average="macro",
                                                              zero_division=0)[2]),
            "micro_f1": float(np.mean(yt == yp)),
            "confusion": {"labels": list(names),
                          "matrix": confusion_matrix(yt, yp, labels=labels).tolist()},
        }
    return out


def headline(metrics: dict[str, Any]) -> dict[str, float]:
    return {h: round(metrics[h]["macro_f1"], 4) for h in ("topics", "stance", "rhetoric")}


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)
