from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from tiny import FIXTURES, build_tiny_bert, build_tiny_camembert  # noqa: E402

from diplotag.service.app import create_app  # noqa: E402
from diplotag.settings import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own DIPLOTAG_HOME, so nothing touches the user's models."""
    from diplotag.settings import get_settings

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DIPLOTAG_HOME", str(home))
    monkeypatch.delenv("DIPLOTAG_MODEL", raising=False)
    monkeypatch.delenv("DIPLOTAG_API_KEY", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def mini_data() -> Path:
    return FIXTURES / "mini"


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_camembert(tmp_path_factory) -> Path:
    return build_tiny_camembert(tmp_path_factory.mktemp("tiny-camembert"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_bert, mini_data) -> Path:
    """A trained (a few steps) tiny model directory, shared by the tests that only read it."""
    from diplotag.training.pipeline import Splits, train_and_save
    from diplotag.training.trainer import TrainConfig

    out = tmp_path_factory.mktemp("models") / "tiny"
    cfg = TrainConfig(base=str(tiny_bert), epochs=2, batch_size=8, max_length=64, device="cpu",
                      precision="fp32", progress=False, lora_r=4, lora_alpha=8)
    train_and_save(cfg, Splits.load(mini_data), out, version="1")
    return out



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

    def make(batching: bool = True, model_path=tiny_model, **overrides) -> TestClient:
        """model_path=None: serve the current model of DIPLOTAG_HOME and follow its index."""
        settings = Settings(**{"home": _isolated_home, "device": "cpu", "precision": "fp32", **overrides})
        app = create_app(settings, model_path=model_path, batching=batching)
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
