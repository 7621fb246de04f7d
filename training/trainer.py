"""Joint training of the three heads (LoRA on the encoder by default), early stopping on dev."""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm
from transformers import get_linear_schedule_with_warmup

from diplotag.model.classifier import DiplotagClassifier
from diplotag.model.config import LoraSettings
from diplotag.model.device import cpu_has_fast_bf16, select_device
from diplotag.model.predictor import Predictor
from diplotag.training.calibration import fit_temperature, tune_thresholds
from diplotag.training.data import Row, label_arrays
from diplotag.training.evaluate import decisions
from diplotag.training.metrics import headline, layer_metrics
from diplotag.training.recipe import TrainConfig

log = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "fp32":
        return None
    if precision == "bf16" or (precision == "auto" and device.type == "cpu" and cpu_has_fast_bf16()):
        return torch.bfloat16
    if device.type == "cuda" and precision in ("auto", "fp16"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


def length_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort inside chunks of 50 batches, shuffle batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for i in range(0, len(idx), chunk):
        part = sorted(idx[i : i + chunk], key=lambda j: lengths[j])
        batches += [part[k : k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def loss_weights(rows: list[Row], model: DiplotagClassifier, enabled: bool) -> dict[str, torch.Tensor | None]:
    y = label_arrays(rows, model.config.schema)
    if not enabled:
        return {"topics": None, "stance": None, "rhetoric": None}
    pos = y["topics"].sum(0).astype(np.float64)
    pos_weight = np.clip(np.sqrt((len(rows) - pos) / np.maximum(pos, 1.0)), 1.0, 4.0)
    out: dict[str, torch.Tensor | None] = {"topics": torch.tensor(pos_weight, dtype=torch.float32)}
    for head in ("stance", "rhetoric"):
        counts = np.bincount(y[head], minlength=len(model.config.schema.head(head))).astype(np.float64)
        w = np.sqrt(counts.sum() / np.maximum(counts, 1.0) / len(counts))
        out[head] = torch.tensor(w / w.mean(), dtype=torch.float32)
    return out


def dev_score(metrics: dict[str, Any]) -> float:
    return float(np.mean([metrics[h]["macro_f1"] for h in ("topics", "stance", "rhetoric")]))


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Atomically write the end-of-epoch state (trainable weights, optimiser, schedule, RNGs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def train(cfg: TrainConfig, train_rows: list[Row], dev_rows: list[Row], home: Path | None = None,
          init: tuple[DiplotagClassifier, Any] | None = None, checkpoint: Path | None = None,
          resume: bool = False) -> tuple[DiplotagClassifier, Any, dict[str, Any]]:
    """Train; return the best-on-dev model (thresholds and temperatures tuned) and a report.

    With `checkpoint`, the state is saved after every epoch; `resume` continues from it.
    """
    set_seed(cfg.seed)
    device = select_device(cfg.device)
    lora = LoraSettings(r=cfg.lora_r, alpha=cfg.lora_alpha)
    model, tokenizer = init or DiplotagClassifier.from_base(cfg.base, max_length=cfg.max_length,
                                                            weights=cfg.weights, lora=lora, home=home,
                                                            seed=cfg.seed)
    model.config.max_length = cfg.max_length
    if cfg.freeze_embeddings:
        for name, p in model.encoder.named_parameters():
            if "embeddings" in name:
                p.requires_grad_(False)
    model.to(device)
    amp = autocast_dtype(cfg.precision, device)
    head_params = [p for m in model.heads().values() for p in m.parameters()]
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in head_params + enc_params)
    log.info("training on %s (autocast %s): %d trainable parameters", device, amp, trainable)
    opt = torch.optim.AdamW([
        {"params": enc_params, "lr": cfg.lr},
        {"params": head_params, "lr": cfg.head_lr},
    ], weight_decay=cfg.weight_decay)

    prefix = model.config.text_prefix
    enc = tokenizer([prefix + r.text for r in train_rows], truncation=True, max_length=cfg.max_length)["input_ids"]
    y = label_arrays(train_rows, model.config.schema)
    lengths = [len(x) for x in enc]
    rng = random.Random(cfg.seed)
    steps_per_epoch = math.ceil(len(train_rows) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs if cfg.max_steps is None else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * total), total)
    weights = {k: (v.to(device) if v is not None else None) for k, v in loss_weights(train_rows, model, cfg.class_weighting).items()}
    bce = nn.BCEWithLogitsLoss(pos_weight=weights["topics"])
    ce_s = nn.CrossEntropyLoss(weight=weights["stance"])
    ce_r = nn.CrossEntropyLoss(weight=weights["rhetoric"])
    pad = tokenizer.pad_token_id or 0

    best: dict[str, Any] = {"score": -1.0, "epoch": 0, "state": None}
    history: list[dict[str, Any]] = []
    step = 0
    bad_epochs = 0
    first_epoch = 1
    if resume and checkpoint is not None and checkpoint.is_file():
        ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"], strict=False)
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        rng.setstate(ck["rng_py"])
        torch.set_rng_state(ck["rng_torch"])
        np.random.set_state(ck["rng_np"])
        best, history, step, bad_epochs = ck["best"], ck["history"], ck["step"], ck["bad_epochs"]
        first_epoch = ck["epoch"] + 1
        log.info("resuming from %s after epoch %d", checkpoint, ck["epoch"])
    t0 = time.perf_counter()
    stopped = bad_epochs >= cfg.patience or (cfg.max_steps is not None and step >= cfg.max_steps)
    for epoch in range(first_epoch, cfg.epochs + 1):
        if stopped:
            break
        model.train()
        batches = length_batches(lengths, cfg.batch_size, rng)
        bar = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", disable=not cfg.progress,
                   mininterval=2.0)
        run_loss, seen, te = 0.0, 0, time.perf_counter()
        for b in bar:
            if cfg.max_steps is not None and step >= cfg.max_steps:
                break
            width = max(lengths[j] for j in b)
            ids = torch.full((len(b), width), pad, dtype=torch.long)
            mask = torch.zeros((len(b), width), dtype=torch.long)
            for r, j in enumerate(b):
                ids[r, : lengths[j]] = torch.tensor(enc[j])
                mask[r, : lengths[j]] = 1
            with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
                out = model(ids.to(device), mask.to(device))
            loss = (bce(out["topics"].float(), torch.tensor(y["topics"][b], dtype=torch.float32, device=device))
                    + ce_s(out["stance"].float(), torch.tensor(y["stance"][b], device=device))
                    + ce_r(out["rhetoric"].float(), torch.tensor(y["rhetoric"][b], device=device)))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(head_params + enc_params, 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss += float(loss.detach()) * len(b)
            seen += len(b)
            bar.set_postfix(loss=f"{run_loss / seen:.3f}", sent_s=f"{seen / (time.perf_counter() - te):.0f}")
        bar.close()
        metrics = evaluate_dev(model, tokenizer, dev_rows, device)
        score = dev_score(metrics)
        history.append({"epoch": epoch, "train_loss": round(run_loss / max(seen, 1), 4),
                        "dev": headline(metrics), "dev_score": round(score, 4),
                        "seconds": round(time.perf_counter() - te, 1)})
        log.info("epoch %d: loss %.4f dev %s (%.0f s)", epoch, run_loss / max(seen, 1), headline(metrics),
                 time.perf_counter() - te)
        if score > best["score"]:
            best = {"score": score, "epoch": epoch, "state": trainable_state(model)}
            bad_epochs = 0
        else:
            bad_epochs += 1
        stopped = bad_epochs >= cfg.patience or (cfg.max_steps is not None and step >= cfg.max_steps)
        if checkpoint is not None:
            save_checkpoint(checkpoint, {
                "epoch": epoch, "step": step, "model": trainable_state(model), "opt": opt.state_dict(),
                "sched": sched.state_dict(), "rng_py": rng.getstate(), "rng_torch": torch.get_rng_state(),
                "rng_np": np.random.get_state(), "best": best, "history": history, "bad_epochs": bad_epochs})
        if bad_epochs >= cfg.patience:
            log.info("early stop after epoch %d (best %d)", epoch, best["epoch"])
    train_seconds = time.perf_counter() - t0
    if best["state"] is not None:
        model.load_state_dict(best["state"], strict=False)
    calib = calibrate(model, tokenizer, dev_rows, device)
    model.config.training = {
        "recipe": {k: v for k, v in asdict(cfg).items() if k not in ("progress", "extra")},
        "device": str(device), "autocast": str(amp).replace("torch.", "") if amp else "fp32",
        "train_sentences": len(train_rows), "dev_sentences": len(dev_rows),
        "best_epoch": best["epoch"], "steps": step, "train_seconds": round(train_seconds, 1),
        "history": history, "calibration": calib,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **cfg.extra,
    }
    model.config.created_at = model.config.training["trained_at"]
    model.eval()
    return model, tokenizer, model.config.training


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k in names}


# Training, calibration and the champion/challenger comparison score through padded batches, as every shipped
# model was tuned: packing (model/packing.py) moves probabilities by < 1e-5, enough to change the last digits
# of a fitted temperature and so the bit-identical reproduction of a model.
TRAINING_PACKING = "off"


def evaluate_dev(model: DiplotagClassifier, tokenizer, rows: list[Row], device: torch.device) -> dict[str, Any]:
    pred = Predictor(model, tokenizer, device=device.type, precision="fp32", batch_size=64, packing=TRAINING_PACKING)
    scores = pred.score([r.text for r in rows])
    return layer_metrics(label_arrays(rows, model.config.schema), decisions(scores, model.config.topic_thresholds))


def calibrate(model: DiplotagClassifier, tokenizer, rows: list[Row], device: torch.device) -> dict[str, Any]:
    """Topic thresholds maximising each label's dev F1; temperatures minimising dev NLL."""
    from diplotag.training.metrics import expected_calibration_error

    model.config.temperatures = {"stance": 1.0, "rhetoric": 1.0}
    pred = Predictor(model, tokenizer, device=device.type, precision="fp32", batch_size=64, packing=TRAINING_PACKING)
    scores = pred.score([r.text for r in rows])
    gold = label_arrays(rows, model.config.schema)
    model.config.topic_thresholds = tune_thresholds(scores.topics, gold["topics"])
    report: dict[str, Any] = {"thresholds": model.config.thresholds}
    for head in ("stance", "rhetoric"):
        probs = getattr(scores, head)
        logits = np.log(np.clip(probs, 1e-12, 1.0))
        t = fit_temperature(logits, gold[head])
        z = logits / t
        scaled = np.exp(z - z.max(1, keepdims=True))
        scaled /= scaled.sum(1, keepdims=True)
        model.config.temperatures[head] = t
        report[head] = {"temperature": t, "dev_ece_before": round(expected_calibration_error(probs, gold[head]), 4),
                        "dev_ece_after": round(expected_calibration_error(scaled, gold[head]), 4)}
    return report
