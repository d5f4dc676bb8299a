"""The `--push-to-hub` flags of `stvqa export`, `build` and `filter`, and the push after the export."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import console

HUB_PARAMS = [
    inspect.Parameter("push_to_hub", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="Upload the exported dataset to this Hugging Face dataset repository (ORG/NAME), as one commit.", rich_help_panel="Hub")]),
    inspect.Parameter("private", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        help="With --push-to-hub: create the repository private.", rich_help_panel="Hub")]),
    inspect.Parameter("revision", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="With --push-to-hub: push to this branch (created if new); default: main.", rich_help_panel="Hub")]),
    inspect.Parameter("token_env", inspect.Parameter.KEYWORD_ONLY, default="HF_TOKEN", annotation=Annotated[str, typer.Option(
        help="With --push-to-hub: environment variable holding the Hub token (never stored or printed).", rich_help_panel="Hub")]),
    inspect.Parameter("force_push", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        help="With --push-to-hub: push into a Hub dataset that stvqa did not write.", rich_help_panel="Hub")]),
]
HUB_NAMES = [p.name for p in HUB_PARAMS]


def hub_values(values: dict[str, Any]) -> dict[str, Any]:
    """The hub flags, taken out of a command's values (the rest are the command's config flags)."""
    return {name: values.pop(name) for name in HUB_NAMES if name in values}


def push_if_asked(folder: Path, hub: dict[str, Any]) -> None:
    if not hub.get("push_to_hub"):
        return
    from ..stages.export.hub import push_to_hub

    url = push_to_hub(folder, hub["push_to_hub"], private=hub.get("private", False), revision=hub.get("revision"),
                      token_env=hub.get("token_env", "HF_TOKEN"), force=hub.get("force_push", False))
    console.print(f"Pushed {folder} to the Hub: [bold]{url}[/]")
