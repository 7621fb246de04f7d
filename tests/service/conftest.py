from __future__ import annotations

import time

import pytest
from diplotag.service.app import create_app
from fastapi.testclient import TestClient

from diplotag.settings import Settings


def wait_ready(client: TestClient, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"model did not load: {client.get('/readyz').json()}")


@pytest.fixture()
def make_client(tiny_model, _isolated_home):
    clients = []

    def make(batching: bool = True, model_path=None, **overrides) -> TestClient:
        settings = Settings(home=_isolated_home, device="cpu", precision="fp32", **overrides)
        app = create_app(settings, model_path=model_path or tiny_model, batching=batching)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        if model_path is None or model_path.is_dir():
            wait_ready(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture()
def client(make_client) -> TestClient:
    return make_client()
