from __future__ import annotations

import json

import pytest
import torch

from diplotag.model.schema import RHETORIC, STANCES, TOPICS

ARTICLE = ("PÉKIN, 3 juin (Xinhua) -- Le président chinois a reçu M. Lavrov. Les deux parties ont signé un accord.\n\n"
           "« Nous nous opposons aux sanctions », a déclaré Mme Mao Ning. Kiev appelle à la paix.")


def test_classify_text_offsets_and_shape(client):
    r = client.post("/v1/classify", json={"text": ARTICLE})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["schema_version"] == "1"
    sents = body["sentences"]
    assert [s["text"] for s in sents] == [
        "PÉKIN, 3 juin (Xinhua) --", "Le président chinois a reçu M. Lavrov.", "Les deux parties ont signé un accord.",
        "« Nous nous opposons aux sanctions », a déclaré Mme Mao Ning.", "Kiev appelle à la paix."]
    for i, s in enumerate(sents):
        assert s["index"] == i
        assert ARTICLE[s["start"]:s["end"]] == s["text"]
        assert set(s["topics"]) == set(TOPICS)
        assert s["stance"]["label"] in STANCES and s["rhetoric"]["label"] in RHETORIC
        assert s["truncated"] is False
    doc = body["document"]
    assert doc["sentences"] == 5
    assert sum(doc["stance"].values()) == 5 and sum(doc["rhetoric"].values()) == 5
    for t in TOPICS:
        share = sum(t in s["labels"] for s in sents) / 5
        assert doc["topics"][t]["share"] == pytest.approx(share, abs=1e-4)
        assert doc["topics"][t]["max_probability"] == pytest.approx(max(s["topics"][t] for s in sents))


def test_classify_sentences_and_options(client):
    r = client.post("/v1/classify", json={"sentences": ["Minsk dénonce l'embargo.", "Le sommet s'ouvre."],
                                          "include_text": False, "threshold": {t: 0.01 for t in TOPICS}})
    assert r.status_code == 200, r.text
    sents = r.json()["sentences"]
    assert all("text" not in s and "start" not in s for s in sents)
    assert all(s["labels"] == list(TOPICS) for s in sents)  # thresholds near 0: every topic on
    r = client.post("/v1/classify", json={"sentences": ["Minsk dénonce l'embargo."], "threshold": {t: 0.99 for t in TOPICS}})
    assert r.json()["sentences"][0]["labels"] == [] or all(
        r.json()["sentences"][0]["topics"][t] >= 0.99 for t in r.json()["sentences"][0]["labels"])


def test_batch_matches_single(client):
    docs = [{"id": "a", "text": ARTICLE}, {"id": "b", "text": "Minsk dénonce l'embargo. Kiev appelle à la paix."}]
    r = client.post("/v1/classify/batch", json={"documents": docs})
    assert r.status_code == 200, r.text
    out = r.json()["documents"]
    assert [d["id"] for d in out] == ["a", "b"]
    for d, doc in zip(out, docs, strict=True):
        single = client.post("/v1/classify", json={"text": doc["text"]}).json()
        assert d["sentences"] == single["sentences"]
        assert d["document"] == single["document"]


def test_meta_routes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    labels = client.get("/v1/labels").json()
    assert labels["topics"] == list(TOPICS) and labels["version"] == "1"
    info = client.get("/v1/model").json()
    assert info["model"]["version"] == "1"
    assert info["compiled"] is False  # compile=auto: fp32 stays eager
    assert info["packing"] is True  # packing=auto: on for CPU
    assert "test" in info["evaluation"]
    assert info["evaluation"]["test"]["baseline"]["topics"]["macro_f1"] >= 0
    assert client.get("/").status_code == 200 and "<textarea" in client.get("/").text
    assert client.get("/openapi.json").json()["paths"]["/v1/classify"]["post"]


def test_service_compiles_the_encoder_when_asked(make_client):
    from diplotag.model import compiled

    if compiled.unavailable_reason(torch.device("cpu"), torch.float32):
        pytest.skip(compiled.unavailable_reason(torch.device("cpu"), torch.float32))
    # fp32: the tiny random-ish model has many near-threshold scores, which bf16 kernels would flip
    eager = make_client(compile="off")
    fast = make_client(compile="on")
    assert fast.get("/v1/model").json()["compiled"] is True
    padded = make_client(packing="off")
    assert padded.get("/v1/model").json()["packing"] is False
    text = "La Chine s'oppose aux sanctions unilatérales. Les deux pays renforceront leur coopération."
    a = eager.post("/v1/classify", json={"text": text}).json()["sentences"]
    b = fast.post("/v1/classify", json={"text": text}).json()["sentences"]
    assert [s["stance"]["label"] for s in a] == [s["stance"]["label"] for s in b]
    for x, y in zip(a, b, strict=True):
        assert all(abs(x["topics"][t] - y["topics"][t]) < 1e-3 for t in x["topics"])
    c = padded.post("/v1/classify", json={"text": text}).json()["sentences"]
    for x, y in zip(a, c, strict=True):  # packed (a) and padded (c) answer the same, to float rounding
        assert x["labels"] == y["labels"] and all(abs(x["topics"][t] - y["topics"][t]) < 1e-4 for t in x["topics"])


def test_metrics_count_requests_and_sentences(client):
    client.post("/v1/classify", json={"text": ARTICLE})
    client.post("/v1/classify", json={"text": ""})
    text = client.get("/metrics").text
    assert 'diplotag_requests_total{method="POST",route="/v1/classify",status="200"} 1.0' in text
    assert 'diplotag_requests_total{method="POST",route="/v1/classify",status="422"} 1.0' in text
    assert "diplotag_sentences_scored_total 5.0" in text
    assert "diplotag_request_latency_seconds_bucket" in text
    assert "diplotag_batch_size_sentences_count" in text
    assert "diplotag_queue_depth" in text
    assert 'diplotag_model_info{' in text and 'version="1"' in text


@pytest.mark.parametrize("payload,status,code", [
    ({"text": ""}, 422, "invalid_request"),
    ({"text": "   \n\t "}, 422, "invalid_request"),
    ({"sentences": []}, 422, "invalid_request"),
    ({"sentences": ["ok", " "]}, 422, "invalid_request"),
    ({"text": "a", "sentences": ["b"]}, 422, "invalid_request"),
    ({}, 422, "invalid_request"),
    ({"text": 12}, 422, "invalid_request"),
    ({"text": "ok", "threshold": {"weather": 0.5}}, 422, "invalid_request"),
    ({"text": "ok", "threshold": {"ukraine": 1.5}}, 422, "invalid_request"),
    ({"text": "ok", "extra": 1}, 422, "invalid_request"),
])
def test_bad_requests(client, payload, status, code):
    r = client.post("/v1/classify", json=payload)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_wrong_type_names_the_field(client):
    r = client.post("/v1/classify", json={"text": 12})
    assert "text" in r.json()["error"]["message"]


def test_invalid_json_content_type_and_encoding(client):
    r = client.post("/v1/classify", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = client.post("/v1/classify", content=b"text=abc", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    r = client.post("/v1/classify", content=b'{"text": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_encoding"


def test_limits(make_client):
    c = make_client(max_body_bytes=300, max_chars=100, max_sentences=3, max_documents=2)
    r = c.post("/v1/classify", json={"text": "x" * 400})
    assert r.status_code == 413 and "300 bytes" in r.json()["error"]["message"]
    r = c.post("/v1/classify", json={"text": "Une phrase. " * 12})
    assert r.status_code == 413 and "100" in r.json()["error"]["message"]
    r = c.post("/v1/classify", json={"text": "Un. Deux. Trois. Quatre."})
    assert r.status_code == 413 and "limit is 3" in r.json()["error"]["message"]
    r = c.post("/v1/classify/batch", json={"documents": [{"id": str(i), "text": "Un."} for i in range(3)]})
    assert r.status_code == 413 and "limit is 2" in r.json()["error"]["message"]


def test_batch_validation(client):
    r = client.post("/v1/classify/batch", json={"documents": [{"id": "a", "text": "x."}, {"id": "a", "text": "y."}]})
    assert r.status_code == 422 and "duplicate" in r.json()["error"]["message"]
    r = client.post("/v1/classify/batch", json={"documents": []})
    assert r.status_code == 422


def test_api_key(make_client):
    c = make_client(api_key="s3cret")
    assert c.post("/v1/classify", json={"text": "Un."}).status_code == 401
    assert c.post("/v1/classify", json={"text": "Un."}, headers={"X-API-Key": "wrong"}).status_code == 401
    assert c.post("/v1/classify", json={"text": "Un."}, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert c.post("/v1/classify", json={"text": "Un."}, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/v1/labels").status_code == 401
    assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
    body = c.post("/v1/classify", json={"text": "Un."}).json()
    assert body["error"]["code"] == "unauthorized"


def test_unknown_route_is_json(client):
    r = client.get("/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_model_failure_gives_503_and_service_survives(client, monkeypatch):
    loaded = client.app.state.holder.current

    def boom(texts, batch_size=None):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(loaded.predictor, "score", boom)
    r = client.post("/v1/classify", json={"text": "Un."})
    assert r.status_code == 503 and r.json()["error"]["code"] == "model_failure"
    monkeypatch.undo()
    assert client.post("/v1/classify", json={"text": "Un."}).status_code == 200


def test_not_ready_without_model(make_client, tmp_path):
    c = make_client(model_path=tmp_path / "missing")
    import time

    time.sleep(0.3)
    r = c.get("/readyz")
    assert r.status_code == 503
    assert "not found" in json.dumps(r.json())
    r = c.post("/v1/classify", json={"text": "Un."})
    assert r.status_code == 503 and r.json()["error"]["code"] == "model_unavailable"
