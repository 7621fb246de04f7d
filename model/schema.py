"""The label schema (data/GUIDELINE.md, v1): the contract between data, training and serving."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "1"

TOPICS: tuple[str, ...] = ("ukraine", "sanctions", "sovereignty", "cooperation")
STANCES: tuple[str, ...] = ("favor", "against", "neutral")
RHETORIC: tuple[str, ...] = ("appeal", "commitment", "criticism", "endorsement", "report")

HEADS: dict[str, tuple[str, ...]] = {"topics": TOPICS, "stance": STANCES, "rhetoric": RHETORIC}


@dataclass(frozen=True)
class LabelSchema:
    """Label names per head, with the version they belong to."""

    version: str = SCHEMA_VERSION
    topics: tuple[str, ...] = TOPICS
    stance: tuple[str, ...] = STANCES
    rhetoric: tuple[str, ...] = RHETORIC
    descriptions: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name, values in (("topics", self.topics), ("stance", self.stance), ("rhetoric", self.rhetoric)):
            if not values or len(set(values)) != len(values):
                raise ValueError(f"schema head {name!r} needs distinct, non-empty labels")

    def head(self, name: str) -> tuple[str, ...]:
        return {"topics": self.topics, "stance": self.stance, "rhetoric": self.rhetoric}[name]

    def id2label(self) -> dict[str, dict[str, str]]:
        return {h: {str(i): lab for i, lab in enumerate(self.head(h))} for h in HEADS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "topics": list(self.topics),
            "stance": list(self.stance),
            "rhetoric": list(self.rhetoric),
        }


DEFAULT_SCHEMA = LabelSchema()


def validate_labels(row: dict[str, Any], schema: LabelSchema = DEFAULT_SCHEMA) -> list[str]:
    """Return the problems of one labelled row (empty when the row is valid)."""
    problems: list[str] = []
    text = row.get("text")
    if not isinstance(text, str):
        problems.append("field 'text' must be a string")
    elif not text.strip():
        problems.append("field 'text' is empty")
    topics = row.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        problems.append("field 'topics' must be a list of strings")
    else:
        unknown = [t for t in topics if t not in schema.topics]
        if unknown:
            problems.append(f"unknown topic(s) {unknown}; allowed: {list(schema.topics)}")
        if len(set(topics)) != len(topics):
            problems.append(f"repeated topic in {topics}")
    for head in ("stance", "rhetoric"):
        value = row.get(head)
        allowed = schema.head(head)
        if not isinstance(value, str):
            problems.append(f"field {head!r} must be one of {list(allowed)}")
        elif value not in allowed:
            problems.append(f"unknown {head} {value!r}; allowed: {list(allowed)}")
    for opt in ("id", "source", "note"):
        if opt in row and row[opt] is not None and not isinstance(row[opt], str | int):
            problems.append(f"field {opt!r} must be a string")
    return problems
