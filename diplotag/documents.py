"""From a document (text or sentence list) to units to score, and from scores to the response.

Shared by the service and the batch job so both produce the same JSON for the same document.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from diplotag.model.outputs import DocumentSummary, SentencePrediction, summarise
from diplotag.model.predictor import Predictor, Scores
from diplotag.text import Span, clean_for_model, split_sentences


class ModelRef(BaseModel):
    name: str = Field(description="Model name (the base encoder it was trained on).")
    version: str
    schema_version: str


class DocumentResult(BaseModel):
    """The answer for one document: what POST /v1/classify returns, and one batch row."""

    model: ModelRef
    sentences: list[SentencePrediction]
    document: DocumentSummary


def units_from_text(text: str) -> list[Span]:
    return split_sentences(text)


def units_from_sentences(sentences: Sequence[str]) -> list[Span]:
    """Already-split input: kept as given (no offsets into a text)."""
    return [Span(-1, -1, s) for s in sentences]


def model_ref(predictor: Predictor) -> ModelRef:
    cfg = predictor.config
    name = f"diplotag-{cfg.base_encoder}" if "/" not in cfg.base_encoder else "diplotag-custom"
    return ModelRef(name=name, version=cfg.model_version, schema_version=cfg.schema.version)


def model_inputs(units: Sequence[Span]) -> list[str]:
    return [clean_for_model(u.text) or u.text for u in units]


def assemble(predictor: Predictor, scores: Scores, units: Sequence[Span],
             thresholds: dict[str, float] | None = None, include_text: bool = True) -> DocumentResult:
    spans = [(u.start, u.end) for u in units] if units and units[0].start >= 0 else None
    preds = predictor.to_predictions(scores, texts=[u.text for u in units], spans=spans,
                                     thresholds=thresholds, include_text=include_text)
    return DocumentResult(model=model_ref(predictor), sentences=preds, document=summarise(preds))


def classify_document(predictor: Predictor, units: Sequence[Span], thresholds: dict[str, float] | None = None,
                      include_text: bool = True) -> DocumentResult:
    """Synchronous path (batch job, CLI): score and assemble."""
    return assemble(predictor, predictor.score(model_inputs(units)), units, thresholds, include_text)
