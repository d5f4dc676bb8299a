"""Rich summaries of stage results, shared by the commands."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from ..cli import console
from ..qa.templates import CATEGORIES
from ..rundir import RunDir, StageResult


def _status(result: StageResult) -> None:
    record = result.record
    if result.skipped:
        console.print(f"[green]✓[/] {result.name}: inputs and config unchanged, reusing {', '.join(record.get('outputs', []))} (use --force to re-run)")
    else:
        console.print(f"[green]✓[/] {result.name}: done in {record.get('seconds', 0):.2f} s")


def print_stage(result: StageResult, run: RunDir) -> None:
    _status(result)
    table = Table(title=f"{result.name} → {run.path}", header_style="bold")
    table.add_column("count")
    table.add_column("value", justify="right")
    for section in ("counts", "repairs", "rejects"):
        for key, value in result.record.get(section, {}).items():
            table.add_row(key if section == "counts" else f"[dim]{key}[/]", f"{value:,}")
    console.print(table)


def print_build_summary(results: list[StageResult], run: RunDir) -> None:
    for result in results:
        _status(result)
    stages = {r.name: r.record for r in results}
    load, generate, verify, export = (stages.get(n, {}) for n in ("load", "generate", "verify", "export"))

    flow = Table(title="rows per stage", header_style="bold")
    for column in ("stage", "rows", "detail"):
        flow.add_column(column, justify="right" if column == "rows" else "left")
    lc, gc, vc, ec = (s.get("counts", {}) for s in (load, generate, verify, export))
    flow.add_row("load", f"{lc.get('images_kept', 0):,}", f"images ({lc.get('objects', 0):,} objects, {lc.get('relationships', 0):,} relationships)")
    flow.add_row("generate", f"{gc.get('generated', 0):,}", f"questions ({gc.get('images_without_questions', 0):,} images served no category)")
    flow.add_row("verify", f"{vc.get('kept', 0):,}", f"kept ({vc.get('rejected', 0):,} rejected)")
    flow.add_row("export", f"{ec.get('rows_train', 0) + ec.get('rows_val', 0):,}", f"train {ec.get('rows_train', 0):,} / val {ec.get('rows_val', 0):,}")
    console.print(flow)

    by_category = generate.get("by_category", {})
    split_counts = {split: Counter(c) for split, c in export.get("by_split", {}).items()}
    table = Table(title="questions per category", header_style="bold")
    for column in ("category", "generated", "shortfall", "exported"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for category in CATEGORIES:
        exported = sum(c.get(f"category:{category}", 0) for c in split_counts.values())
        table.add_row(category, str(by_category.get(f"generated_{category}", 0)), str(by_category.get(f"shortfall_{category}", 0)), str(exported))
    console.print(table)

    rejects = Counter({k.split(":", 1)[1]: v for k, v in verify.get("reasons", {}).items() if k.startswith(("rejected:", "unverified:"))})
    rejects.update({k.removeprefix("rejected_"): v for k, v in export.get("rejects", {}).items()})
    if rejects:
        table = Table(title="not verified or rejected, by reason (see rejects.parquet)", header_style="bold")
        table.add_column("reason")
        table.add_column("rows", justify="right")
        for reason, n in rejects.most_common():
            table.add_row(reason, f"{n:,}")
        console.print(table)
    if rejects.get("image_missing"):
        console.print("[yellow]hint:[/] some images were not found under --data-dir (see data/README.md for the layout); "
                      "--no-images exports text-only rows instead.")
    console.print(f"Dataset: [bold]{export.get('path', run.path / 'dataset')}[/]  (load with datasets.load_dataset(\"parquet\", data_dir=...))")
