"""Annotated dependencies: settings, the model holder, the batcher, the API key check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from diplotag.errors import DiplotagError
from diplotag.service.batcher import DynamicBatcher
from diplotag.service.metrics import Metrics
from diplotag.service.state import ModelHolder
from diplotag.settings import Settings


class UnauthorizedError(DiplotagError):
    code = "unauthorized"
    http_status = 401


class PayloadTooLargeError(DiplotagError):
    code = "payload_too_large"
    http_status = 413


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


def get_batcher(request: Request) -> DynamicBatcher:
    return request.app.state.batcher


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
BatcherDep = Annotated[DynamicBatcher, Depends(get_batcher)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def require_api_key(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None,
                    x_api_key: Annotated[str | None, Header()] = None) -> None:
    """When DIPLOTAG_API_KEY is set, every /v1 route needs it (Bearer or X-API-Key)."""
    expected = settings.api_key
    if not expected:
        return
    given = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise UnauthorizedError("missing or invalid API key (Authorization: Bearer <key> or X-API-Key)")
