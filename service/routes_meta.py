"""Labels, model card figures, health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from diplotag.model.schema import DEFAULT_SCHEMA
from diplotag.service.deps import HolderDep, MetricsDep

router = APIRouter(prefix="/v1", tags=["model"])
health = APIRouter(tags=["health"])


@router.get("/labels", summary="The label schema")
async def labels() -> dict[str, Any]:
    return {**DEFAULT_SCHEMA.to_dict(),
            "multi_label": {"topics": True, "stance": False, "rhetoric": False},
            "guideline": "data/GUIDELINE.md"}


@router.get("/model", summary="The served model: version, base encoder, training date, evaluation table")
async def model_info(holder: HolderDep) -> dict[str, Any]:
    loaded = holder.get()
    cfg = loaded.predictor.config
    evaluation = {}
    for name, rep in (loaded.metrics or {}).items():
        if isinstance(rep, dict) and "model" in rep:
            evaluation[name] = {
                "n": rep.get("n"),
                "model": {h: {"macro_f1": rep["model"][h]["macro_f1"], "micro_f1": rep["model"][h]["micro_f1"],
                              "per_label": rep["model"][h]["per_label"]} for h in ("topics", "stance", "rhetoric")},
                "baseline": {h: {"macro_f1": rep["baseline"][h]["macro_f1"]} for h in ("topics", "stance", "rhetoric")}
                if rep.get("baseline") else None,
            }
    return {
        "model": loaded.ref.model_dump(),
        "base_encoder": cfg.base_encoder,
        "max_length": cfg.max_length,
        "trained_at": cfg.created_at,
        "data_fingerprint": cfg.data_fingerprint,
        "parent_version": cfg.parent_version,
        "thresholds": cfg.thresholds,
        "temperatures": cfg.temperatures,
        "device": str(loaded.predictor.device),
        "precision": loaded.predictor.precision,
        "compiled": loaded.predictor.compiled,
        "packing": loaded.predictor.packing,
        "evaluation": evaluation,
    }


@health.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz", summary="200 once a model is loaded")
async def readyz(holder: HolderDep) -> Response:
    if holder.current is None:
        return JSONResponse({"status": "loading", "error": holder.error}, status_code=503)
    return JSONResponse({"status": "ready", "model": holder.current.ref.model_dump()})


@health.get("/metrics", summary="Prometheus metrics")
async def metrics(m: MetricsDep) -> Response:
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
