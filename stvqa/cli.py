"""The `stvqa` command line: parses flags, calls library functions, prints with rich.

Commands live one per module in `stvqa/commands/` and never import this module; it registers them.
"""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer
from rich.logging import RichHandler

from . import __version__
from .commands import build, eval, export, filter as filter_command, inspect, merge, render, stats, train
from .commands.common import StvqaGroup, console, err_console, settings

app = typer.Typer(
    name="stvqa",
    cls=StvqaGroup,
    help="Build spatial VQA datasets from scene graphs, and train vision-language models on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"stvqa {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show details: per-record warnings and tracebacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=verbose, show_time=False)],
        force=True,
    )
    settings.update(verbose=verbose, quiet=quiet)


# In pipeline order in `stvqa --help`: build, filter, export, then the tools that look at data, then training.
for name, command in (("build", build.build), ("filter", filter_command.filter_run), ("export", export.export), ("merge", merge.merge),
                      ("inspect", inspect.inspect), ("stats", stats.stats), ("render", render.render), ("train", train.train), ("eval", eval.eval)):
    app.command(name)(command)
