"""Command-line flags made from config dataclasses: each field is one flag, its help and default written once, in
the dataclass (as TRL's `HfArgumentParser` does), and its name is the `--config` file's key.

A field's metadata may say `flag` (the option's spelling, e.g. `--images/--no-images`), `cli_type` (the type the
flag parses when the field's own is a structure the config parses itself, e.g. `--mix relation=0.5,...`),
`old_keys` (config-file keys of earlier versions, still read with a notice) or `cli: False` (no flag). Nested
config dataclasses contribute their fields. Where two configs hold a field of the same name (`--seed`), one flag
sets both. A command says which configs it takes, under which prefix (`--judge-model` in `stvqa build`).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass, fields
from typing import Annotated, Any, Optional

import typer

from ..config import config_from_dict, dataclass_in

Path_ = tuple[str, ...]  # where a value goes: ("generate", "llm", "model")


@dataclass(frozen=True)
class Flag:
    param: str  # the Python parameter, and the config file's key
    decls: tuple[str, ...]  # ("--per-image",) or ("--images/--no-images",)
    kind: Any  # what Typer parses
    default: Any
    help: str
    targets: tuple[Path_, ...]  # the config fields it sets
    old_keys: tuple[str, ...] = ()
    show_default: bool | str = True

    def parameter(self) -> inspect.Parameter:
        option = typer.Option(*self.decls, help=self.help, show_default=self.show_default)
        return inspect.Parameter(self.param, inspect.Parameter.KEYWORD_ONLY, default=self.default, annotation=Annotated[self.kind, option])


@dataclass(frozen=True)
class Group:
    """The fields of one config dataclass (and the ones nested in it) as flags.

    `path`: where the config sits in what the command builds (a stage's name in `stvqa build`); `prefix`: put
    before the names of the fields that are not in `share` (the build's judge endpoint: `--judge-model`, while
    `--concurrency` is the generator's too); `skip`: fields that are no flags of this command; `defaults`:
    other defaults for this command (`None` with `show_default` "the run's" in `stvqa export`)."""

    config: type
    path: Path_ = ()
    prefix: str = ""
    share: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    defaults: Callable[[str], Any] | None = None
    show_default: Callable[[str], str | None] | None = None  # what --help says of a default this command supplies


def flags_of(groups: Iterable[Group]) -> list[Flag]:
    """Every flag of `groups`, one per name: fields of the same name in several configs share one flag."""
    by_param: dict[str, Flag] = {}
    for group in groups:
        for flag in _group_flags(group.config, group.path, group, nested_prefix=""):
            known = by_param.get(flag.param)
            if known is None:
                by_param[flag.param] = flag
                continue
            if known.default != flag.default:
                raise AssertionError(f"flag {flag.param}: defaults {known.default!r} and {flag.default!r} differ between configs")
            by_param[flag.param] = Flag(known.param, known.decls, known.kind, known.default, known.help, known.targets + flag.targets,
                                        tuple(dict.fromkeys(known.old_keys + flag.old_keys)), known.show_default)
    return list(by_param.values())


def _group_flags(cls: type, path: Path_, group: Group, nested_prefix: str) -> list[Flag]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        meta = f.metadata
        if meta.get("cli", True) is False or (path + (f.name,))[len(group.path):] in {tuple(s.split(".")) for s in group.skip}:
            continue
        inner = dataclass_in(hints[f.name])
        if inner is not None and "cli_type" not in meta:
            out += _group_flags(inner, path + (f.name,), group, nested_prefix)
            continue
        prefix = "" if f.name in group.share else group.prefix
        param = prefix + f.name
        kind = _cli_kind(hints[f.name], meta)
        dashed = param.replace("_", "-")
        custom = (meta["flag"],) if isinstance(meta.get("flag"), str) else tuple(meta.get("flag", ()))
        decls = custom if custom and not prefix else (f"--{dashed}/--no-{dashed}",) if kind is bool else (f"--{dashed}",)
        default = f.default if f.default is not MISSING else f.default_factory() if f.default_factory is not MISSING else None
        if typing.get_origin(kind) is list or "cli_type" in meta:
            default = None  # not given: the field's default (a repeated flag's list, a text the config parses)
        if group.defaults is not None:
            default = group.defaults(f.name)
        if default is None:
            kind = Optional[kind]
        shown = group.show_default(f.name) if group.show_default is not None else None
        show = shown if shown is not None else default is not None
        out.append(Flag(param, decls, kind, default, meta["help"], (path + (f.name,),), tuple(prefix + k for k in meta.get("old_keys", ())), show))
    return out


def _cli_kind(hint: Any, meta: dict) -> Any:
    """What Typer parses for a field: its `cli_type`, else its type without `| None`; a tuple field is a flag given
    once per item (--judge vlm --judge blind)."""
    if "cli_type" in meta:
        return meta["cli_type"]
    arms = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    base = next(a for a in arms if a is not type(None))
    return list[typing.get_args(base)[0]] if typing.get_origin(base) is tuple else base


def signature(fixed: list[inspect.Parameter], flags: list[Flag]) -> inspect.Signature:
    return inspect.Signature([*fixed, *(f.parameter() for f in flags)])


def values_at(flags: list[Flag], values: dict[str, Any], path: Path_) -> dict[str, Any]:
    """The fields under `path` that the command line (or the config file) set, as a nested dict: `None` (not
    given) leaves a field at its default."""
    tree: dict[str, Any] = {}
    for flag in flags:
        value = values.get(flag.param)
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(value)
        for target in flag.targets:
            if target[: len(path)] != path:
                continue
            node = tree
            for part in target[len(path):-1]:
                node = node.setdefault(part, {})
            node[target[-1]] = value
    return tree


def build_config(cls: type, flags: list[Flag], values: dict[str, Any], path: Path_ = ()) -> Any:
    """The config at `path`, from the flags' values and the dataclasses' defaults."""
    return config_from_dict(cls, values_at(flags, values, path))


class ConfigCommand:
    """A Typer command whose flags come from `flags()`, asked each time the CLI is built (so a stage added to the
    pipeline brings its flags along), then the `fixed` parameters the command writes itself."""

    def __init__(self, fn: Callable[..., Any], fixed: list[inspect.Parameter], flags: Callable[[], list[Flag]]) -> None:
        self.fn, self.fixed, self.flags = fn, fixed, flags
        self.__name__, self.__doc__, self.__module__ = fn.__name__, fn.__doc__, fn.__module__
        self.__annotations__: dict[str, Any] = {}

    @property
    def __signature__(self) -> inspect.Signature:
        return signature(self.fixed, self.flags())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)
