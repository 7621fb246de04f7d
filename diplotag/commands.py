"""Subcommands for training, evaluation, prediction and data checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from diplotag import paths
from diplotag.errors import BadInputError
from diplotag.settings import get_settings
from diplotag.training.recipe import TrainConfig

log = logging.getLogger("diplotag")
DEVICES = click.Choice(["auto", "cpu", "cuda"])
PRECISIONS = click.Choice(["auto", "int8", "fp32", "bf16", "fp16"])
COMPILES = click.Choice(["auto", "on", "off"])
COMPILE_HELP = "Compile the encoder (about 20 s once, then about +20 % sentences/s on CPU bf16); default DIPLOTAG_COMPILE or auto."


def _home(home: Path | None) -> Path:
    return (home or get_settings().home_dir).expanduser()


def wire_eval(data_dir: Path) -> dict | None:
    """The wire-style articles beside the splits, as a second test set, when present."""
    from diplotag.training.wire import article_rows

    path = data_dir / "wire" / "articles.jsonl"
    return {"wire": article_rows(path)} if path.is_file() else None


@click.command("train")
@click.option("--base", default="e5-small", show_default=True, help="Base encoder: registry name, hub id or directory.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Model directory to write (default: the default model in DIPLOTAG_HOME).")
@click.option("--add", "add_file", type=click.Path(path_type=Path), default=None,
              help="New labelled JSONL: merge with the training data, train a challenger, promote if not worse.")
@click.option("--eval", "eval_file", type=click.Path(path_type=Path), default=None,
              help="With --add: a second evaluation file for the comparison.")
@click.option("--tolerance", type=float, default=0.01, show_default=True,
              help="With --add: how much macro-F1 a layer may lose and still be promoted.")
@click.option("--force", is_flag=True, help="With --add: promote even if worse (recorded).")
@click.option("--resume", is_flag=True, help="Continue an interrupted training from its last epoch checkpoint.")
@click.option("--epochs", type=int, default=TrainConfig.epochs, show_default=True)
@click.option("--batch-size", type=int, default=TrainConfig.batch_size, show_default=True)
@click.option("--lr", type=float, default=TrainConfig.lr, show_default=True, help="Encoder (LoRA) learning rate.")
@click.option("--head-lr", type=float, default=TrainConfig.head_lr, show_default=True)
@click.option("--max-length", type=int, default=TrainConfig.max_length, show_default=True)
@click.option("--weights", type=click.Choice(["lora", "full"]), default="lora", show_default=True)
@click.option("--lora-r", type=int, default=TrainConfig.lora_r, show_default=True)
@click.option("--seed", type=int, default=TrainConfig.seed, show_default=True)
@click.option("--max-steps", type=int, default=None, help="Stop after this many steps (smoke runs).")
@click.option("--device", type=DEVICES, default=None)
@click.option("--precision", type=PRECISIONS, default="auto", show_default=True, help="Autocast during training.")
@click.option("--version", "version", default="1", show_default=True, help="Model version to record.")
@click.option("--no-progress", is_flag=True)
@click.option("--home", type=click.Path(path_type=Path), default=None)
def train_cmd(base, data_dir, output, add_file, eval_file, tolerance, force, resume, epochs, batch_size, lr, head_lr,
              max_length, weights, lora_r, seed, max_steps, device, precision, version, no_progress, home) -> None:
    """Train a model on DATA_DIR/{train,dev,test}.jsonl (or retrain with --add) and save it."""
    from diplotag.training.evaluate import markdown_table
    from diplotag.training.pipeline import Splits, train_and_save

    try:
        cfg = TrainConfig(base=base, epochs=epochs, batch_size=batch_size, lr=lr, head_lr=head_lr,
                          max_length=max_length, weights=weights, lora_r=lora_r, lora_alpha=2 * lora_r,
                          seed=seed, max_steps=max_steps, device=device or get_settings().device,
                          precision=precision, progress=not no_progress)
    except ValueError as exc:
        raise BadInputError(str(exc)) from exc
    if add_file is not None:
        from diplotag.training.retrain import render_comparison, retrain

        result = retrain(add_file, cfg, data_dir, home=_home(home), eval_file=eval_file, tolerance=tolerance,
                         force=force, resume=resume)
        click.echo(render_comparison(result))
        return
    splits = Splits.load(data_dir)
    out = output or paths.default_model_dir(_home(home))
    _, metrics = train_and_save(cfg, splits, out, home=_home(home), version=version, resume=resume,
                                extra_eval=wire_eval(data_dir))
    click.echo(markdown_table(metrics["test"]))
    click.echo(f"model written to {out}")


@click.command("evaluate")
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--train", "train_file", type=click.Path(path_type=Path), default=Path("data/train.jsonl"),
              show_default=True, help="Training split for the TF-IDF baseline ('' to skip).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Directory for evaluation.json and evaluation.md (default: beside nothing, print only).")
@click.option("--device", type=DEVICES, default=None)
@click.option("--precision", type=PRECISIONS, default=None)
@click.option("--home", type=click.Path(path_type=Path), default=None)
def evaluate_cmd(model, data, train_file, out, device, precision, home) -> None:
    """Per-label P/R/F1, macro/micro-F1 and confusion matrices, beside the TF-IDF baseline."""
    from diplotag.model.predictor import Predictor
    from diplotag.training.baseline import TfidfBaseline
    from diplotag.training.data import read_jsonl
    from diplotag.training.evaluate import evaluate_rows, markdown_table, write_report
    from diplotag.training.wire import read_eval_rows

    s = get_settings()
    rows = read_eval_rows(data)
    train_rows = read_jsonl(train_file) if train_file and str(train_file) else None
    predictor = Predictor.from_pretrained(model, device=device or s.device, precision=precision or s.precision,
                                          batch_size=s.batch_size, home=_home(home), packing=s.packing)
    baseline = TfidfBaseline(predictor.config.schema).fit(train_rows) if train_rows else None
    report = evaluate_rows(predictor, rows, baseline, name=str(data))
    click.echo(markdown_table(report))
    if out:
        j, md = write_report(report, out)
        click.echo(f"wrote {j} and {md}")


@click.command("predict")
@click.argument("sentences", nargs=-1)
@click.option("--model", default=None, help="Model directory (default: DIPLOTAG_MODEL or the default model).")
@click.option("--device", type=DEVICES, default=None)
@click.option("--precision", type=PRECISIONS, default=None)
def predict_cmd(sentences, model, device, precision) -> None:
    """Classify sentences given as arguments (or one per line on stdin); JSON lines out."""
    import sys

    from diplotag.model.predictor import Predictor

    texts = list(sentences) or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise BadInputError("no sentences given (arguments or stdin)")
    s = get_settings()
    predictor = Predictor.from_pretrained(paths.resolve_model_dir(model), device=device or s.device,
                                          precision=precision or s.precision, batch_size=s.batch_size,
                                          home=s.home_dir, packing=s.packing)
    for p in predictor.predict(texts):
        click.echo(json.dumps(p.model_dump(exclude_none=True), ensure_ascii=False))


@click.group("data")
def data_cmd() -> None:
    """Labelled data tools."""


@data_cmd.command("check")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@click.option("--no-coverage", is_flag=True, help="Skip the coverage targets (for small or partial sets).")
def data_check_cmd(data_dir: Path, no_coverage: bool) -> None:
    """Validate the splits: schema, duplicates within and across splits, lengths, coverage."""
    from diplotag.training.datacheck import check_data_dir

    report = check_data_dir(data_dir, coverage=not no_coverage)
    click.echo(report.render())
    if report.problems:
        raise SystemExit(1)


@click.command("serve")
@click.option("--host", default=None, help="Default: DIPLOTAG_HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default: DIPLOTAG_PORT or 8000.")
@click.option("--model", default=None, help="Model directory (default: DIPLOTAG_MODEL or the default model).")
@click.option("--device", type=DEVICES, default=None)
@click.option("--precision", type=PRECISIONS, default=None)
@click.option("--compile", "compile_", type=COMPILES, default=None, help=COMPILE_HELP)
@click.option("--no-batching", is_flag=True, help="Score each request on its own (no dynamic batcher).")
def serve_cmd(host, port, model, device, precision, compile_, no_batching) -> None:
    """Serve the HTTP API and the web page with uvicorn."""
    import uvicorn

    from diplotag.logs import configure_json_logging
    from diplotag.service.app import create_app

    s = get_settings()
    updates = {k: v for k, v in {"device": device, "precision": precision, "model": model,
                                 "compile": compile_}.items() if v}
    settings = s.model_copy(update=updates)
    path = paths.resolve_model_dir(settings.model, settings.home_dir)
    if not path.is_dir():
        raise BadInputError(f"no model at {path}: run `make model` (or `diplotag model build`) first, "
                            "or pass --model DIR")
    configure_json_logging()
    # Without --model/DIPLOTAG_MODEL the service follows the model index (promotions, rollbacks).
    app = create_app(settings, model_path=path if settings.model else None, batching=not no_batching)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_config=None)


@click.group("model")
def model_cmd() -> None:
    """The default model."""


@model_cmd.command("build")
@click.option("--train", "retrain", is_flag=True, help="Retrain from scratch with the default recipe.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@click.option("--force", is_flag=True, help="Rebuild even if the default model exists.")
@click.option("--home", type=click.Path(path_type=Path), default=None)
def model_build_cmd(retrain: bool, data_dir: Path, force: bool, home: Path | None) -> None:
    """Build the default model: the shipped adapter on e5-small, or train it when none is shipped."""
    from diplotag.model.default_model import assemble_shipped, shipped_available

    home_dir = _home(home)
    target = paths.default_model_dir(home_dir)
    if (target / "config.json").is_file() and not (force or retrain):
        click.echo(f"default model ready: {target}")
        return
    if shipped_available() and not retrain:
        assemble_shipped(target, home_dir)
        click.echo(f"default model assembled from the shipped adapter: {target}")
        return
    from diplotag.training.pipeline import Splits, train_and_save
    from diplotag.training.recipe import TrainConfig

    log.info("training the default model (no shipped adapter, or --train): this takes minutes")
    cfg = TrainConfig(device=get_settings().device)
    train_and_save(cfg, Splits.load(data_dir), target, home=home_dir, version="1", extra_eval=wire_eval(data_dir))
    click.echo(f"default model trained: {target}")


@click.command("score")
@click.argument("input_path", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="OUTPUT.jsonl or OUTPUT.parquet")
@click.option("--model", default=None, help="Model directory (default: DIPLOTAG_MODEL or the default model).")
@click.option("--id-field", default="id", show_default=True)
@click.option("--text-field", default="text", show_default=True)
@click.option("--sentences-field", default="sentences", show_default=True)
@click.option("--per-sentence", is_flag=True, help="One row per sentence instead of one per document.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run, skipping ids already scored.")
@click.option("--no-text", is_flag=True, help="Leave sentence texts out of the rows.")
@click.option("--device", type=DEVICES, default=None)
@click.option("--precision", type=PRECISIONS, default=None)
@click.option("--batch-size", type=int, default=None)
@click.option("--compile", "compile_", type=COMPILES, default=None,
              help=COMPILE_HELP + " auto compiles inputs of 8 MB or more.")
@click.option("--no-progress", is_flag=True)
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: Ray Data (pip install 'diplotag[ray]'), output is a Parquet directory.")
@click.option("--workers", type=int, default=1, show_default=True, help="Ray: actors holding the model.")
@click.option("--ray-address", default=None, help="Ray: cluster address (ray://HEAD:10001); default RAY_ADDRESS or local.")
def score_cmd(input_path, output, model, id_field, text_field, sentences_field, per_sentence, resume, no_text,
              device, precision, batch_size, compile_, no_progress, engine, workers, ray_address) -> None:
    """Score a collection (JSONL, CSV or Parquet; one document a row) into JSONL or Parquet.

    Exit status: 0 when every row was scored; 100+N when N rows (N capped at 99) went to
    OUTPUT.errors.jsonl; 2 for a missing or malformed input file.
    """
    from diplotag.model.predictor import Predictor
    from diplotag.readers import input_format
    from diplotag.scoring import ScoreOptions, score_file

    input_format(input_path)
    if not input_path.is_file():
        raise BadInputError(f"input file not found: {input_path}")
    s = get_settings()
    opts = ScoreOptions(id_field=id_field, text_field=text_field, sentences_field=sentences_field,
                        per_sentence=per_sentence, resume=resume, include_text=not no_text, progress=not no_progress)
    if engine == "ray":
        from diplotag.ray_engine import score_with_ray

        report = score_with_ray(paths.resolve_model_dir(model, s.home_dir), input_path, output, opts, workers=workers,
                                address=ray_address, device=device or s.device, precision=precision or s.precision,
                                home=s.home_dir, compile=compile_ or s.compile)
        click.echo(f"scored {report.documents} documents in {report.seconds:.1f} s with Ray; {report.errors} errors "
                   f"-> {output}", err=True)
        if report.errors:
            raise SystemExit(100 + min(report.errors, 99))
        return
    predictor = Predictor.from_pretrained(paths.resolve_model_dir(model, s.home_dir), device=device or s.device,
                                          precision=precision or s.precision, batch_size=batch_size or s.batch_size,
                                          home=s.home_dir, cache_size=s.cache_size, packing=s.packing)
    predictor.maybe_compile(compile_ or s.compile, input_bytes=input_path.stat().st_size)
    try:
        report = score_file(predictor, input_path, output, opts)
    except KeyboardInterrupt:
        click.echo("diplotag: interrupted; the rows scored so far are kept: rerun with --resume", err=True)
        raise SystemExit(130) from None
    rate = report.sentences / report.seconds if report.seconds else 0.0
    click.echo(f"scored {report.documents} documents, {report.sentences} sentences in {report.seconds:.1f} s "
               f"({rate:.0f} sentences/s); skipped {report.skipped} already scored; {report.errors} errors"
               + (f" (see {report.errors_file})" if report.errors else "") + f" -> {report.output}", err=True)
    if report.errors:
        raise SystemExit(100 + min(report.errors, 99))


@model_cmd.command("ship")
@click.argument("source", type=click.Path(path_type=Path))
def model_ship_cmd(source: Path) -> None:
    """Copy a trained model's adapter, heads, config, probe and card into model/default (for developers)."""
    from diplotag.model.default_model import SHIPPED, ship

    size = ship(source)
    click.echo(f"shipped {source} into {SHIPPED} ({size / 1e6:.2f} MB)")


@click.group("models")
@click.option("--home", type=click.Path(path_type=Path), default=None)
@click.pass_context
def models_cmd(ctx: click.Context, home: Path | None) -> None:
    """Model versions: list, show, promote, rollback."""
    from diplotag.training.versions import ModelStore

    ctx.obj = ModelStore(_home(home))


@models_cmd.command("list")
@click.pass_obj
def models_list(store) -> None:
    """Every version, its parent, test macro-F1 and which one is current."""
    for v in store.versions():
        d = store.describe(v)
        f1 = " ".join(f"{k}={x:.3f}" for k, x in d["test_macro_f1"].items())
        click.echo(f"{'*' if d['current'] else ' '} {v:8} parent={d['parent'] or '-':8} {f1}  {d['created_at'] or ''}")


@models_cmd.command("show")
@click.argument("version")
@click.pass_obj
def models_show(store, version: str) -> None:
    """Details of one version (JSON)."""
    click.echo(json.dumps(store.describe(version), indent=2, ensure_ascii=False))


@models_cmd.command("promote")
@click.argument("version")
@click.option("--notify", default=None, help="Base URL of a running service to reload (e.g. http://127.0.0.1:8000).")
@click.pass_obj
def models_promote(store, version: str, notify: str | None) -> None:
    """Make VERSION the current model (a running service picks it up from the index)."""
    store.promote(version, reason="manual promote")
    click.echo(f"current model: {version}")
    if notify:
        _notify(notify)


@models_cmd.command("rollback")
@click.option("--notify", default=None, help="Base URL of a running service to reload.")
@click.pass_obj
def models_rollback(store, notify: str | None) -> None:
    """Make the previously current model current again."""
    index = store.rollback()
    click.echo(f"current model: {index['current']}")
    if notify:
        _notify(notify)


def _notify(base_url: str) -> None:
    import httpx

    key = get_settings().api_key
    headers = {"X-API-Key": key} if key else {}
    try:
        r = httpx.post(base_url.rstrip("/") + "/v1/admin/reload", json={}, headers=headers, timeout=120)
    except httpx.HTTPError as exc:
        raise BadInputError(f"could not reach the service at {base_url}: {exc}") from exc
    if r.status_code != 200:
        raise BadInputError(f"service reload failed ({r.status_code}): {r.text[:200]}")
    click.echo(f"service reloaded: {r.json()['current']}")
