"""Flags come from the configs: one flag per config field, its help and default those of the field, a shared name
setting every config that has it, and config-file keys the fields' names (earlier names still read, with a notice)."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields

import pytest
from typer.testing import CliRunner

from stvqa import stages
from stvqa.cli import app
from stvqa.commands.build import build_flags
from stvqa.commands.filter import filter_flags
from stvqa.config import dataclass_in

runner = CliRunner()


def field_at(cls: type, path: tuple[str, ...]):
    import typing

    for name in path[:-1]:
        cls = dataclass_in(typing.get_type_hints(cls)[name])
    return next(f for f in fields(cls) if f.name == path[-1])


def test_every_build_flag_has_the_help_and_default_of_the_field_it_sets() -> None:
    configs = {s.name: s.config for s in stages.BUILD}
    for flag in build_flags():
        first = flag.targets[0]
        assert flag.help == field_at(configs[first[0]], first[1:]).metadata["help"], flag.param  # a shared flag: the first stage's words
        for target in flag.targets:
            f = field_at(configs[target[0]], target[1:])
            default = f.default if f.default is not MISSING else f.default_factory()
            assert flag.default is None or flag.default == default, (flag.param, target)  # None: the field's default applies


def test_every_stage_config_field_is_a_flag_of_stvqa_build_or_skipped_on_purpose() -> None:
    import typing

    set_by_flags = {t for f in build_flags() for t in f.targets}
    skipped = {("export", "out"), ("export", "overwrite")}

    def leaves(cls, path):
        for f in fields(cls):
            inner = dataclass_in(typing.get_type_hints(cls)[f.name])
            if inner is not None and "cli_type" not in f.metadata:
                yield from leaves(inner, path + (f.name,))
            else:
                yield path + (f.name,)

    for stage in stages.BUILD:
        for leaf in leaves(stage.config, (stage.name,)):
            assert leaf in set_by_flags or leaf in skipped, leaf


def test_one_seed_flag_sets_every_stage_that_has_a_seed(tmp_path) -> None:
    out = tmp_path / "run"
    assert runner.invoke(app, ["build", "--out", str(out), "--seed", "7", "--per-image", "1"]).exit_code == 0
    recorded = json.loads((out / "manifest.json").read_text())["stages"]
    assert {name: recorded[name]["config"]["seed"] for name in ("generate", "debias", "filter", "export")} == dict.fromkeys(
        ("generate", "debias", "filter", "export"), 7)


def test_the_judge_endpoint_of_a_build_defaults_to_the_generators() -> None:
    from stvqa.commands.flags import build_config

    flags = build_flags()
    values = {"base_url": "http://localhost:8000/v1", "judges": ["vlm"], "judge_model": "m", "judge_base_url": None}
    values["judge_base_url"] = values["judge_base_url"] or values["base_url"]  # as the command does
    cfg = build_config(stages.stage("filter").config, flags, values, ("filter",))
    assert cfg.llm.base_url == "http://localhost:8000/v1" and cfg.llm.model == "m" and cfg.llm.temperature == 1.0 and cfg.llm.max_tokens == 64


def test_filter_flags_are_the_filter_config_and_the_judge_endpoint() -> None:
    params = {f.param for f in filter_flags()}
    assert {"judges", "k", "min_consistency", "base_url", "model", "temperature", "max_tokens", "cache"} <= params
    temperature = next(f for f in filter_flags() if f.param == "temperature")
    assert temperature.default == 1.0  # the judge's own default, not the generator's 0.7


def test_config_file_keys_are_field_names_and_earlier_names_still_work(tmp_path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text("per_image: 1\nembed_images: false\nuse_aliases: false\n")
    out = tmp_path / "a"
    result = runner.invoke(app, ["build", "--config", str(new), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stages_ = json.loads((out / "manifest.json").read_text())["stages"]
    assert stages_["export"]["config"]["embed_images"] is False and stages_["load"]["config"]["use_aliases"] is False
    old = tmp_path / "old.yaml"
    old.write_text("per_image: 1\nimages: false\naliases: false\n")
    result = runner.invoke(app, ["build", "--config", str(old), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "the key images is now embed_images" in text and "the key aliases is now use_aliases" in text
    both = tmp_path / "both.yaml"
    both.write_text("images: false\nembed_images: true\n")
    result = runner.invoke(app, ["build", "--config", str(both), "--out", str(tmp_path / "c")])
    assert result.exit_code == 1 and "images and embed_images are the same setting" in result.output


@pytest.mark.parametrize("config", ["default", "stvqa-7k", "stvqa-7k-judged", "llm_openai", "llm_vllm_local"])
def test_the_shipped_configs_use_todays_keys(config, tmp_path) -> None:
    import yaml

    from stvqa.resources import resource_path

    keys = set(yaml.safe_load(resource_path("pipelines", f"{config}.yaml").read_text()))
    params = {f.param for f in build_flags()} | {"out", "config", "dry_run", "force"}
    assert keys <= params, keys - params
