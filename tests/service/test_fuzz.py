"""Property-based fuzz: whatever the body, no route answers 500, and errors are JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=60))
json_values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), c, max_size=4)),
                           max_leaves=12)
french = st.text(alphabet=st.sampled_from(list("abcdeéèàç ÀÉ.!?«»\n\t\u00a0?,-'M0123456789")), max_size=120)
classify_bodies = st.fixed_dictionaries({}, optional={
    "text": st.one_of(french, json_values),
    "sentences": st.one_of(st.lists(french, max_size=4), json_values),
    "threshold": st.one_of(st.dictionaries(st.sampled_from(["ukraine", "sanctions", "x"]),
                                           st.floats(-1, 2, allow_nan=False), max_size=3), json_values),
    "include_text": st.one_of(st.booleans(), json_values),
})
batch_bodies = st.fixed_dictionaries({}, optional={
    "documents": st.one_of(st.lists(st.fixed_dictionaries({}, optional={"id": st.one_of(st.text(max_size=5), json_values),
                                                                        "text": st.one_of(french, json_values)}),
                                    max_size=3), json_values),
    "include_text": json_values,
})


@pytest.fixture(scope="module")
def fuzz_client(tiny_model, tmp_path_factory):
    from conftest import wait_ready
    from fastapi.testclient import TestClient

    from diplotag.service.app import create_app
    from diplotag.settings import Settings

    app = create_app(Settings(home=tmp_path_factory.mktemp("h"), device="cpu", precision="fp32",
                              max_batch_wait_ms=0), model_path=tiny_model)
    with TestClient(app) as c:
        wait_ready(c)
        yield c


def check(resp) -> None:
    assert resp.status_code < 500 or resp.status_code == 503, resp.text
    if resp.status_code >= 400:
        body = resp.json()
        assert set(body["error"]) >= {"code", "message"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(classify_bodies, json_values))
def test_classify_never_500(fuzz_client, body):
    r = fuzz_client.post("/v1/classify", content=json.dumps(body), headers={"content-type": "application/json"})
    check(r)
    if r.status_code == 200:
        for s in r.json()["sentences"]:
            if "start" in s and isinstance(body.get("text"), str):
                assert body["text"][s["start"]:s["end"]] == s.get("text", body["text"][s["start"]:s["end"]])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(batch_bodies, json_values))
def test_batch_never_500(fuzz_client, body):
    check(fuzz_client.post("/v1/classify/batch", content=json.dumps(body), headers={"content-type": "application/json"}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=80), ctype=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=latin-1"]))
def test_raw_bytes_never_500(fuzz_client, raw, ctype):
    headers = {"content-type": ctype} if ctype else {}
    for path in ("/v1/classify", "/v1/classify/batch", "/v1/admin/reload"):
        check(fuzz_client.post(path, content=raw, headers=headers))


def test_every_documented_route_answers_without_500(fuzz_client):
    spec = fuzz_client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method in ops:
            r = fuzz_client.request(method.upper(), path, content=b"{}", headers={"content-type": "application/json"})
            check(r)
