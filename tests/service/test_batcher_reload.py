from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

from diplotag.model.predictor import Predictor

TEXTS = [f"Phrase {i} : Minsk dénonce l'embargo et appelle à la coopération régionale." * (1 + i % 3)
         for i in range(12)]


def test_concurrent_clients_share_batches_and_match_unbatched(make_client, tiny_model):
    client = make_client(max_batch_wait_ms=50.0)
    unbatched = Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32").predict(TEXTS)
    barrier = threading.Barrier(6)

    def call(i: int):
        barrier.wait()
        return client.post("/v1/classify", json={"sentences": TEXTS[2 * i: 2 * i + 2]})

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(call, range(6)))
    assert all(r.status_code == 200 for r in responses)
    got = [s for r in responses for s in r.json()["sentences"]]
    for a, b in zip(got, unbatched, strict=True):
        assert a["labels"] == b.labels
        assert a["stance"]["label"] == b.stance.label and a["rhetoric"]["label"] == b.rhetoric.label
        for t, p in b.topics.items():
            assert abs(a["topics"][t] - p) < 1e-4
    metrics = client.get("/metrics").text
    count = next(float(line.split()[-1]) for line in metrics.splitlines()
                 if line.startswith("diplotag_batch_size_sentences_count"))
    assert count < 6  # several requests shared a forward batch group


def test_batcher_off_gives_same_answers(make_client):
    on = make_client(max_batch_wait_ms=5.0).post("/v1/classify", json={"sentences": TEXTS}).json()
    off = make_client(batching=False).post("/v1/classify", json={"sentences": TEXTS}).json()
    assert on["sentences"] == off["sentences"]


def test_reload_swaps_without_failed_requests(make_client, tiny_model, tmp_path):
    client = make_client(api_key="k")
    h = {"X-API-Key": "k"}
    other = tmp_path / "v2"
    shutil.copytree(tiny_model, other)
    cfg = (other / "config.json").read_text().replace('"model_version": "1"', '"model_version": "2"')
    (other / "config.json").write_text(cfg)

    stop = threading.Event()
    statuses: list[int] = []

    def hammer():
        while not stop.is_set():
            statuses.append(client.post("/v1/classify", json={"text": "Kiev appelle à la paix."}, headers=h).status_code)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    r = client.post("/v1/admin/reload", json={"model": str(other)}, headers=h)
    stop.set()
    for t in threads:
        t.join()
    assert r.status_code == 200, r.text
    assert r.json()["previous"]["version"] == "1" and r.json()["current"]["version"] == "2"
    assert statuses and set(statuses) == {200}
    assert client.get("/v1/model", headers=h).json()["model"]["version"] == "2"
    assert client.post("/v1/classify", json={"text": "Un."}, headers=h).json()["model"]["version"] == "2"


def test_failed_reload_keeps_the_old_model(make_client, tmp_path):
    client = make_client(api_key="k")
    h = {"X-API-Key": "k"}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    r = client.post("/v1/admin/reload", json={"model": str(broken)}, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "reload_failed" and "corrupt JSON" in r.json()["error"]["message"]
    assert client.post("/v1/classify", json={"text": "Un."}, headers=h).json()["model"]["version"] == "1"
    r = client.post("/v1/admin/reload", json={"model": str(tmp_path / "missing")}, headers=h)
    assert r.status_code == 422 and "not found" in r.json()["error"]["message"]


def test_reload_needs_the_api_key(make_client):
    client = make_client()
    r = client.post("/v1/admin/reload", json={})
    assert r.status_code == 401
