"""`stvqa train` and `stvqa eval` end to end on CPU, offline: a tiny random-weight Qwen2.5-VL built in the test,
trained with GRPO for a step or two on the bundled sample exported with tiny images."""

import importlib.util
import json
import shlex
import time

import pytest
import yaml
from typer.testing import CliRunner

from stvqa.cli import app

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "trl", "peft")),
    reason="the train extra is not installed (pip install torch==2.13.0 && pip install -e '.[train]')")
runner = CliRunner()
# Two quick steps; the smoke settings otherwise (four completions of 24 tokens per step).
FAST = ["max_steps=2"]


def invoke(*args: str):
    return runner.invoke(app, ["--quiet", *args])


def weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """An exported sample dataset with images of at most 56 x 56 pixels (four image tokens)."""
    out = tmp_path_factory.mktemp("grpo") / "run"
    result = runner.invoke(app, ["build", "--out", str(out), "--max-pixels", "3136"])
    assert result.exit_code == 0, result.output
    return out / "dataset"


@pytest.fixture(scope="module")
def smoke(sample, tmp_path_factory):
    """`stvqa train DATASET --smoke` with the four spatial rewards: (output dir, seconds)."""
    out = tmp_path_factory.mktemp("grpo") / "smoke"
    start = time.perf_counter()
    result = invoke("train", str(sample), "--smoke", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    return out, time.perf_counter() - start, result.output


def test_smoke_run_changes_weights_logs_each_reward_and_reloads(smoke) -> None:
    from transformers import AutoModelForImageTextToText

    from stvqa.train.models import load_processor

    out, seconds, output = smoke
    before, after = weights(out / "smoke-inputs" / "tiny-qwen2.5-vl"), weights(out)
    assert set(before) == set(after) and any(not before[k].equal(after[k]) for k in before)
    log = json.loads((out / "train_log.json").read_text())
    steps = [h for h in log if "loss" in h]
    assert len(steps) == 2
    for name in ("format_reward", "count_reward", "accuracy_reward", "spatial_reward", "variety_reward"):
        assert all(f"rewards/{name}/mean" in h for h in steps), name
        assert name in output  # the summary table
    recipe = yaml.safe_load((out / "stvqa_recipe.yaml").read_text())
    assert recipe["rewards"][:4] == ["format", "count", "accuracy", "spatial"] and recipe["beta"] == 0.01
    model = AutoModelForImageTextToText.from_pretrained(out)
    assert all(model.state_dict()[k].equal(v) for k, v in after.items() if k in model.state_dict())
    assert load_processor(str(out)).image_processor is not None
    assert seconds < 60


def test_vanilla_recipe_trains_on_format_and_accuracy(sample, tmp_path) -> None:
    out = tmp_path / "vanilla"
    result = invoke("train", str(sample), "--smoke", "--recipe", "grpo_vanilla", "--output-dir", str(out), *FAST)
    assert result.exit_code == 0, result.output
    steps = [h for h in json.loads((out / "train_log.json").read_text()) if "loss" in h]
    assert {k for k in steps[0] if k.startswith("rewards/") and k.endswith("/mean")} == {
        "rewards/format_reward/mean", "rewards/accuracy_reward/mean", "rewards/variety_reward/mean"}
    recipe = yaml.safe_load((out / "stvqa_recipe.yaml").read_text())
    assert recipe["prompt_file"] == "reasoning_vanilla.txt" and recipe["reward_config"]["required_tags"] == ["think", "answer"]


def test_lora_saves_an_adapter_that_eval_merges(sample, tmp_path) -> None:
    out = tmp_path / "lora"
    result = invoke("train", str(sample), "--smoke", "--lora", "--output-dir", str(out), "gradient_checkpointing=true",
                    "lora_r=4", "lora_alpha=8", *FAST)
    assert result.exit_code == 0, result.output
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and adapter["base_model_name_or_path"] == str((out / "smoke-inputs" / "tiny-qwen2.5-vl").resolve())
    assert not (out / "model.safetensors").exists()
    result = invoke("eval", str(out), str(sample), "--limit", "2", "--max-new-tokens", "4")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "eval-val.json").read_text())["rows"] == 2


def test_overrides_reach_trl_and_the_saved_recipe(sample, tmp_path) -> None:
    out = tmp_path / "overrides"
    result = invoke("train", str(sample), "--smoke", "--output-dir", str(out), "max_steps=1", "beta=0.02",
                    "max_completion_length=8", "reward_config.gating=false", "learning_rate=1e-3")
    assert result.exit_code == 0, result.output
    args = __import__("torch").load(out / "training_args.bin", weights_only=False)
    assert (args.max_steps, args.beta, args.max_completion_length, args.learning_rate) == (1, 0.02, 8, 1e-3)
    recipe = yaml.safe_load((out / "stvqa_recipe.yaml").read_text())
    assert recipe["reward_config"] == {"gating": False, "strict_answer": True} and recipe["beta"] == 0.02  # one key changed
    steps = [h for h in json.loads((out / "train_log.json").read_text()) if "loss" in h]
    assert len(steps) == 1 and steps[0]["completions/max_length"] <= 8


def test_resume_continues_from_the_last_checkpoint(sample, tmp_path) -> None:
    out = tmp_path / "resume"
    first = invoke("train", str(sample), "--smoke", "--output-dir", str(out), "max_steps=1", "save_strategy=steps", "save_steps=1")
    assert first.exit_code == 0, first.output
    assert (out / "checkpoint-1").is_dir()
    again = invoke("train", str(sample), "--output-dir", str(out), f"model={out}")
    assert again.exit_code == 1 and "already holds a training run" in again.output and "--resume" in again.output
    resumed = invoke("train", str(sample), "--smoke", "--resume", "--output-dir", str(out), "max_steps=2")
    assert resumed.exit_code == 0, resumed.output
    steps = [h["step"] for h in json.loads((out / "train_log.json").read_text()) if "loss" in h]
    assert steps == [1, 2]  # step 1 from the checkpoint's history, step 2 trained now


def test_eval_reports_accuracy_per_category_rewards_and_format_failures(smoke, sample, tmp_path) -> None:
    out, _, _ = smoke
    report_path = tmp_path / "report.json"
    result = invoke("eval", str(out), str(sample), "--split", "val", "--max-new-tokens", "8", "--batch-size", "4", "--out", str(report_path))
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["split"] == "val" and report["rows"] > 0 and report["recipe"] == "spatialthinker"
    assert set(report["rewards"]) == {"overall", "format", "count", "accuracy", "spatial"}
    assert report["format_failure_rate"] == 1.0 and report["accuracy"] == 0.0  # a random model emits junk
    assert sum(c["rows"] for c in report["by_category"].values()) == report["rows"]
    assert report["generated_tokens"] > 0 and report["examples"]
    for category in report["by_category"]:
        assert category in result.output
    assert "format failures" in result.output and str(report_path) in result.output


def test_eval_generates_as_long_as_training_allows_by_default(smoke, sample, tmp_path) -> None:
    out, _, _ = smoke
    report_path = tmp_path / "report.json"
    result = invoke("eval", str(out), str(sample), "--limit", "2", "--out", str(report_path))
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((out / "stvqa_recipe.yaml").read_text())
    assert json.loads(report_path.read_text())["max_new_tokens"] == saved["max_completion_length"] == 24  # the smoke recipe's


def test_eval_scores_the_ground_truth_as_perfect(smoke, sample, monkeypatch) -> None:
    """The wiring from generation to scoring: completions that restate the ground truth score 1 everywhere."""
    import stvqa.train.evaluate as evaluate

    def ground_truth(model, processor, rows, max_new_tokens):
        texts = [f"<observe>.</observe><scene>{r['scene']}</scene><think>.</think><answer>{r['solution']}</answer>" for r in rows]
        return texts, 10 * len(rows)

    monkeypatch.setattr(evaluate, "generate", ground_truth)
    report = evaluate.evaluate(str(smoke[0]), str(sample), evaluate.EvalConfig(split="train", limit=12, batch_size=5))
    assert report["rows"] == 12 and report["accuracy"] == 1.0 and report["format_failure_rate"] == 0.0
    assert report["rewards"]["format"] == report["rewards"]["accuracy"] == report["rewards"]["spatial"] == 1.0


def readme_trl_grpo_command() -> list[str]:
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("```bash\ntrl grpo ") + len("```bash\n"):]
    return shlex.split(block[:block.index("```")].replace("\\\n", " "))


def test_trl_grpo_runs_on_an_export_with_the_readme_flags(smoke, sample, tmp_path) -> None:
    """The column contract with plain `trl grpo`: TRL's own script (its parser and main) with the README's command,
    model, dataset and output swapped for the tiny ones and CPU flags appended, on the default export. `trl grpo`
    from a shell runs exactly this through accelerate."""
    from trl.scripts.grpo import make_parser, main

    from stvqa.train.tiny import register_processor

    register_processor()  # what a machine without torchvision needs to load the tiny model's processor
    command = readme_trl_grpo_command()
    assert command[:2] == ["trl", "grpo"] and "stvqa.rewards.spatial_reward" in command
    swap = {"--model_name_or_path": str(smoke[0] / "smoke-inputs" / "tiny-qwen2.5-vl"), "--dataset_name": str(sample),
            "--output_dir": str(tmp_path / "trl-grpo")}
    args = [swap.get(command[i - 1], arg) for i, arg in enumerate(command)][2:]
    cpu = ["--use_cpu", "--bf16", "false", "--gradient_checkpointing", "false", "--num_generations", "4",
           "--per_device_train_batch_size", "4", "--max_completion_length", "8", "--max_steps", "1", "--report_to", "none",
           "--save_strategy", "no", "--disable_tqdm", "true"]
    main(*make_parser().parse_args_and_config(args + cpu, fail_with_unknown_args=False))
    assert (tmp_path / "trl-grpo" / "model.safetensors").is_file()


@pytest.mark.parametrize(("flags", "message"), [
    (["bf16=true"], "bf16 needs a CUDA GPU, and none is available"),
    (["--use-vllm"], "vLLM generation (--use-vllm) needs a CUDA GPU"),
    (["bf16=true", "--use-vllm"], "bf16 and vLLM generation (--use-vllm) need a CUDA GPU"),
    (["model=runs/no-such-model"], "model path runs/no-such-model does not exist"),
    (["model=/no/such/model"], "model path /no/such/model does not exist"),
    (["betta=0.1"], "unknown recipe keys: betta"),
    (["num_generations=3"], "TRL refused the recipe"),
])
def test_bad_input_is_one_message_before_anything_loads(sample, tmp_path, flags, message) -> None:
    import torch

    if torch.cuda.is_available() and "GPU" in message:
        pytest.skip("this machine has a GPU")
    out = tmp_path / "bad"
    model = [] if any(f.startswith("model=") for f in flags) else [f"model={tmp_path}"]
    (tmp_path / "config.json").write_text("{}")  # a folder that passes the model check (nothing is loaded)
    result = invoke("train", str(sample), "--output-dir", str(out), *model, *flags)
    assert result.exit_code == 1 and result.output.startswith("error: ") and message in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()


def test_train_needs_a_dataset_with_the_columns(tmp_path, sample) -> None:
    result = invoke("train", "--output-dir", str(tmp_path / "o"))
    assert result.exit_code == 1 and "needs a DATASET" in result.output and "--smoke" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("train", str(empty), "--smoke", "--output-dir", str(tmp_path / "o"))
    assert result.exit_code == 1 and "has no 'train' split" in result.output and "stvqa build" in result.output


def test_eval_of_a_missing_model_says_so(sample) -> None:
    result = invoke("eval", "runs/no-such-model", str(sample))
    assert result.exit_code == 1 and "error: model path runs/no-such-model does not exist" in result.output


@pytest.mark.parametrize("flag", ["--use-vllm", "use_vllm=true"])
def test_smoke_refuses_vllm_instead_of_dropping_it(tmp_path, flag) -> None:
    out = tmp_path / "smoke"
    result = invoke("train", "--smoke", flag, "--output-dir", str(out))
    assert result.exit_code == 1 and "--smoke runs on CPU" in result.output and "Traceback" not in result.output, result.output
    assert not out.exists()


def test_training_evaluates_on_the_val_split_before_and_during_training(sample, tmp_path) -> None:
    """The recipe's validation (eval_split val, eval_on_start, eval_steps) reaches TRL: eval rewards per step."""
    out = tmp_path / "with-eval"
    result = invoke("train", str(sample), "--smoke", "--output-dir", str(out), "eval_strategy=steps", "eval_steps=1",
                    "eval_on_start=true", "max_eval_samples=4", "per_device_eval_batch_size=4", "log_completions=true")
    assert result.exit_code == 0, result.output
    evals = [h for h in json.loads((out / "train_log.json").read_text()) if "eval_reward" in h]
    assert [h["step"] for h in evals] == [0, 1, 2]  # before the first update, then after each
    assert all("eval_rewards/spatial_reward/mean" in h for h in evals)
