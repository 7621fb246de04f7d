"""Dynamic batching: concurrent requests share forward passes.

Requests queue their sentences; a worker takes the first, waits up to `max_wait_ms` for more
(until `max_batch` sentences), scores them all in one length-sorted call in a thread, and
hands each request its rows. Each group uses the model current when the group starts, so a
reload never splits a request across models.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from diplotag.errors import DiplotagError, ModelFailureError
from diplotag.model.predictor import Scores
from diplotag.service.metrics import Metrics
from diplotag.service.state import Loaded

log = logging.getLogger(__name__)


@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future = field(repr=False)


class DynamicBatcher:
    def __init__(self, get_model: Callable[[], Loaded], metrics: Metrics, max_batch: int = 64,
                 max_wait_ms: float = 5.0, enabled: bool = True) -> None:
        self.get_model = get_model
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.enabled = enabled
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        if self.enabled and self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="diplotag-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def score(self, texts: list[str]) -> tuple[Scores, Loaded]:
        loop = asyncio.get_running_loop()
        if not self.enabled:
            loaded = self.get_model()
            self.metrics.batch_size.observe(len(texts))
            return await self._guarded(loop, loaded, texts), loaded
        fut: asyncio.Future = loop.create_future()
        await self.queue.put(_Job(texts, fut))
        self.metrics.queue_depth.set(self.queue.qsize())
        return await fut

    @staticmethod
    async def _guarded(loop: asyncio.AbstractEventLoop, loaded: Loaded, texts: list[str]) -> Scores:
        try:
            return await loop.run_in_executor(None, loaded.predictor.score, texts)
        except Exception as exc:
            log.exception("model failure on %d sentences", len(texts))
            raise ModelFailureError(f"the model failed on this request ({type(exc).__name__}: {exc}); "
                                    "the service keeps running") from exc

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self.queue.get()
            jobs = [first]
            total = len(first.texts)
            deadline = time.monotonic() + self.max_wait
            while total < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
                jobs.append(job)
                total += len(job.texts)
            self.metrics.queue_depth.set(self.queue.qsize())
            await self._score_group(loop, jobs)

    async def _score_group(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        jobs = [j for j in jobs if not j.future.cancelled()]
        if not jobs:
            return
        try:
            loaded = self.get_model()
            texts = [t for j in jobs for t in j.texts]
            self.metrics.batch_size.observe(len(texts))
            scores = await self._guarded(loop, loaded, texts)
        except DiplotagError as exc:  # the model failed: every waiting request gets the error
            for j in jobs:
                if not j.future.done():
                    j.future.set_exception(exc)
            return
        start = 0
        for j in jobs:
            end = start + len(j.texts)
            part = scores.slice(start, end)
            if not j.future.done():
                j.future.set_result((part, loaded))
            start = end
