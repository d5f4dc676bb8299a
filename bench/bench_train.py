"""Benchmark: what the spatial rewards cost in a GRPO step, next to generation.

CPU (default): the tiny random-weight Qwen2.5-VL of `stvqa train --smoke` on the bundled sample (images of at most
56 x 56 pixels), seconds per GRPO step with the four stvqa rewards (format, count, accuracy, spatial) against
TRL's own `trl.rewards.accuracy_reward` alone, in the same run, interleaved round by round. The time spent inside
the reward functions is measured too, and the four rewards are also timed on well-formed completions of the same
batch size (a random model's junk fails the format check early, so that is their worst case).

    pip install math-verify            # TRL's accuracy_reward needs it
    python bench/bench_train.py        # about a minute; writes bench/out/train/ (git-ignored)

On a GPU: `bench/gpu_check.py` (a random-weight 3B model, HF generation and vLLM colocated, no download).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


class Timed:
    """A reward function that adds the seconds it spends to a shared clock (TRL reads `__name__`)."""

    def __init__(self, func, clock: list[float]) -> None:
        self.func, self.clock, self.__name__ = func, clock, func.__name__

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.func(*args, **kwargs)
        finally:
            self.clock.append(time.perf_counter() - start)


def step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self.start)

    return StepTimer()


def cpu(args) -> dict:
    import logging

    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer
    from trl.rewards import accuracy_reward

    from stvqa.rewards import accuracy_reward as st_accuracy, count_reward, format_reward, spatial_reward
    from stvqa.train.data import load_split, prepare
    from stvqa.train.models import load_processor, set_pixel_bounds, tame_libraries
    from stvqa.train.smoke import SMOKE_PIXELS, smoke_dataset, smoke_model

    tame_libraries(quiet=True)
    # TRL warns at every step that its accuracy_reward returned None: our solutions, "(B) left", are not math.
    # It is the cost of calling it that is measured here, and a reward of None is what it gives such data.
    logging.getLogger("trl").setLevel(logging.ERROR)
    out = HERE / "out" / "train"
    dataset = smoke_dataset(out / "sample-run")
    model = smoke_model(out / "tiny-qwen2.5-vl")
    processor = load_processor(str(model))
    set_pixel_bounds(processor, 28 * 28, SMOKE_PIXELS)
    data = prepare(load_split(str(dataset), "train"), "reasoning.txt", 28 * 28, SMOKE_PIXELS)
    variants = {
        "stvqa: format + count + accuracy + spatial": ([format_reward, count_reward, st_accuracy, spatial_reward], [0.1, 0.2, 0.5, 0.2]),
        "TRL: accuracy_reward alone": ([accuracy_reward], None),
    }
    steps = {name: [] for name in variants}
    reward_seconds = {name: [] for name in variants}
    for round_ in range(args.rounds):
        order = list(variants.items())
        for name, (funcs, weights) in (order if round_ % 2 == 0 else order[::-1]):  # alternate who goes first
            clock: list[float] = []
            timer = step_timer()
            config = GRPOConfig(output_dir=str(out / "runs"), use_cpu=True, bf16=False, gradient_checkpointing=False, beta=0.01,
                                num_generations=args.generations, per_device_train_batch_size=args.generations * args.prompts,
                                max_completion_length=args.tokens, max_steps=args.steps, reward_weights=weights, report_to="none",
                                save_strategy="no", logging_steps=1, disable_tqdm=True, remove_unused_columns=False)
            trainer = GRPOTrainer(model=str(model), reward_funcs=[Timed(f, clock) for f in funcs], args=config, train_dataset=data,
                                  processing_class=processor, callbacks=[timer])
            trainer.remove_callback(PrinterCallback)  # no per-step log lines
            trainer.train()
            steps[name] += timer.times[1:]  # the first step of a trainer pays one-off costs
            reward_seconds[name].append(sum(clock) / args.steps)
    completions = args.generations * args.prompts
    well_formed = time_well_formed(completions)
    result = {"completions_per_step": completions, "completion_tokens": args.tokens, "rounds": args.rounds, "steps_per_round": args.steps}
    for name in variants:
        result[name] = {"min_step_s": round(min(steps[name]), 4), "median_step_s": round(statistics.median(steps[name]), 4),
                        "quartiles_step_s": [round(q, 4) for q in statistics.quantiles(steps[name], n=4)],
                        "reward_s_per_step": round(statistics.median(reward_seconds[name]), 5)}
    result["four rewards on well-formed completions, s per step"] = round(well_formed, 5)
    return result


def time_well_formed(n: int) -> float:
    """The four stvqa reward functions on `n` well-formed completions (3-10 objects each), as TRL calls them."""
    from bench_rewards import make_batch

    from stvqa.rewards import accuracy_reward, count_reward, format_reward, spatial_reward
    from stvqa.rewards.parsing import parse_ground_truth

    batch = make_batch(n=max(8, n), group=8)[:n]
    columns = {"scene": [], "solution": [], "image_width": [], "image_height": []}
    for _, gt, width, height in batch:
        truth = parse_ground_truth(gt)
        scene = gt.split("<scene>")[1].split("</scene>")[0]
        columns["scene"].append(scene)
        columns["solution"].append(gt.split("<answer>")[1].split("</answer>")[0])
        columns["image_width"].append(width)
        columns["image_height"].append(height)
        assert truth.objects
    completions = [[{"role": "assistant", "content": c}] for c, _, _, _ in batch]
    times = []
    for _ in range(20):
        start = time.perf_counter()
        for f in (format_reward, count_reward, accuracy_reward, spatial_reward):
            f(completions=completions, **columns)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4, help="GRPO steps per trainer (the first is not counted)")
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=2, help="prompts per step")
    parser.add_argument("--tokens", type=int, default=128, help="completion length (a random model always reaches it)")
    args = parser.parse_args()
    print(json.dumps(cpu(args), indent=1))


if __name__ == "__main__":
    main()
