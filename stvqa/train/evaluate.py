"""`stvqa eval`: greedy answers of a model on one split, scored with the reward it was trained on.

The prompt file, the pixel bounds and the reward settings come from the `stvqa_recipe.yaml` that `stvqa train`
saved beside the model (the default recipe's for any other model), so a model is asked in the format it learned.
The report: accuracy overall and per category, the mean of every reward component, the share of completions
whose format fails, tokens per second of generation, and a few examples.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import check_range
from ..rewards import COMPONENTS, SpatialThinkerReward
from .recipe import RECIPE_FILE, TrainRecipe, find_recipe, recipe_from_dict
from .rewards import reward_config


@dataclass(frozen=True)
class EvalConfig:
    split: str = field(default="val", metadata={"help": "Split to evaluate (val and validation are the same)."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate the first N rows only."})
    batch_size: int = field(default=8, metadata={"help": "Prompts generated at once."})
    max_new_tokens: int | None = field(default=None, metadata={
        "help": "Longest completion (greedy decoding); default: the recipe's max_completion_length, as in training."})
    examples: int = field(default=3, metadata={"help": "Completions kept in the report as examples."})

    def __post_init__(self) -> None:
        if self.limit is not None:
            check_range("--limit", self.limit, 1)
        check_range("--batch-size", self.batch_size, 1)
        if self.max_new_tokens is not None:
            check_range("--max-new-tokens", self.max_new_tokens, 1)
        check_range("--examples", self.examples, 0)


def eval_recipe(model: str, recipe: str | None) -> TrainRecipe:
    """The recipe given, else the one saved beside a trained model, else the default (grpo_spatialthinker)."""
    if recipe:
        path = find_recipe(recipe)
    elif (Path(model).expanduser() / RECIPE_FILE).is_file():
        path = Path(model).expanduser() / RECIPE_FILE
    else:
        path = find_recipe("grpo_spatialthinker")
    return recipe_from_dict(yaml.safe_load(path.read_text()) or {}, path.stem)


def completion_length(recipe: TrainRecipe) -> int:
    """The longest completion training allows: a shorter limit in eval cuts answers training would have scored."""
    from trl import GRPOConfig

    return int(recipe.trl.get("max_completion_length") or GRPOConfig.max_completion_length)


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def generate(model: Any, processor: Any, rows: list[dict[str, Any]], max_new_tokens: int) -> tuple[list[str], int]:
    """Greedy completions of a batch of prepared rows; returns them and the number of generated tokens."""
    import torch

    texts = [processor.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": r["prompt"][0]["content"]}]}],
                                           tokenize=False, add_generation_prompt=True) for r in rows]
    processor.tokenizer.padding_side = "left"
    inputs = processor(text=texts, images=[r["image"] for r in rows], padding=True, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    new = out[:, inputs["input_ids"].shape[1]:]
    pad = processor.tokenizer.pad_token_id
    tokens = int((new != pad).sum()) if pad is not None else new.numel()
    return processor.batch_decode(new, skip_special_tokens=True), tokens


class _Greedy:
    """The model of `stvqa eval` in the recipe's frame: greedy completions of prepared rows, timed and counted."""

    def __init__(self, model_name: str, rec: TrainRecipe, max_new_tokens: int | None) -> None:
        from .frame import apply_bounds, grid_of
        from .models import load_for_eval

        self.model, self.processor, _ = load_for_eval(model_name)
        apply_bounds(self.processor, rec.min_pixels, rec.max_pixels)
        self.grid = grid_of(self.processor)
        self.max_new_tokens = max_new_tokens or completion_length(rec)
        self.tokens, self.seconds = 0, 0.0

    def __call__(self, rows: list[dict[str, Any]]) -> list[str]:
        start = time.perf_counter()
        texts, n = generate(self.model, self.processor, rows, self.max_new_tokens)
        self.seconds += time.perf_counter() - start
        self.tokens += n
        return texts

    def report(self) -> dict[str, Any]:
        return {"generated_tokens": self.tokens, "generation_seconds": round(self.seconds, 3),
                "tokens_per_second": round(self.tokens / self.seconds, 1) if self.seconds else None}


def evaluate(model_name: str, dataset: str, cfg: EvalConfig = EvalConfig(), recipe: str | None = None, progress=None,
             quiet: bool = False) -> dict[str, Any]:
    from .data import load_split, prepare
    from .models import resolve_model, tame_libraries

    resolve_model(model_name)  # a missing model is reported before the dataset or anything else loads
    tame_libraries(quiet)
    rec = eval_recipe(model_name, recipe)
    split = load_split(dataset, cfg.split)
    greedy = _Greedy(model_name, rec, cfg.max_new_tokens)
    data = prepare(split, rec.prompt_file, rec.min_pixels, rec.max_pixels, cfg.limit, source=dataset, grid=greedy.grid)
    scorer = SpatialThinkerReward("overall", reward_config(rec))
    # Accuracy is whether the answer is right, whatever the format (the reward's accuracy is 0 without format).
    answers = SpatialThinkerReward("accuracy", reward_config(rec).replace(gating=False, count_weight=0.0, spatial_weight=0.0))
    task = progress.task("eval: rows", total=len(data)) if progress else None
    scores: list[dict[str, float]] = []
    completions: list[str] = []
    for batch in _batches(len(data), cfg.batch_size):
        rows = [data[i] for i in batch]
        texts = greedy(rows)
        completions += texts
        columns = {k: [r.get(k) for r in rows] for k in ("scene", "solution", "image_width", "image_height", "options")}
        right = answers(texts, **columns)
        scores += [dict(s, answer_right=r) for s, r in zip(scorer.scores(texts, **columns), right)]
        if task:
            task.advance(len(rows))
    if task:
        task.close()
    categories = data["category"] if "category" in data.column_names else ["all"] * len(data)
    report = {"model": model_name, "dataset": dataset, "split": cfg.split, "rows": len(scores), "recipe": rec.name,
              "max_new_tokens": greedy.max_new_tokens, "frame_bounds": [rec.min_pixels, rec.max_pixels], **summary(scores), **greedy.report()}
    by_category: dict[str, list[dict[str, float]]] = defaultdict(list)
    for category, s in zip(categories, scores):
        by_category[category or "unknown"].append(s)
    report["by_category"] = {c: summary(v) for c, v in sorted(by_category.items())}
    ids = data["sample_id"] if "sample_id" in data.column_names else [str(i) for i in range(len(data))]
    report["examples"] = [{"sample_id": ids[i], "solution": data[i]["solution"], "completion": completions[i], **scores[i]}
                          for i in range(min(cfg.examples, len(scores)))]
    return report


def summary(scores: list[dict[str, float]]) -> dict[str, Any]:
    """Accuracy (the answer is right, whatever the format), format failures and the mean of every reward
    component (gated as in training) over some rows.

    >>> right = {"overall": 1.0, "format": 1.0, "count": 1.0, "accuracy": 1.0, "spatial": 1.0, "answer_right": 1.0}
    >>> no_format = {"overall": 0.0, "format": 0.0, "count": 0.0, "accuracy": 0.0, "spatial": 0.0, "answer_right": 1.0}
    >>> result = summary([right, no_format])
    >>> result["accuracy"], result["format_failure_rate"], result["rewards"]["accuracy"]
    (1.0, 0.5, 0.5)
    """
    n = len(scores)
    mean = lambda key: round(sum(s[key] for s in scores) / n, 4) if n else None  # noqa: E731
    return {"rows": n, "accuracy": mean("answer_right"),
            "format_failure_rate": round(sum(s["format"] == 0.0 for s in scores) / n, 4) if n else None,
            "rewards": {key: mean(key) for key in ("overall", *COMPONENTS)}}


def evaluate_benchmark(model_name: str, name: str, cfg: EvalConfig = EvalConfig(), data_dir: Path | None = None,
                       recipe: str | None = None, progress=None, quiet: bool = False) -> dict[str, Any]:
    """A published benchmark (`benchmarks.py`), asked as training asks: accuracy per task with standard errors."""
    from ..images import image_size
    from .benchmarks import benchmark, framed_image, load_items, parse_choice, prompt_text, rotations, score
    from .data import prompt_template, render_prompt
    from .frame import model_frame
    from .models import resolve_model, tame_libraries

    bench = benchmark(name)
    resolve_model(model_name)
    tame_libraries(quiet)
    rec = eval_recipe(model_name, recipe)
    items = load_items(bench, data_dir, cfg.limit)
    greedy, template = _Greedy(model_name, rec, cfg.max_new_tokens), prompt_template(rec.prompt_file)
    asked = [r for item in items for r in (rotations(item) if bench.circular else (item,))]
    task = progress.task(f"eval: {name}", total=len(asked)) if progress else None
    results = []
    for batch in _batches(len(asked), cfg.batch_size):
        rows = []
        for i in batch:
            size = model_frame(*image_size(asked[i].image), rec.min_pixels, rec.max_pixels, greedy.grid)
            rows.append({"prompt": render_prompt(template, prompt_text(asked[i]), *size), "image": framed_image(asked[i].image, size)})
        results += [(asked[i], parse_choice(text, asked[i].options)) for i, text in zip(batch, greedy(rows))]
        if task:
            task.advance(len(batch))
    if task:
        task.close()
    return {"benchmark": name, "model": model_name, "source": str(data_dir) if data_dir else bench.hub_id, "recipe": rec.name,
            "max_new_tokens": greedy.max_new_tokens, "circular": bench.circular, "prompts": len(asked), **score(results, bench.circular),
            **greedy.report()}
