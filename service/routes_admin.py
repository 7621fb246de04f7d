"""POST /v1/admin/reload: swap in another model without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter

from diplotag.errors import BadInputError, DiplotagError
from diplotag.paths import resolve_model_dir
from diplotag.service.deps import HolderDep, MetricsDep, SettingsDep, UnauthorizedError
from diplotag.service.schemas import ReloadRequest, ReloadResponse

router = APIRouter(prefix="/v1/admin", tags=["admin"])


class ReloadFailedError(DiplotagError):
    code = "reload_failed"
    http_status = 422


@router.post("/reload", response_model=ReloadResponse,
             summary="Load another model directory (or the current promoted one) and swap it in")
async def reload_model(holder: HolderDep, settings: SettingsDep, metrics: MetricsDep,
                       body: ReloadRequest | None = None) -> ReloadResponse:
    if not settings.api_key:
        raise UnauthorizedError("reload needs DIPLOTAG_API_KEY to be set on the server")
    path = Path(body.model).expanduser() if body and body.model else resolve_model_dir(None, settings.home_dir)
    if not path.is_dir():
        raise BadInputError(f"model directory not found: {path}")
    try:
        old, new = await asyncio.get_running_loop().run_in_executor(None, holder.swap, path)
    except DiplotagError as exc:
        metrics.reloads.labels("failed").inc()
        raise ReloadFailedError(f"reload failed, still serving the previous model: {exc}") from exc
    metrics.reloads.labels("ok").inc()
    metrics.model_info.info({"version": new.ref.version, "name": new.ref.name, "path": new.path.name})
    return ReloadResponse(previous=old.ref if old else None, current=new.ref, path=str(new.path))
