"""Rich summaries of stage results. They read the one stats shape every stage records
(`in`, `kept`, `dropped` by reason, `by_category`), so a new stage needs nothing here."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.table import Table

from ..errors import DataError
from ..stages.filter.funnel import funnel_notes, kept_in, step_categories
from ..llm.batch import MAX_REQUESTS
from ..llm.config import LLMConfig
from ..stages.generate.llm_writer import Plan
from ..categories import CATEGORIES, REGISTRY
from ..stages.verify.report import OUTCOMES, rows as gate_rows
from ..pipeline.rundir import MANIFEST, RunDir
from ..pipeline.runner import REASON_HINTS, REJECTS_FILE, StageResult
from .common import console


def require_run(path: Path) -> RunDir:
    if not (path / MANIFEST).is_file():
        raise DataError(f"{path} is not a stvqa run directory (no {MANIFEST})", "Pass the --out folder of a `stvqa build`.")
    return RunDir(path)


def _status(result: StageResult) -> None:
    record = result.record
    if result.skipped:
        console.print(f"[green]✓[/] {result.name}: inputs and config unchanged, reusing {', '.join(record.get('outputs', []))} (use --force to re-run)")
    else:
        console.print(f"[green]✓[/] {result.name}: done in {record.get('seconds', 0):.2f} s")


def _top(reasons: dict[str, int], n: int = 3) -> str:
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    more = f", +{len(ranked) - n} more" if len(ranked) > n else ""
    return ", ".join(f"{r} {c:,}" for r, c in ranked[:n]) + more


def stage_table(results: list[StageResult], title: str) -> Table:
    table = Table(title=title, header_style="bold")
    for column in ("stage", "in", "kept", "dropped", "top reasons"):
        table.add_column(column, justify="right" if column in ("in", "kept", "dropped") else "left")
    for result in results:
        stats = result.record.get("stats", {})
        dropped = stats.get("dropped", {})
        table.add_row(result.name, f"{stats.get('in', 0):,}", f"{stats.get('kept', 0):,}", f"{sum(dropped.values()):,}", _top(dropped))
    return table


def print_stage(result: StageResult, run: RunDir) -> None:
    _status(result)
    console.print(stage_table([result], f"{run.path}: {result.name}"))
    if "path" in result.record:
        console.print(f"Dataset: [bold]{result.record['path']}[/]")


def category_table(results: list[StageResult]) -> Table | None:
    """Kept rows per category after each stage that counts categories, and the rows each category lost."""
    counted = [r for r in results if r.record.get("stats", {}).get("by_category")]
    if not counted:
        return None
    table = Table(title="questions per category", header_style="bold")
    table.add_column("category")
    for result in counted:
        table.add_column(result.name, justify="right")
    table.add_column("dropped", justify="right")
    for category in CATEGORIES:
        by = [r.record["stats"]["by_category"] for r in counted]
        lost = sum(b.get("dropped", {}).get(category, 0) for b in by)
        table.add_row(category, *(f"{b.get('kept', {}).get(category, 0):,}" for b in by), f"{lost:,}")
    return table


def gate_table(report: dict) -> Table:
    """What the gate (verify) did with each generator's questions, per category."""
    table = Table(title="the gate (verify), by generator and category", header_style="bold")
    for column in ("generator", "category", *OUTCOMES, "why rejected"):
        table.add_column(column, justify="right" if column in OUTCOMES else "left")
    for line in gate_rows(report):
        table.add_row(*line)
    return table


def print_plan(plan: Plan, llm: LLMConfig) -> None:
    """What `build --dry-run` found: requests to send and their estimated tokens and cost."""
    factor = llm.batch_price_factor if llm.batch else 1.0
    cost = f"${plan.cost * factor:,.4f}" if plan.priced else "unknown (pass --price-in and --price-out)"
    batches = f" in {-(-plan.requests // MAX_REQUESTS):,} batch(es) at {factor:g} of the price (--batch)" if llm.batch else ""
    console.print(f"Dry run, nothing sent: {plan.requests:,} requests to {llm.base_url} ({llm.model}){batches} for {plan.images:,} images "
                  f"({plan.cached:,} answered in the cache); about {plan.input_tokens:,} input and {plan.output_tokens:,} output tokens; "
                  f"cost about {cost}.", highlight=False)


def _llm_line(result: StageResult) -> None:
    counters = result.record.get("stats", {}).get("counters", {})
    if "llm_requests" in counters and not result.skipped:
        c = counters
        console.print(f"llm: {c['llm_requests']:,} requests sent, {c['llm_cache_hits']:,} from the cache, {c['llm_retries']:,} retries, "
                      f"{c['llm_failures']:,} failed; {c['llm_input_tokens']:,} input and {c['llm_output_tokens']:,} output tokens, "
                      f"${c['llm_cost_usd']:,.4f} (the data set: ${c['llm_dataset_cost_usd']:,.4f})", highlight=False)
    if result.record.get("incomplete"):
        console.print(f"[yellow]incomplete:[/] {result.name}: {result.record['incomplete']}", highlight=False)


def _repairs_line(result: StageResult) -> None:
    """What loading repaired or dropped inside the images it kept (boxes clipped, objects without a name, ...)."""
    counters = result.record.get("stats", {}).get("counters", {})
    repairs = {k: n for k, n in counters.items() if n and k.startswith(("object_", "box_", "relationship_", "predicate_", "image_size_"))}
    if result.name == "load" and repairs and not result.skipped:
        console.print(f"load repairs: {_top(repairs, 6)} (per image with --verbose; all in manifest.json)", highlight=False)


def print_build_summary(results: list[StageResult], run: RunDir) -> None:
    for result in results:
        _status(result)
        _llm_line(result)
        _repairs_line(result)
    console.print(stage_table(results, f"rows per stage ({run.path})"))
    funnel = next((r.record["funnel"] for r in results if r.record.get("funnel")), None)
    if funnel and len(funnel["steps"]) > 2:  # more than the default dedup: the curation the user asked for
        console.print(funnel_table(funnel))
    categories = category_table(results)
    if categories is not None:
        console.print(categories)
    gate = next((r.record["gate"] for r in results if r.record.get("gate")), None)
    if gate:
        console.print(gate_table(gate))
    reasons: Counter = Counter()
    for result in results:
        for reason, n in result.record.get("stats", {}).get("dropped", {}).items():
            reasons[(result.name, reason)] += n
    if reasons:
        table = Table(title=f"dropped, by stage and reason (rows are in {REJECTS_FILE})", header_style="bold")
        for column in ("stage", "reason", "rows"):
            table.add_column(column, justify="right" if column == "rows" else "left")
        for (stage, reason), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(stage, reason, f"{n:,}")
        console.print(table)
    for (_, reason) in reasons:
        if reason in REASON_HINTS and reason.startswith("image_"):
            console.print(f"[yellow]hint:[/] {REASON_HINTS[reason]}", highlight=False)
            break
    for note in funnel_notes(funnel) if funnel else []:
        console.print(note, highlight=False)
    path = next((r.record["path"] for r in results if "path" in r.record), run.path / "dataset")
    console.print(f"Dataset: [bold]{path}[/]  (load with datasets.load_dataset(\"parquet\", data_dir=...))")


SHORT = {c.name: c.short for c in REGISTRY}  # narrow columns: the table fits 80 characters


def funnel_table(report: dict) -> Table:
    """The filter's steps as rows, the categories as columns (what each step kept), and what each step dropped."""
    steps = report["steps"]
    categories = step_categories(steps)
    table = Table(title="filter funnel (questions kept after each step)", header_style="bold")
    table.add_column("step")
    for column in ("rows", *(SHORT[c] for c in categories)):
        table.add_column(column, justify="right")
    for s in steps:
        table.add_row(s["step"], f"{s['kept']:,}", *(f"{kept_in(s, c):,}" for c in categories))
    return table


def print_filter_summary(results: list[StageResult], run: RunDir) -> None:
    for result in results:
        _status(result)
        if result.record.get("incomplete"):
            console.print(f"[yellow]incomplete:[/] {result.name}: {result.record['incomplete']}", highlight=False)
    report = next((r.record.get("funnel") for r in results if r.record.get("funnel")), None)
    if report:
        console.print(funnel_table(report))
        for s in report["steps"]:
            if s["dropped"]:
                console.print(f"{s['step']} dropped: {_top(s['dropped'], 4)}", highlight=False)
        for note in funnel_notes(report):
            console.print(note, highlight=False)
    path = next((r.record["path"] for r in results if "path" in r.record), run.path / "dataset")
    console.print(f"Dataset: [bold]{path}[/]  (funnel: {run.file('filter_report.json')})")
