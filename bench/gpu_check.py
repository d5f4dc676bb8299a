"""The GPU check: one command, self-contained (no weights or datasets are downloaded), that exits non-zero on any
failure. It builds a random-weight Qwen2.5-VL at the 3B configuration from its config alone, saves it with a
processor, exports the bundled sample with images of up to 448 x 448 pixels, runs the GRPO recipe for a few steps
with HF generation and then with vLLM colocated, and `stvqa eval` on the val split, printing seconds per step,
completion tokens per second, peak GPU memory and eval throughput as JSON (also written to WORK/gpu_check.json).

    python bench/gpu_check.py                            # on one GPU; under 10 minutes on an H100 (to be measured)
    python bench/gpu_check.py --no-vllm                  # HF generation only (vLLM not installed)
    python bench/gpu_check.py --size tiny --allow-cpu    # the same path on CPU with the tiny model (the tests run it)

Random weights write random tokens, so every completion runs to `--tokens`: the figures are the cost of full-length
completions, the worst case of a step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIXELS = 448 * 448
# Qwen/Qwen2.5-VL-3B-Instruct's config.json: the architecture only, no weights.
QWEN25_VL_3B = {
    "text_config": {"hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36, "num_attention_heads": 16,
                    "num_key_value_heads": 2, "max_position_embeddings": 128000, "vocab_size": 151936,
                    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]}},
    "vision_config": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 2048,
                      "fullatt_block_indexes": [7, 15, 23, 31], "window_size": 112, "patch_size": 14, "spatial_merge_size": 2,
                      "temporal_patch_size": 2},
    "tie_word_embeddings": True,
}


def build_model(out: Path, size: str, gpu: bool) -> Path:
    """A random-weight model of `size` and its processor (stvqa's offline tokenizer), saved to `out`."""
    import torch

    from stvqa.train import tiny

    processor = tiny.build_processor(min_pixels=28 * 28, max_pixels=PIXELS)
    if size == "tiny":
        model = tiny.build_model(processor.tokenizer)
    else:
        from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

        tok = processor.tokenizer
        ids = tiny.vision_token_ids(tok)
        text = {**QWEN25_VL_3B["text_config"], "bos_token_id": tok.convert_tokens_to_ids("<|endoftext|>"),
                "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
        config = Qwen2_5_VLConfig(text_config=text, vision_config=QWEN25_VL_3B["vision_config"],
                                  tie_word_embeddings=QWEN25_VL_3B["tie_word_embeddings"], **ids)
        torch.manual_seed(0)
        with torch.device("cuda" if gpu else "cpu"):
            model = Qwen2_5_VLForConditionalGeneration(config).to(torch.bfloat16 if gpu else torch.float32)
        model.generation_config.eos_token_id, model.generation_config.pad_token_id = tok.eos_token_id, tok.pad_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def export_sample(folder: Path) -> Path:
    from stvqa.pipeline.rundir import RunDir
    from stvqa.stages import BuildConfig, build
    from stvqa.stages.export.parquet import ExportConfig

    build(RunDir.open(folder), BuildConfig(export=ExportConfig(max_pixels=PIXELS)))
    return folder / "dataset"


def train_steps(dataset: Path, model: Path, work: Path, args, vllm: bool) -> dict:
    import torch

    from stvqa.train.recipe import apply_overrides, load_recipe
    from stvqa.train.trainer import train

    gpu = torch.cuda.is_available()
    recipe = apply_overrides(load_recipe("grpo_spatialthinker"), {
        "model": str(model), "use_vllm": vllm, "vllm_mode": "colocate", "max_steps": args.steps, "save_strategy": "no",
        "num_generations": 8, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1, "steps_per_generation": 1,
        "max_completion_length": args.tokens, "min_pixels": 28 * 28, "max_pixels": PIXELS, "eval_split": None,
        "log_completions": False, "report_to": "none", "bf16": gpu, "gradient_checkpointing": gpu,
        **({"vllm_gpu_memory_utilization": 0.3} if vllm else {})})
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = train(str(dataset), recipe, work / f"train-{'vllm' if vllm else 'hf'}", overwrite=True, quiet=True)
    seconds = time.perf_counter() - start
    steps = [h for h in result.log_history if "completions/mean_length" in h]
    timed = [h["step_time"] for h in steps[1:] if "step_time" in h] or [seconds / max(len(steps), 1)]  # the first step warms up
    per_step = statistics.median(timed)
    tokens = statistics.median(h["completions/mean_length"] for h in steps) * 8
    return {"generation": "vllm colocated" if vllm else "hf", "steps": len(steps), "seconds": round(seconds, 1),
            "median_step_s": round(per_step, 3), "completion_tokens_per_s": round(tokens / per_step, 1),
            "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if gpu else None}


def eval_throughput(dataset: Path, model: Path, work: Path, args) -> dict:
    import yaml

    from stvqa.train.evaluate import EvalConfig, evaluate

    recipe = work / "eval-recipe.yaml"
    recipe.write_text(yaml.safe_dump({"min_pixels": 28 * 28, "max_pixels": PIXELS, "max_completion_length": args.tokens}))
    report = evaluate(str(model), str(dataset), EvalConfig(limit=args.eval_rows, batch_size=16), recipe=str(recipe), quiet=True)
    return {"rows": report["rows"], "tokens_per_second": report["tokens_per_second"], "generation_seconds": report["generation_seconds"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("3b", "tiny"), default="3b")
    parser.add_argument("--steps", type=int, default=4, help="GRPO steps per generation backend (the first is not timed)")
    parser.add_argument("--tokens", type=int, default=256, help="completion length (random weights always reach it)")
    parser.add_argument("--eval-rows", type=int, default=64)
    parser.add_argument("--no-vllm", action="store_true", help="skip the vLLM run")
    parser.add_argument("--allow-cpu", action="store_true", help="run without a GPU (the tiny model: a check of the script)")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "gpu-check")
    args = parser.parse_args()

    import torch

    gpu = torch.cuda.is_available()
    if not gpu and not args.allow_cpu:
        print("error: no CUDA GPU is available; run on a GPU machine (or --size tiny --allow-cpu to check the script)", file=sys.stderr)
        return 2
    report: dict = {"size": args.size, "gpu": torch.cuda.get_device_name(0) if gpu else None, "ok": False}
    started = time.perf_counter()
    try:
        args.work.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        model = build_model(args.work / f"model-{args.size}", args.size, gpu)
        report["build_model_s"] = round(time.perf_counter() - t, 1)
        dataset = export_sample(args.work / "sample-run")
        report["train"] = [train_steps(dataset, model, args.work, args, vllm=False)]
        if not args.no_vllm:
            report["train"].append(train_steps(dataset, model, args.work, args, vllm=True))
        report["eval"] = eval_throughput(dataset, model, args.work, args)
        report["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - any failure is the check's result: reported, and a non-zero exit
        report["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    report["total_s"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=1)
    print(text)
    (args.work / "gpu_check.json").write_text(text + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
