"""`diplotag data check`: the real data passes, and a held-out wire sentence copied into train is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from diplotag.training.datacheck import check_data_dir

DATA = Path(__file__).resolve().parents[1] / "data"


def test_shipped_data_passes_every_check() -> None:
    report = check_data_dir(DATA)
    assert report.problems == []
    assert report.counts["all"]["sentences"] > 4000


def test_a_wire_sentence_in_train_is_a_leak(tmp_path: Path) -> None:
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "wire").mkdir()
    shutil.copy(DATA / "wire" / "articles.jsonl", tmp_path / "wire" / "articles.jsonl")
    article = json.loads((DATA / "wire" / "articles.jsonl").read_text(encoding="utf-8").splitlines()[3])
    held = article["paragraphs"][1][0]
    # a light paraphrase: one word changed is still the same sentence
    words = held["text"].split()
    words[-2] = "certainement"
    row = {"id": "leak-1", "text": " ".join(words), "topics": held["topics"], "stance": held["stance"],
           "rhetoric": held["rhetoric"]}
    with (tmp_path / "train.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    problems = check_data_dir(tmp_path).problems
    assert len(problems) == 1
    assert "near-duplicate of the wire test sentence" in problems[0] and "train.jsonl" in problems[0]


def test_the_shipped_model_was_trained_on_this_data() -> None:
    """model/default/ must be retrained (and re-shipped) whenever train or dev change, so that
    `make model TRAIN=1` reproduces the shipped figures."""
    from diplotag.training.data import fingerprint, read_jsonl

    shipped = json.loads((DATA.parent / "model" / "default" / "config.json").read_text(encoding="utf-8"))
    assert shipped["data_fingerprint"] == fingerprint(read_jsonl(DATA / "train.jsonl"), read_jsonl(DATA / "dev.jsonl"))
