"""Rich summaries of stage results, shared by the commands."""

from __future__ import annotations

from rich.table import Table

from ..cli import console
from ..rundir import RunDir, StageResult


def print_stage(result: StageResult, run: RunDir) -> None:
    record = result.record
    if result.skipped:
        console.print(f"[green]✓[/] {result.name}: inputs and config unchanged, reusing {', '.join(record.get('outputs', []))} (use --force to re-run)")
    else:
        console.print(f"[green]✓[/] {result.name}: done in {record.get('seconds', 0):.2f} s")
    table = Table(title=f"{result.name} → {run.path}", show_header=True, header_style="bold")
    table.add_column("count")
    table.add_column("value", justify="right")
    for key, value in record.get("counts", {}).items():
        table.add_row(key, f"{value:,}")
    for key, value in record.get("repairs", {}).items():
        table.add_row(f"[dim]{key}[/]", f"{value:,}")
    console.print(table)
