"""Latency and throughput of the running service on loopback, and its peak memory."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """`diplotag serve` in a subprocess (the real entry point), on 127.0.0.1 only."""

    def __init__(self, model_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        full_env = {**os.environ, **env, "DIPLOTAG_MODEL": str(model_dir)}
        self.proc = subprocess.Popen([sys.executable, "-m", "diplotag.cli", "serve", "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=full_env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("the service exited during start-up")
            time.sleep(0.2)
        raise RuntimeError("the service did not become ready")

    def close(self) -> float:
        peak = rss_peak_mb(self.proc.pid)
        self.proc.terminate()
        self.proc.wait(20)
        return peak


async def load(url: str, article: str, clients: int, seconds: float, max_requests: int) -> dict:
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    sent = 0

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal errors, sent
        while time.monotonic() < stop_at and sent < max_requests:
            sent += 1
            t0 = time.perf_counter()
            try:
                r = await c.post(url + "/v1/classify", json={"text": article}, timeout=60)
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    t0 = time.perf_counter()
    async with httpx.AsyncClient() as c:
        await asyncio.gather(*(client(c) for _ in range(clients)))
    wall = time.perf_counter() - t0
    lat = np.array(latencies)
    return {"clients": clients, "requests": len(lat), "errors": errors, "requests_per_s": round(len(lat) / wall, 2),
            "p50_s": round(float(np.percentile(lat, 50)), 3), "p95_s": round(float(np.percentile(lat, 95)), 3),
            "p99_s": round(float(np.percentile(lat, 99)), 3)}


def run(model_dir: Path, article: str, seconds: float = 15, soak_seconds: float = 60) -> dict:
    out: dict = {"article_sentences": None, "runs": []}
    for batcher, wait in (("on", "5"), ("off", "0")):
        # The cache is off: every request repeats one article, which the cache would answer from memory.
        server = Server(model_dir, {"DIPLOTAG_MAX_BATCH_WAIT_MS": wait, "DIPLOTAG_CACHE_SIZE": "0"})
        try:
            n = len(httpx.post(server.url + "/v1/classify", json={"text": article}, timeout=60).json()["sentences"])
            out["article_sentences"] = n
            for clients in (1, 4, 16):
                r = asyncio.run(load(server.url, article, clients, seconds, 10_000))
                r["batcher"] = batcher
                out["runs"].append(r)
                print(f"batcher {batcher:3} clients {clients:2}: {r}", flush=True)
            if batcher == "on":
                soak = asyncio.run(load(server.url, article, 16, soak_seconds, 100_000))
                soak["batcher"] = batcher
                soak["seconds"] = soak_seconds
                out["soak"] = soak
                print(f"soak 16 clients {soak_seconds:.0f}s: {soak}", flush=True)
        finally:
            out.setdefault("peak_rss_mb", {})[batcher] = round(server.close(), 1)
    return out
