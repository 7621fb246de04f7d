"""The generated model card (README.md in the model directory)."""

from __future__ import annotations

import json
from typing import Any

from diplotag.model.config import ClassifierConfig
from diplotag.training.evaluate import markdown_table


def render_card(config: ClassifierConfig, metrics: dict[str, Any], adapter_bytes: int | None = None) -> str:
    tr = config.training or {}
    lines = [
        f"# diplotag model {config.model_version}",
        "",
        "Sentence classifier for French diplomatic news: topics (multi-label), stance and rhetoric,",
        f"label schema v{config.schema.version} (data/GUIDELINE.md).",
        "",
        "| property | value |",
        "|---|---|",
        f"| base encoder | `{config.base_encoder}` |",
        f"| weights | {config.weights}" + (f" (LoRA r={config.lora.r}, alpha={config.lora.alpha}, "
                                            f"targets {', '.join(config.lora.target_modules)})" if config.lora else "") + " |",
        f"| max length | {config.max_length} tokens |",
        f"| model version | {config.model_version} (parent {config.parent_version or '–'}) |",
        f"| data fingerprint | `{config.data_fingerprint}` |",
        f"| trained at | {tr.get('trained_at', '–')} on {tr.get('device', '–')} ({tr.get('autocast', '–')}) |",
        f"| training time | {tr.get('train_seconds', '–')} s, best epoch {tr.get('best_epoch', '–')}, {tr.get('steps', '–')} steps |",
        f"| training data | {tr.get('train_sentences', '–')} train / {tr.get('dev_sentences', '–')} dev sentences |",
    ]
    if adapter_bytes is not None:
        lines.append(f"| trained weights size | {adapter_bytes / 1e6:.1f} MB (adapter + heads) |")
    lines += ["", "Topic thresholds (tuned on dev): " + ", ".join(f"{k} {v:.2f}" for k, v in config.thresholds.items()),
              "", "Temperatures (fitted on dev): " + ", ".join(f"{k} {v:.2f}" for k, v in config.temperatures.items())]
    calib = tr.get("calibration") or {}
    if calib.get("stance"):
        lines += ["", "| head | temperature | dev ECE before | dev ECE after |", "|---|---:|---:|---:|"]
        for h in ("stance", "rhetoric"):
            c = calib[h]
            lines.append(f"| {h} | {c['temperature']:.2f} | {c['dev_ece_before']:.3f} | {c['dev_ece_after']:.3f} |")
    if note := tr.get("data_note"):
        lines += ["", f"**Data note:** {note}"]
    for name, report in metrics.items():
        if not isinstance(report, dict) or "model" not in report:
            continue
        lines += ["", f"## Evaluation: {name}", "", markdown_table(report)]
        if report.get("errors"):
            lines += ["", "Worst errors (most confident mistakes):", "", "| text | gold | predicted |", "|---|---|---|"]
            for e in report["errors"]:
                lines.append(f"| {e['text'].replace('|', '/')} | {_lab(e['gold'])} | {_lab(e['predicted'])} |")
    if tr.get("history"):
        lines += ["", "## Training history", "", "```json", json.dumps(tr["history"], indent=1), "```"]
    recipe = tr.get("recipe")
    if recipe:
        lines += ["", "## Recipe", "", "```json", json.dumps(recipe, indent=1), "```"]
    return "\n".join(lines) + "\n"


def _lab(d: dict[str, Any]) -> str:
    return f"{'+'.join(d['topics']) or '∅'} / {d['stance']} / {d['rhetoric']}"
