from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
from click.testing import CliRunner

from diplotag.cli import main
from diplotag.errors import DataFileError
from diplotag.model.predictor import Predictor
from diplotag.training.pipeline import Splits, checkpoint_path, train_and_save
from diplotag.training.retrain import retrain
from diplotag.training.trainer import TrainConfig
from diplotag.training.versions import ModelStore

NEW = [
    {"text": "Ankara appelle à un cessez-le-feu immédiat en Ukraine.", "topics": ["ukraine"], "stance": "favor",
     "rhetoric": "appeal"},
    {"text": "Les deux pays renforceront leur coopération portuaire.", "topics": ["cooperation"], "stance": "favor",
     "rhetoric": "commitment"},
    # an exact duplicate of a training sentence with new labels: the newer label wins
    {"text": "Le ministre a rappelé que nul pays ne doit s'ingérer dans les affaires intérieures d'autrui.",
     "topics": ["sovereignty"], "stance": "against", "rhetoric": "criticism"},
    # a test-split sentence: never allowed into training
    {"text": "La crise du logement inquiète les élus de la capitale.", "topics": [], "stance": "neutral",
     "rhetoric": "report"},
]


def tiny_cfg(tiny_bert, **kw) -> TrainConfig:
    args = {"base": str(tiny_bert), "epochs": 2, "batch_size": 8, "max_length": 64, "device": "cpu",
            "precision": "fp32", "progress": False, "lora_r": 4, "lora_alpha": 8, **kw}
    return TrainConfig(**args)


@pytest.fixture()
def store_home(_isolated_home, tiny_model):
    shutil.copytree(tiny_model, _isolated_home / "models" / "default")
    return _isolated_home


def write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_promoted_then_rejected_then_forced_then_rollback(store_home, tiny_bert, mini_data, tmp_path):
    new = write(tmp_path / "new.jsonl", NEW)
    store = ModelStore(store_home)
    assert store.current() == "default"
    r1 = retrain(new, tiny_cfg(tiny_bert), mini_data, home=store_home, tolerance=1.0)
    assert r1["decision"] == "promoted" and r1["challenger"] == "v1" and r1["champion"] == "default"
    assert store.current() == "v1"
    assert len(r1["merge"]["replaced"]) == 1 and r1["merge"]["added"] == 4
    assert r1["merge"]["dropped_test_overlap"] == 1
    assert (store.path("v1") / "comparison.md").is_file()
    cfg = json.loads((store.path("v1") / "config.json").read_text())
    assert cfg["parent_version"] == "default" and cfg["training"]["added_data"]["file"] == "new.jsonl"
    assert cfg["data_fingerprint"].startswith("sha256:")

    r2 = retrain(new, tiny_cfg(tiny_bert), mini_data, home=store_home, tolerance=-1.0)  # must gain a full point
    assert r2["decision"] == "rejected" and store.current() == "v1"
    assert json.loads((store.path("v2") / "config.json").read_text())["training"]["promotion"]["decision"] == "rejected"

    r3 = retrain(new, tiny_cfg(tiny_bert), mini_data, home=store_home, tolerance=-1.0, force=True)
    assert r3["decision"] == "promoted" and r3["forced"] is True and store.current() == "v3"
    assert store.index()["history"][-1]["forced"] is True

    store.rollback()
    assert store.current() == "v1"
    runner = CliRunner()
    out = runner.invoke(main, ["models", "--home", str(store_home), "list"])
    assert out.exit_code == 0 and "* v1" in out.output and "v3" in out.output
    out = runner.invoke(main, ["models", "--home", str(store_home), "promote", "v2"])
    assert out.exit_code == 0 and store.current() == "v2"
    out = runner.invoke(main, ["models", "--home", str(store_home), "show", "v2"])
    assert json.loads(out.output)["parent"] == "v1"
    out = runner.invoke(main, ["models", "--home", str(store_home), "promote", "v9"])
    assert out.exit_code == 2 and "no model version" in out.output


def test_bad_new_data_is_rejected_with_line_numbers(store_home, tiny_bert, mini_data, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(NEW[0]) + "\n" + '{"text": "x", "topics": ["weather"], "stance": "favor", "rhetoric": "report"}\n'
                   + "{oops\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        retrain(bad, tiny_cfg(tiny_bert), mini_data, home=store_home)
    assert f"{bad}:2: unknown topic" in str(err.value) and f"{bad}:3: invalid JSON" in str(err.value)
    assert ModelStore(store_home).versions() == ["default"]
    res = CliRunner().invoke(main, ["train", "--add", str(bad), "--data-dir", str(mini_data), "--home", str(store_home)])
    assert res.exit_code == 2 and ":2: unknown topic" in res.output


def test_resume_after_interruption_matches_an_uninterrupted_run(tiny_bert, mini_data, tmp_path, monkeypatch):
    import diplotag.training.trainer as trainer

    splits = Splits.load(mini_data)
    full, _ = train_and_save(tiny_cfg(tiny_bert, epochs=3, patience=5), splits, tmp_path / "full")

    real = trainer.evaluate_dev
    calls = {"n": 0}

    def dying(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(trainer, "evaluate_dev", dying)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train_and_save(tiny_cfg(tiny_bert, epochs=3, patience=5), splits, out)
    assert checkpoint_path(out).is_file() and not out.exists()
    monkeypatch.setattr(trainer, "evaluate_dev", real)
    train_and_save(tiny_cfg(tiny_bert, epochs=3, patience=5), splits, out, resume=True)
    assert not checkpoint_path(out).exists()
    texts = [r.text for r in splits.test]
    a = Predictor.from_pretrained(full, device="cpu", precision="fp32").score(texts)
    b = Predictor.from_pretrained(out, device="cpu", precision="fp32").score(texts)
    np.testing.assert_allclose(a.topics, b.topics, atol=1e-5)
    np.testing.assert_allclose(a.stance, b.stance, atol=1e-5)


def test_service_follows_a_promotion(store_home, tiny_model, make_client):
    v1 = store_home / "models" / "v1"
    shutil.copytree(tiny_model, v1)
    cfg = (v1 / "config.json").read_text().replace('"model_version": "1"', '"model_version": "v1"')
    (v1 / "config.json").write_text(cfg)
    client = make_client(model_path=None, watch_index_s=0.1)
    assert client.get("/v1/model").json()["model"]["version"] == "1"
    ModelStore(store_home).promote("v1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and client.get("/v1/model").json()["model"]["version"] != "v1":
        time.sleep(0.1)
    assert client.get("/v1/model").json()["model"]["version"] == "v1"
    ModelStore(store_home).rollback()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and client.get("/v1/model").json()["model"]["version"] != "1":
        time.sleep(0.1)
    assert client.get("/v1/model").json()["model"]["version"] == "1"


def test_a_slow_first_load_is_not_started_twice(store_home, make_client, monkeypatch):
    """The index watcher waits for the first load: it used to start a second one (and compile twice)
    whenever loading took longer than watch_index_s."""
    from diplotag.service.state import ModelHolder

    real, loads = ModelHolder.load, []

    def slow(self, path):
        loads.append(path)
        time.sleep(0.8)
        return real(self, path)

    monkeypatch.setattr(ModelHolder, "load", slow)
    client = make_client(model_path=None, watch_index_s=0.1)
    time.sleep(0.5)  # several watch intervals after the load finished
    assert client.get("/v1/model").status_code == 200
    assert len(loads) == 1, loads
