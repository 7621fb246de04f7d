from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from diplotag.cli import main
from diplotag.model.predictor import Predictor
from diplotag.scoring import ScoreOptions, partial_path, score_file

DOCS = [
    {"id": "d1", "text": "Pékin appelle Kiev et Moscou à reprendre les pourparlers. Minsk dénonce l'embargo."},
    {"id": "d2", "sentences": ["La coopérative laitière inaugure une fromagerie.", "Le sommet s'ouvre."]},
    {"id": 3, "text": "M. Wang a reçu Mme Colonna. Les deux parties ont signé un accord."},
]


def write_jsonl(path, rows, extra_lines=()):
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


@pytest.fixture()
def predictor(tiny_model):
    return Predictor.from_pretrained(tiny_model, device="cpu", precision="fp32")


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_same_json(a, b, path="$"):
    assert type(a) is type(b) or {type(a), type(b)} <= {int, float}, f"{path}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert_same_json(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: lengths {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_json(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert abs(a - b) <= 1e-5, f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def test_rows_equal_the_api_response(predictor, tiny_model, tmp_path, make_client):
    out = tmp_path / "out.jsonl"
    score_file(predictor, write_jsonl(tmp_path / "in.jsonl", DOCS), out, ScoreOptions(progress=False))
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["d1", "d2", "3"]
    client = make_client()
    api = client.post("/v1/classify", json={"text": DOCS[0]["text"]})
    line = out.read_text(encoding="utf-8").splitlines()[0]
    assert line.startswith('{"id":"d1",')
    # same fields, same order, same labels; probabilities equal up to float noise (the batch job packs
    # sentences of several documents into one batch, so padding widths, and the last digit, can differ)
    assert_same_json(json.loads(line), {"id": "d1", **api.json()})
    assert "start" not in rows[1]["sentences"][0]  # given sentences have no offsets


def test_errors_file_and_exit_code(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("DIPLOTAG_MODEL", str(tiny_model))
    src = write_jsonl(tmp_path / "in.jsonl", DOCS + [
        {"text": "pas d'id"}, {"id": "e1", "text": "   "}, {"id": "e2", "text": 12},
        {"id": "d1", "text": "doublon."}], extra_lines=["{not json", "[1, 2]"])
    with src.open("ab") as f:
        f.write(b'{"id": "bad", "text": "\xff\xfe"}\n')
    out = tmp_path / "out.jsonl"
    from diplotag.settings import get_settings

    get_settings.cache_clear()
    res = CliRunner().invoke(main, ["score", str(src), "-o", str(out), "--no-progress"])
    assert res.exit_code == 100 + 7, res.output
    assert [r["id"] for r in read_jsonl(out)] == ["d1", "d2", "3"]
    errs = read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    reasons = {e["line"]: e["reason"] for e in errs}
    assert reasons[4].startswith("missing id")
    assert reasons[5] == "empty text"
    assert "must be a string" in reasons[6]
    assert "duplicate id" in reasons[7]
    assert "invalid JSON" in reasons[8]
    assert reasons[9] == "expected a JSON object"
    assert reasons[10] == "line is not valid UTF-8"


def test_missing_and_malformed_inputs_exit_2(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("DIPLOTAG_MODEL", str(tiny_model))
    runner = CliRunner()
    res = runner.invoke(main, ["score", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "not found" in res.output
    bad = tmp_path / "in.txt"
    bad.write_text("x")
    res = runner.invoke(main, ["score", str(bad), "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "unsupported input type" in res.output
    pq_bad = tmp_path / "in.parquet"
    pq_bad.write_bytes(b"not parquet")
    res = runner.invoke(main, ["score", str(pq_bad), "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "Parquet" in res.output
    assert not (tmp_path / "o.jsonl").exists()


def test_resume_after_interruption_gives_one_row_per_id(predictor, tmp_path, monkeypatch):
    docs = [{"id": f"doc{i}", "text": f"Phrase numéro {i}. Une autre phrase pour le document {i}."} for i in range(40)]
    src = write_jsonl(tmp_path / "in.jsonl", docs)
    out = tmp_path / "out.jsonl"
    import diplotag.scoring as scoring

    calls = {"n": 0}
    real_rows = scoring._rows

    def dying_rows(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        yield from real_rows(*a, **k)

    monkeypatch.setattr(scoring, "_rows", dying_rows)
    with pytest.raises(KeyboardInterrupt):
        score_file(predictor, src, out, ScoreOptions(progress=False, chunk_sentences=10))
    assert not out.exists()
    part = partial_path(out)
    done_before = len(read_jsonl(part))
    assert 0 < done_before < 40
    with part.open("a", encoding="utf-8") as f:
        f.write('{"id": "doc39", "sente')  # a torn last line, as after kill -9
    monkeypatch.setattr(scoring, "_rows", real_rows)
    report = score_file(predictor, src, out, ScoreOptions(progress=False, resume=True, chunk_sentences=10))
    ids = [r["id"] for r in read_jsonl(out)]
    assert sorted(ids) == sorted(d["id"] for d in docs) and len(ids) == len(set(ids))
    assert report.skipped == done_before
    assert not part.exists()


def test_per_sentence_parquet_and_csv(predictor, tmp_path):
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["doc", "body"])
        w.writeheader()
        w.writerow({"doc": "a", "body": "Minsk dénonce l'embargo. Kiev appelle à la paix."})
        w.writerow({"doc": "b", "body": "Le sommet s'ouvre."})
    out = tmp_path / "out.parquet"
    score_file(predictor, src, out, ScoreOptions(progress=False, per_sentence=True, id_field="doc", text_field="body"))
    table = pq.read_table(out).to_pylist()
    assert [(r["id"], r["index"]) for r in table] == [("a", 0), ("a", 1), ("b", 0)]
    assert table[0]["stance"]["label"] in ("favor", "against", "neutral")
    out2 = tmp_path / "docs.parquet"
    score_file(predictor, out.with_name("in.csv"), out2, ScoreOptions(progress=False, id_field="doc", text_field="body"))
    rows = pq.read_table(out2).to_pylist()
    assert rows[0]["document"]["sentences"] == 2 and len(rows[0]["sentences"]) == 2
    back = tmp_path / "back.jsonl"
    score_file(predictor, out2, back, ScoreOptions(progress=False, sentences_field="none", text_field="missing"))
    assert len(read_jsonl(back.with_name("back.jsonl.errors.jsonl"))) == 2  # parquet input read; no text field
