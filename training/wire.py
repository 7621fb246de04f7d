"""The wire-style test articles (data/wire/articles.jsonl): whole articles labelled sentence by sentence."""

from __future__ import annotations

import json
from pathlib import Path

from diplotag.errors import DataFileError
from diplotag.model.schema import validate_labels
from diplotag.training.data import Row, read_jsonl


def article_text(article: dict) -> str:
    """Sentences joined by a space inside a paragraph, paragraphs by a blank line."""
    return "\n\n".join(" ".join(s["text"] for s in para) for para in article["paragraphs"])


def read_articles(path: Path) -> list[dict]:
    articles, problems = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            a = json.loads(line)
            paragraphs = a["paragraphs"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problems.append(f"{path}:{n}: not an article object with 'paragraphs' ({exc})")
            continue
        for p_i, para in enumerate(paragraphs):
            for s_i, s in enumerate(para):
                for issue in validate_labels(s):
                    problems.append(f"{path}:{n}: paragraph {p_i} sentence {s_i}: {issue}")
        articles.append(a)
    if problems:
        raise DataFileError(problems)
    return articles


def article_rows(path: Path) -> list[Row]:
    rows = []
    for a in read_articles(path):
        k = 0
        for para in a["paragraphs"]:
            for s in para:
                rows.append(Row(text=s["text"], topics=list(s["topics"]), stance=s["stance"], rhetoric=s["rhetoric"],
                                id=f"{a['id']}:{k}", source="wire"))
                k += 1
    return rows


def is_articles_file(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        return '"paragraphs"' in first
    except (OSError, UnicodeDecodeError):
        return False


def read_eval_rows(path: Path) -> list[Row]:
    """Sentence rows from either a labelled JSONL file or a wire articles file."""
    return article_rows(path) if is_articles_file(path) else read_jsonl(path)
