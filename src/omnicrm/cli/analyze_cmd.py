"""Score customers and compute KPIs, cohorts and migration into the warehouse."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.jobs.analyze import STEPS, AnalyzeResult, AnalyzeSettings, run_analyze
from omnicrm.warehouse import connect


def analyze(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Use only data before this date (YYYY-MM-DD); default: after the last order.",
        ),
    ] = None,
    warehouse: WarehouseOption = None,
    models: Annotated[
        bool,
        typer.Option(
            "--models/--no-models",
            help="Fit the CLV and churn models (p_alive, clv_12m, "
            "churn_prob, reasons). --no-models is a quicker refresh of segments and KPIs: "
            "customer_scores then has no model columns.",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Score customers and compute KPIs, cohorts and migration into the warehouse.

    Writes customer_keys, customer_scores, cluster_profiles, kpi_daily, kpi_monthly, kpi_gaps,
    cohorts and segment_migration. Example: ``omnicrm analyze --as-of 2026-06-30``.
    """
    con = connect(warehouse)
    console = Console(stderr=as_json)
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("analyzing", total=len(STEPS))
        seen: list[str] = []

        def on_step(name: str) -> None:
            if seen:
                progress.advance(task)
            seen.append(name)
            progress.update(task, description=name)

        result = run_analyze(
            con, as_of=as_of, on_step=on_step, settings=AnalyzeSettings(churn=models)
        )
        progress.update(task, completed=len(STEPS), description="done")
    con.disconnect()
    if as_json:
        print(json.dumps(summary(result)))
        return
    _print(console, result)


def summary(result: AnalyzeResult) -> dict:
    """The run as a JSON-ready dict: ``as_of``, ``tables`` (rows), ``seconds``, ``clusters``."""
    return {
        "as_of": result.as_of.isoformat(),
        "tables": result.rows,
        "seconds": result.seconds,
        "clusters": {str(k): v for k, v in result.clusters.items()},
        "notes": result.notes,
    }


def _print(console: Console, result: AnalyzeResult) -> None:
    table = Table(title=f"Analysis as of {result.as_of:%Y-%m-%d %H:%M} UTC")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(
        "next: [bold]omnicrm report --out report.html[/] or [bold]omnicrm profile CUSTOMER_ID[/]"
    )
