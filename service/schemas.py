"""Request and response bodies: one pydantic schema per purpose."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from diplotag.documents import DocumentResult, ModelRef
from diplotag.model.schema import TOPICS

EXAMPLE_TEXT = ("PÉKIN, 3 juin (Xinhua) -- La Chine s'oppose aux sanctions unilatérales. "
                "Pékin appelle Kiev et Moscou à reprendre au plus vite les pourparlers de paix.")


def _check_thresholds(v: dict[str, float] | None) -> dict[str, float] | None:
    if v is None:
        return v
    unknown = [k for k in v if k not in TOPICS]
    if unknown:
        raise ValueError(f"unknown topic(s) {unknown}; allowed: {list(TOPICS)}")
    bad = [k for k, x in v.items() if not 0.0 < x < 1.0]
    if bad:
        raise ValueError(f"thresholds must lie strictly between 0 and 1 (got {[v[k] for k in bad]})")
    return v


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": EXAMPLE_TEXT},
        {"sentences": ["Minsk dénonce les nouvelles restrictions imposées par Bruxelles."],
         "threshold": {"sanctions": 0.3}, "include_text": False},
    ]})

    text: str | None = Field(default=None, description="A whole article; it is split into sentences.")
    sentences: list[str] | None = Field(default=None, description="Sentences already split; kept as given.")
    threshold: dict[str, float] | None = Field(default=None, description="Per-topic threshold overrides.")
    include_text: bool = Field(default=True, description="Echo each sentence's text in the response.")

    _thresholds = field_validator("threshold")(_check_thresholds)

    @model_validator(mode="after")
    def one_input(self) -> ClassifyRequest:
        if (self.text is None) == (self.sentences is None):
            raise ValueError("give exactly one of 'text' or 'sentences'")
        if self.text is not None and not self.text.strip():
            raise ValueError("'text' is empty or whitespace")
        if self.sentences is not None:
            if not self.sentences:
                raise ValueError("'sentences' is empty")
            empty = [i for i, s in enumerate(self.sentences) if not s.strip()]
            if empty:
                raise ValueError(f"sentences {empty[:10]} are empty or whitespace")
        return self


class ClassifyResponse(DocumentResult):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "model": {"name": "diplotag-e5-small", "version": "1", "schema_version": "1"},
        "sentences": [{"index": 0, "text": "La Chine s'oppose aux sanctions unilatérales.", "start": 0, "end": 46,
                       "topics": {"ukraine": 0.01, "sanctions": 0.98, "sovereignty": 0.1, "cooperation": 0.02},
                       "labels": ["sanctions"],
                       "stance": {"label": "against", "probabilities": {"favor": 0.02, "against": 0.95, "neutral": 0.03}},
                       "rhetoric": {"label": "criticism", "probabilities": {
                           "appeal": 0.02, "commitment": 0.01, "criticism": 0.9, "endorsement": 0.01, "report": 0.06}},
                       "truncated": False}],
        "document": {"sentences": 1,
                     "topics": {t: {"share": float(t == "sanctions"), "max_probability": 0.5} for t in TOPICS},
                     "stance": {"favor": 0, "against": 1, "neutral": 0},
                     "rhetoric": {"appeal": 0, "commitment": 0, "criticism": 1, "endorsement": 0, "report": 0}},
    }]})


class BatchDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    text: str

    @field_validator("text")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("'text' is empty or whitespace")
        return v


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"documents": [{"id": "a1", "text": EXAMPLE_TEXT}, {"id": "a2", "text": "Minsk dénonce l'embargo."}]}]})
    documents: list[BatchDocument] = Field(min_length=1)
    threshold: dict[str, float] | None = None
    include_text: bool = True

    _thresholds = field_validator("threshold")(_check_thresholds)

    @model_validator(mode="after")
    def unique_ids(self) -> BatchRequest:
        ids = [d.id for d in self.documents]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate document id(s): {dup[:10]}")
        return self


class BatchItem(ClassifyResponse):
    id: str


class BatchResponse(BaseModel):
    model: ModelRef
    documents: list[BatchItem]


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(default=None, description="Model directory; default: the current/promoted model.")


class ReloadResponse(BaseModel):
    previous: ModelRef | None
    current: ModelRef
    path: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
