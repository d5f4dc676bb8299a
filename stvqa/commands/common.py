"""What every command shares: the consoles, turning user mistakes into `error:`/`hint:` and exit 1, and
`--config FILE` defaults (the flags themselves come from the configs: `flags.py`)."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import StvqaError, WaitingForBatches, as_os_error, os_error
from ..progress import Progress, for_console

class _PipeConsole(Console):
    def on_broken_pipe(self) -> None:
        """`stvqa inspect RUN | head`: the reader has all it wanted, which is a success (rich exits 1)."""
        self.quiet = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        raise SystemExit(0)


log = logging.getLogger("stvqa")
console = _PipeConsole(soft_wrap=True)  # messages stay on one line (greppable, testable); tables still fit the width
err_console = Console(stderr=True, soft_wrap=True)
try:  # Typer < 0.22 depends on Click and raises Click's exceptions; newer ones carry their own copies, without Click
    import click
except ImportError:
    click = None
_CLICK_ERRORS = tuple({e for e in (getattr(typer, "TyperException", None), click and click.ClickException) if e})
_ABORTS = tuple({e for e in (typer.Abort, click and click.Abort) if e})
USER_MISTAKE = 1  # the exit code of every user mistake: bad flags, bad config values, bad or missing data
WAITING = 75  # EX_TEMPFAIL: the work went out in provider batches; run the same command again later
CONFIG_FILE = "stvqa.config_file"  # ctx.meta key: the --config file whose keys became the command's defaults
settings = {"verbose": False, "quiet": False}


def report_error(message: str, hint: str | None) -> None:
    # Escaped: messages quote user input and commands, whose brackets are not markup (`pip install -e '.[train]'`).
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    if hint:
        err_console.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False)


def user_errors(command):
    """Turn `StvqaError` into one message and exit code 1; a traceback only with --verbose."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            raise  # the reader of a pipe stopped reading: the console's own handling applies
        except Exception as exc:
            fault = None if isinstance(exc, StvqaError) else as_os_error(exc)
            if not isinstance(exc, StvqaError) and fault is None:
                raise  # a bug, not a mistake or a fault of the machine: the traceback is what a report needs
            if settings["verbose"]:
                err_console.print_exception()
            error = exc if isinstance(exc, StvqaError) else os_error(fault)
            if isinstance(error, WaitingForBatches):
                err_console.print(f"[bold yellow]waiting:[/] {escape(error.message)}", highlight=False)
                if error.hint:
                    err_console.print(f"[yellow]hint:[/] {escape(error.hint)}", highlight=False)
                raise typer.Exit(WAITING) from None
            report_error(_as_config_key(error.message, kwargs.get("ctx")), error.hint)  # commands with --config take `ctx`
            raise typer.Exit(USER_MISTAKE) from None

    return wrapper


def _as_config_key(message: str, ctx: Any) -> str:
    """A message about a flag ("--per-image 0 is out of range") whose value came from the --config file names the
    file's key and the file instead ("per_image in run.yaml: 0 is out of range"): the user never typed that flag."""
    flag, _, rest = message.partition(" ")
    if ctx is None or not flag.startswith("--") or CONFIG_FILE not in ctx.meta:
        return message
    key = next((p.name for p in ctx.command.params if flag in getattr(p, "opts", ()) or flag in getattr(p, "secondary_opts", ())),
               flag[2:].replace("-", "_"))
    source = ctx.get_parameter_source(key)
    if source is None or source.name != "DEFAULT_MAP":
        return message
    return f"{key} in {ctx.meta[CONFIG_FILE]}: {rest}"


class StvqaGroup(typer.core.TyperGroup):
    """Click's usage errors (unknown flag, bad value type, missing argument) in the same format and with
    the same exit code as every other user mistake, instead of a boxed usage message and exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except _CLICK_ERRORS as exc:
            ctx = getattr(exc, "ctx", None)
            if not exc.format_message().strip():  # `stvqa` alone: the help was shown, and there is nothing more to say
                raise SystemExit(0) from None
            report_error(exc.format_message(), f"See `{ctx.command_path if ctx else 'stvqa'} --help`.")
            raise SystemExit(USER_MISTAKE) from None
        except _ABORTS:
            err_console.print("aborted")
            raise SystemExit(130) from None
        raise SystemExit(code if isinstance(code, int) else 0)


def config_option(help: str, renamed: Callable[[], dict[str, str]] = dict) -> Any:
    """The `--config FILE` option of a command; `renamed()`: keys of earlier versions -> today's (read, with a notice)."""
    def callback(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
        return load_config_defaults(ctx, param, value, renamed())

    return typer.Option(help=help, is_eager=True, callback=callback)


def load_config_defaults(ctx: typer.Context, param, value: Path | None, renamed: dict[str, str] | None = None) -> Path | None:
    """`--config FILE`: the file's keys become the command's defaults (Click's default_map), so flags still win."""
    if value is None:
        return value
    import yaml

    value = find_config(value)
    try:
        data = load_yaml(value.read_text(encoding="utf-8"))
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {value}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise typer.BadParameter(f"{value} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise typer.BadParameter(f"{value} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{value} must be a mapping of flag names to values")
    for old, new in (renamed or {}).items():
        if old in data:
            if new in data:
                raise typer.BadParameter(f"{value}: {old} and {new} are the same setting (write {new})")
            log.warning("%s: the key %s is now %s (read as %s; rename it, the old name will go)", value, old, new, new)
            data[new] = data.pop(old)
    known = {p.name for p in ctx.command.params}
    unknown = sorted(set(data) - known)
    if unknown:
        raise typer.BadParameter(f"{value}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known - {'config'}))})")
    ctx.default_map = {**(ctx.default_map or {}), **data}
    ctx.meta[CONFIG_FILE] = value
    return value


def find_config(value: Path) -> Path:
    """A config file: the path given, else one of the configs that ship with stvqa (`pipelines/`), named with or
    without the folder and the `.yaml` (`--config stvqa-7k` works from any folder, and in an installed wheel)."""
    if value.expanduser().exists():
        return value.expanduser()
    from ..resources import resource_dir

    shipped = resource_dir("pipelines")
    stem = value.name.removesuffix(".yaml").removesuffix(".yml")
    candidate = shipped / f"{stem}.yaml"
    if len(value.parts) <= 2 and candidate.is_file():
        return candidate
    names = ", ".join(sorted(p.stem for p in shipped.glob("*.yaml") if not p.stem.startswith("grpo_")))
    raise typer.BadParameter(f"{value} does not exist (the configs that ship with stvqa: {names})")


def load_yaml(text: str) -> Any:
    """YAML as `yaml.safe_load` reads it, except that a key given twice in one mapping is an error (PyYAML
    silently keeps the last value, so a typo'd config would quietly run other settings than the user meant)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node, deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml.load(text, Loader=UniqueKeyLoader)


def progress() -> Progress:
    """Progress to stderr: a live bar on a terminal, periodic flushed lines otherwise, nothing with --quiet."""
    return for_console(err_console, quiet=settings["quiet"])
