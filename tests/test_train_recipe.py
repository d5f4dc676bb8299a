"""Training recipes: the shipped files hold the paper's setup, every value can be overridden, mistakes are named."""

import importlib.util

import pytest
import yaml
from typer.testing import CliRunner

from conftest import REPO
from stvqa.cli import app
from stvqa.errors import ConfigError
from stvqa.train.recipe import apply_overrides, load_recipe, recipe_from_dict, recipe_names, save_recipe
from stvqa.train.rewards import reward_config, reward_funcs

runner = CliRunner()
needs_trl = pytest.mark.skipif(importlib.util.find_spec("trl") is None, reason="the train extra (trl) is not installed")


def test_spatialthinker_recipe_is_the_papers_setup() -> None:
    recipe = load_recipe("grpo_spatialthinker")
    assert recipe.model == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert recipe.rewards == ("format", "count", "accuracy", "spatial") and recipe.reward_weights == (0.1, 0.2, 0.5, 0.2)
    assert recipe.reward_config["gating"] is True
    assert (recipe.min_pixels, recipe.max_pixels) == (262144, 4194304)
    trl = recipe.trl
    assert (trl["num_generations"], trl["beta"], trl["learning_rate"], trl["temperature"]) == (8, 0.01, 1e-6, 1.0)
    assert trl["max_completion_length"] == 2048 and (trl["loss_type"], trl["scale_rewards"]) == ("dapo", "group")
    assert recipe.reward_config["strict_answer"] is True and recipe.lora_learning_rate == 1e-5
    assert (trl["eval_strategy"], trl["eval_steps"], trl["eval_on_start"], trl["log_completions"]) == ("steps", 40, True, True)
    assert reward_config(recipe).weights == {"format": 0.1, "count": 0.2, "accuracy": 0.5, "spatial": 0.2}
    assert [f.__name__ for f in reward_funcs(recipe)] == ["format_reward", "count_reward", "accuracy_reward", "spatial_reward"]


@needs_trl
@pytest.mark.parametrize("name", ["grpo_spatialthinker", "grpo_vanilla"])
def test_a_recipe_step_is_the_papers_step(name, tmp_path) -> None:
    """The reference: 75 steps of 512 prompts x 8 rollouts (rollout_batch_size), each 4 updates of 128 prompts
    (global_batch_size), one pass. TRL's own arithmetic on the recipe, for the 4 GPUs the recipe is written for."""
    from trl import GRPOConfig

    recipe = load_recipe(name)
    trl = {k: v for k, v in recipe.trl.items() if not k.startswith("eval") and k != "per_device_eval_batch_size"}
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, **trl)  # one process here: per-process sizes
    gpus, n = 4, args.num_generations
    per_update = args.per_device_train_batch_size * gpus * args.gradient_accumulation_steps
    updates_per_rollout = args.generation_batch_size // (args.per_device_train_batch_size * args.gradient_accumulation_steps)
    assert (per_update // n, updates_per_rollout * per_update // n, updates_per_rollout) == (128, 512, 4)
    assert args.num_iterations == 1 and args.max_steps == 75 * updates_per_rollout


def test_vanilla_recipe_is_the_papers_baseline() -> None:
    recipe = load_recipe("vanilla")  # the short name works too
    assert recipe.name == "vanilla" and recipe.rewards == ("format", "accuracy") and recipe.reward_weights == (0.5, 0.5)
    cfg = reward_config(recipe)
    assert cfg.weights == {"format": 0.5, "accuracy": 0.5} and cfg.required_tags == ("think", "answer") and not cfg.require_scene_json
    completion = [{"role": "assistant", "content": "<think>left</think><answer>(B) left</answer>"}]
    columns = {"scene": ['{"objects": [], "relationships": []}'], "solution": ["(B) left"], "image_width": [10], "image_height": [10]}
    assert [f(completions=[completion], **columns) for f in reward_funcs(recipe)] == [[1.0], [1.0]]


def test_overrides_parse_yaml_values_and_reach_every_key() -> None:
    recipe = load_recipe("grpo_spatialthinker", ["beta=0.02", "max_steps=10", "lora=true", "model=Qwen/Qwen2.5-VL-3B-Instruct",
                                                 "rewards=[format,accuracy]", "reward_weights=[0.3,0.7]", "reward_config.gating=false",
                                                 "max_pixels=1003520"])
    assert (recipe.trl["beta"], recipe.trl["max_steps"], recipe.lora, recipe.model) == (0.02, 10, True, "Qwen/Qwen2.5-VL-3B-Instruct")
    assert recipe.rewards == ("format", "accuracy") and recipe.reward_weights == (0.3, 0.7)
    assert recipe.reward_config == {"gating": False, "strict_answer": True} and recipe.max_pixels == 1003520
    assert load_recipe("grpo_spatialthinker").trl["beta"] == 0.01  # the file itself is untouched


def test_a_saved_recipe_loads_back_identically(tmp_path) -> None:
    recipe = apply_overrides(load_recipe("grpo_vanilla"), ["beta=0.05"])
    save_recipe(recipe, tmp_path / "r.yaml")
    again = load_recipe(str(tmp_path / "r.yaml"))
    assert again.to_dict() == recipe.to_dict()


@pytest.mark.parametrize(("overrides", "message"), [
    (["beta"], "override 'beta' is not key=value"),
    (["reward_weights=[1,2,3]"], "3 reward_weights for 4 rewards"),
    (["rewards=[]"], "the recipe has no rewards"),
    (["min_pixels=100", "max_pixels=50"], "max_pixels 50 is out of range"),
    (["vllm_mode=remote"], "vllm_mode 'remote' is not colocate or server"),
    (["report_to=neptune"], "report_to 'neptune' is not known"),
])
def test_bad_overrides_are_named(overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_recipe("grpo_spatialthinker", overrides)


def test_unknown_rewards_and_reward_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="unknown reward 'spacial'"):
        reward_funcs(recipe_from_dict({"rewards": ["spacial"], "reward_weights": [1.0]}))
    with pytest.raises(ConfigError, match="cannot import reward 'nowhere.reward'"):
        reward_funcs(recipe_from_dict({"rewards": ["nowhere.reward"], "reward_weights": [1.0]}))
    with pytest.raises(ConfigError, match="bad reward_config"):
        reward_config(recipe_from_dict({"reward_config": {"gatting": True}}))
    dotted = reward_funcs(recipe_from_dict({"rewards": ["stvqa.rewards.vanilla_reward"], "reward_weights": [1.0]}))
    assert dotted[0].__name__ == "vanilla_reward"


@needs_trl
def test_every_recipe_key_is_stvqas_or_a_grpo_config_field() -> None:
    from stvqa.train.recipe import check_trl_keys

    for name in recipe_names():
        check_trl_keys(load_recipe(name))
    with pytest.raises(ConfigError, match="unknown recipe keys: betta"):
        check_trl_keys(load_recipe("grpo_spatialthinker", ["betta=0.1"]))


def test_shipped_recipes_are_listed_and_unknown_names_refused() -> None:
    assert recipe_names() == ["grpo_spatialthinker", "grpo_vanilla"]
    with pytest.raises(ConfigError, match="no recipe 'grpo_fast'") as err:
        load_recipe("grpo_fast")
    assert "grpo_spatialthinker, grpo_vanilla" in err.value.hint
    for path in (REPO / "pipelines").glob("grpo_*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text()), dict)


def test_train_without_the_extra_says_how_to_install_it(monkeypatch) -> None:
    import stvqa.train

    real = importlib.util.find_spec
    monkeypatch.setattr(stvqa.train.importlib.util, "find_spec", lambda name, *a: None if name == "trl" else real(name, *a))
    result = runner.invoke(app, ["train", "runs/default/dataset"])
    assert result.exit_code == 1
    assert "error: stvqa train needs the train extra (trl not installed)" in result.output
    assert "hint: pip install torch==2.13.0 && pip install -e '.[train]'" in result.output
