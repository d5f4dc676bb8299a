"""The `stvqa` command line: parses flags, calls library functions, prints with rich."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.logging import RichHandler

from . import __version__
from .errors import StvqaError

app = typer.Typer(
    name="stvqa",
    help="Build spatial VQA datasets from scene graphs, and train vision-language models on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)  # messages stay on one line (greppable, testable); tables still fit the width
err_console = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"stvqa {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show details: per-record warnings and tracebacks.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=verbose, show_time=False)],
        force=True,
    )
    main.verbose = verbose  # type: ignore[attr-defined]


def load_config_defaults(ctx: typer.Context, param, value: Path | None) -> Path | None:
    """`--config FILE`: the file's keys become the command's defaults (Click's default_map), so flags still win."""
    if value is None:
        return value
    import yaml

    try:
        data = yaml.safe_load(value.read_text())
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {value}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise typer.BadParameter(f"{value} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{value} must be a mapping of flag names to values")
    known = {p.name for p in ctx.command.params}
    unknown = sorted(set(data) - known)
    if unknown:
        raise typer.BadParameter(f"{value}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known - {'config'}))})")
    ctx.default_map = {**(ctx.default_map or {}), **data}
    return value


def user_errors(command):
    """Turn `StvqaError` into one message and exit code 1; a traceback only with --verbose."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except StvqaError as exc:
            if getattr(main, "verbose", False):
                err_console.print_exception()
            err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            if exc.hint:
                err_console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


from .commands import build, export, inspect  # noqa: E402  (commands register themselves on `app`)

__all__ = ["app", "build", "export", "inspect"]
