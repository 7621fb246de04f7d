"""Decision thresholds per topic and temperature scaling for the single-label heads (on dev)."""

from __future__ import annotations

import numpy as np


def tune_thresholds(probs: np.ndarray, y: np.ndarray, grid: np.ndarray | None = None) -> list[float]:
    """Per column, the threshold maximising F1 on these labels (ties: closest to 0.5)."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2) if grid is None else grid
    out = []
    for k in range(y.shape[1]):
        best, best_f1 = 0.5, -1.0
        for th in sorted(grid, key=lambda t: abs(t - 0.5)):
            pred = probs[:, k] >= th
            tp = float(np.sum(pred & (y[:, k] == 1)))
            fp = float(np.sum(pred & (y[:, k] == 0)))
            fn = float(np.sum(~pred & (y[:, k] == 1)))
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 > best_f1 + 1e-12:
                best, best_f1 = float(th), f1
        out.append(best)
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood on (logits, y)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 161))
    best_t, best_nll = 1.0, np.inf
    for t in grid:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -float(np.mean(logp[np.arange(len(y)), y]))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return round(best_t, 4)
