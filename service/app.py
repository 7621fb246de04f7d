"""create_app(): the FastAPI application, its lifespan (model loaded once) and error mapping."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from diplotag import __version__
from diplotag.errors import DiplotagError
from diplotag.model.predictor import CPU_BATCH_SIZE
from diplotag.paths import current_model_dir, resolve_model_dir
from diplotag.service import routes_admin, routes_classify, routes_meta
from diplotag.service.batcher import DynamicBatcher
from diplotag.service.deps import require_api_key
from diplotag.service.metrics import Metrics
from diplotag.service.middleware import RequestMiddleware
from diplotag.service.state import ModelHolder
from diplotag.settings import Settings, get_settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def error_response(status: int, code: str, message: str, details: list | None = None) -> JSONResponse:
    body: dict = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


def create_app(settings: Settings | None = None, model_path: Path | None = None, batching: bool = True) -> FastAPI:
    settings = settings or get_settings()
    metrics = Metrics()
    holder = ModelHolder(settings)

    follow_index = model_path is None and not settings.model

    async def load(path: Path) -> None:
        try:
            _, new = await asyncio.get_running_loop().run_in_executor(None, holder.swap, path)
            metrics.model_loaded.set(1)
            metrics.model_info.info({"version": new.ref.version, "name": new.ref.name, "path": path.name})
        except DiplotagError as exc:
            if holder.current is None:
                holder.error = f"model not loaded: {exc}"
            log.error("model not loaded from %s: %s", path, exc)

    async def watch_index(first_load: asyncio.Task) -> None:
        """Swap in the model the index names current when it changes (a promotion or rollback). Starts
        once the first load has ended: a slow first load (compiling) is not started a second time."""
        await asyncio.wait([first_load])
        failed: Path | None = None
        while True:
            await asyncio.sleep(settings.watch_index_s)
            target = current_model_dir(settings.home_dir)
            loaded = holder.current
            if (loaded is None or target.resolve() != loaded.path.resolve()) and target != failed:
                log.info("model index changed: loading %s", target)
                await load(target)
                failed = None if holder.current and holder.current.path == target else target

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        path = model_path or resolve_model_dir(settings.model, settings.home_dir)
        batcher = app.state.batcher
        batcher.start()
        tasks = [asyncio.create_task(load(path))]
        if follow_index and settings.watch_index_s > 0:
            tasks.append(asyncio.create_task(watch_index(tasks[0])))
        yield
        for t in tasks:
            t.cancel()
        await batcher.stop()

    app = FastAPI(title="diplotag", version=__version__, lifespan=lifespan,
                  description="Topics, stance and rhetoric for every sentence of French diplomatic news. "
                              "Schema: GET /v1/labels. Errors: `{\"error\": {\"code\", \"message\"}}`.")
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.holder = holder
    app.state.batcher = DynamicBatcher(holder.get, metrics, max_batch=(settings.batch_size or CPU_BATCH_SIZE) * 4,
                                       max_wait_ms=settings.max_batch_wait_ms,
                                       enabled=batching and settings.max_batch_wait_ms > 0)
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes)

    secured = [Depends(require_api_key)]
    app.include_router(routes_classify.router, dependencies=secured)
    app.include_router(routes_meta.router, dependencies=secured)
    app.include_router(routes_admin.router, dependencies=secured)
    app.include_router(routes_meta.health)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.exception_handler(DiplotagError)
    async def diplotag_error(_: Request, exc: DiplotagError) -> JSONResponse:
        return error_response(exc.http_status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            details.append({"field": loc or "body", "message": e.get("msg", "invalid"), "type": e.get("type")})
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        msg = f"{first['field']}: {first['message']}" if first["field"] != "body" else first["message"]
        return error_response(422, "invalid_request", msg, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def model_failure(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected failure: %s", exc)
        return error_response(503, "model_failure", f"the model failed on this request ({type(exc).__name__}); "
                                                    "the service keeps running")

    return app
