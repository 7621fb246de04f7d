"""The one output type for a sentence and the one for a document (API and batch rows alike)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from diplotag.model.schema import RHETORIC, STANCES, TOPICS


class LabelScore(BaseModel):
    """The chosen label of a single-label head and the probability of every value."""

    label: str
    probabilities: dict[str, float]


class SentencePrediction(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "index": 0, "text": "Pékin appelle Kiev et Moscou à reprendre les pourparlers.", "start": 0, "end": 57,
        "topics": {"ukraine": 0.98, "sanctions": 0.01, "sovereignty": 0.03, "cooperation": 0.12},
        "labels": ["ukraine"],
        "stance": {"label": "favor", "probabilities": {"favor": 0.9, "against": 0.03, "neutral": 0.07}},
        "rhetoric": {"label": "appeal", "probabilities": {
            "appeal": 0.95, "commitment": 0.01, "criticism": 0.01, "endorsement": 0.01, "report": 0.02}},
        "truncated": False}})

    index: int = Field(description="Position of the sentence in the document, from 0.")
    text: str | None = Field(default=None, description="The sentence (omitted when include_text is false).")
    start: int | None = Field(default=None, description="Character offset of the sentence in the submitted text.")
    end: int | None = Field(default=None, description="Character offset just past the sentence.")
    topics: dict[str, float] = Field(description="Probability of each topic.")
    labels: list[str] = Field(description="Topics whose probability reaches their threshold.")
    stance: LabelScore
    rhetoric: LabelScore
    truncated: bool = Field(description="True when the sentence was longer than the model window and was cut.")


class TopicSummary(BaseModel):
    share: float = Field(description="Share of the document's sentences that carry the topic.")
    max_probability: float = Field(description="Highest probability of the topic in the document.")


class DocumentSummary(BaseModel):
    sentences: int
    topics: dict[str, TopicSummary]
    stance: dict[str, int] = Field(description="How many sentences have each stance.")
    rhetoric: dict[str, int] = Field(description="How many sentences have each rhetoric value.")


def summarise(preds: Sequence[SentencePrediction]) -> DocumentSummary:
    n = len(preds)
    topics = {
        t: TopicSummary(
            share=round(sum(t in p.labels for p in preds) / n, 4) if n else 0.0,
            max_probability=max((p.topics[t] for p in preds), default=0.0),
        )
        for t in TOPICS
    }
    stance = Counter(p.stance.label for p in preds)
    rhetoric = Counter(p.rhetoric.label for p in preds)
    return DocumentSummary(
        sentences=n,
        topics=topics,
        stance={s: stance.get(s, 0) for s in STANCES},
        rhetoric={r: rhetoric.get(r, 0) for r in RHETORIC},
    )
