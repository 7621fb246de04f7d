"""ASGI middleware: request id, JSON access log, metrics, and the body checks (413/415/400)."""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diplotag.logs import request_id
from diplotag.service.metrics import Metrics

log = logging.getLogger("diplotag.access")


def error_bytes(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()


class RequestMiddleware:
    """Buffers POST bodies up to max_body_bytes, checks type and encoding, then replays them."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id") or uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            if scope["method"] in ("POST", "PUT", "PATCH"):
                problem, receive = await self._check_body(headers, receive)
                if problem is not None:
                    status, code, msg = problem
                    await self._reply(send_wrapper, status, code, msg)
                    return
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or ("other" if status_holder["status"] == 404 else scope["path"])
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(path, scope["method"], str(status_holder["status"])).inc()
            self.metrics.latency.labels(path).observe(elapsed)
            log.info("%s %s %s", scope["method"], scope["path"], status_holder["status"],
                     extra={"method": scope["method"], "path": scope["path"], "status": status_holder["status"],
                            "duration_ms": round(elapsed * 1000, 2)})
            request_id.reset(token)

    async def _check_body(self, headers: dict[str, str], receive: Receive):
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            return (413, "payload_too_large", f"request body exceeds {self.max_body} bytes"), receive
        chunks, size = [], 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body:
                return (413, "payload_too_large", f"request body exceeds {self.max_body} bytes"), receive
            chunks.append(body)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype != "application/json":
            return (415, "unsupported_media_type",
                    f"content type {ctype or 'missing'!r} is not supported; send application/json"), receive
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (400, "invalid_encoding", f"request body is not valid UTF-8 (byte {exc.start})"), receive
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        return None, replay

    @staticmethod
    async def _reply(send: Send, status: int, code: str, message: str) -> None:
        payload = error_bytes(code, message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
