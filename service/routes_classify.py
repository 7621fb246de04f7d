"""POST /v1/classify and /v1/classify/batch."""

from __future__ import annotations

from fastapi import APIRouter

from diplotag.documents import assemble, model_inputs, units_from_sentences, units_from_text
from diplotag.service.deps import BatcherDep, MetricsDep, PayloadTooLargeError, SettingsDep
from diplotag.service.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    ClassifyRequest,
    ClassifyResponse,
    ErrorBody,
)
from diplotag.settings import Settings

router = APIRouter(prefix="/v1", tags=["classify"])
ERRORS = {code: {"model": ErrorBody, "description": desc} for code, desc in {
    400: "Body is not valid UTF-8", 401: "Missing or wrong API key", 413: "Body, text or sentence count over the limit",
    415: "Content type is not application/json", 422: "Invalid JSON, wrong field types or empty text",
    503: "No model loaded, or the model failed"}.items()}


def _check_limits(settings: Settings, chars: int, sentences: int, what: str = "request") -> None:
    if chars > settings.max_chars:
        raise PayloadTooLargeError(f"{what} has {chars} characters; the limit is {settings.max_chars} "
                                   "(DIPLOTAG_MAX_CHARS)")
    if sentences > settings.max_sentences:
        raise PayloadTooLargeError(f"{what} has {sentences} sentences; the limit is {settings.max_sentences} "
                                   "(DIPLOTAG_MAX_SENTENCES)")


@router.post("/classify", response_model=ClassifyResponse, response_model_exclude_none=True, responses=ERRORS,
             summary="Label every sentence of one article (or of a list of sentences)")
async def classify(body: ClassifyRequest, settings: SettingsDep, batcher: BatcherDep,
                   metrics: MetricsDep) -> ClassifyResponse:
    if body.text is not None:
        _check_limits(settings, len(body.text), 0)
        units = units_from_text(body.text)
    else:
        _check_limits(settings, sum(len(s) for s in body.sentences or []), 0)
        units = units_from_sentences(body.sentences or [])
    _check_limits(settings, 0, len(units))
    scores, loaded = await batcher.score(model_inputs(units))
    metrics.sentences.inc(len(units))
    result = assemble(loaded.predictor, scores, units, body.threshold, body.include_text)
    return ClassifyResponse.model_validate(result.model_dump())


@router.post("/classify/batch", response_model=BatchResponse, response_model_exclude_none=True, responses=ERRORS,
             summary="Label several articles in one call")
async def classify_batch(body: BatchRequest, settings: SettingsDep, batcher: BatcherDep,
                         metrics: MetricsDep) -> BatchResponse:
    if len(body.documents) > settings.max_documents:
        raise PayloadTooLargeError(f"{len(body.documents)} documents; the limit is {settings.max_documents} "
                                   "(DIPLOTAG_MAX_DOCUMENTS)")
    _check_limits(settings, sum(len(d.text) for d in body.documents), 0)
    per_doc = [units_from_text(d.text) for d in body.documents]
    _check_limits(settings, 0, sum(len(u) for u in per_doc))
    flat = [t for units in per_doc for t in model_inputs(units)]
    scores, loaded = await batcher.score(flat)
    metrics.sentences.inc(len(flat))
    items, start = [], 0
    for doc, units in zip(body.documents, per_doc, strict=True):
        end = start + len(units)
        result = assemble(loaded.predictor, scores.slice(start, end), units, body.threshold, body.include_text)
        items.append(BatchItem(id=doc.id, **result.model_dump()))
        start = end
    return BatchResponse(model=loaded.ref, documents=items)
