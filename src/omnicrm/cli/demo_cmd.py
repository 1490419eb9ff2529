"""Generate a synthetic retailer, ingest it, analyze it and write the HTML report, in one go."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from omnicrm.datagen import generate
from omnicrm.ingest import Progress as IngestProgress
from omnicrm.ingest import ingest_files
from omnicrm.jobs.analyze import STEPS, run_analyze
from omnicrm.report import build_report, write_report
from omnicrm.warehouse import connect


def demo(
    customers: Annotated[int, typer.Option(help="Customers to generate.")] = 20_000,
    days: Annotated[int, typer.Option(help="Days of history to generate.")] = 730,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same retailer).")] = 42,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for data, warehouse and report.")
    ] = Path("demo-output"),
    lang: Annotated[str, typer.Option("--lang", help="Report language: en or zh.")] = "en",
) -> None:
    """Generate a synthetic retailer, ingest it, analyze it and write the HTML report, in one go.

    Writes ``OUT/data/`` (source files and mappings), ``OUT/omnicrm.duckdb`` (the warehouse,
    recreated on every run) and ``OUT/report.html``. Example: ``omnicrm demo --customers 2000``.
    """
    started = time.perf_counter()
    console = Console()
    os.environ.setdefault("OMNICRM_DEMO", "1")  # demo data may use the built-in PII key
    out.mkdir(parents=True, exist_ok=True)
    warehouse_file = out / "omnicrm.duckdb"
    for stale in (warehouse_file, warehouse_file.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)

    with _progress(console) as progress:
        stage = progress.add_task("generating retailer", total=None)
        retailer = generate(out / "data", customers=customers, days=days, seed=seed)
        progress.update(stage, total=1, completed=1)

        con = connect(f"duckdb:///{warehouse_file.resolve()}")
        results = []
        sizes = [f.path.stat().st_size for f in retailer.files]
        load = progress.add_task("ingesting", total=sum(sizes))
        done_before = 0
        for data_file, size in zip(retailer.files, sizes, strict=True):
            progress.update(load, description=f"ingesting {data_file.path.name}")

            def advance(p: IngestProgress, base: int = done_before) -> None:
                progress.update(load, completed=base + p.bytes_done)

            results.append(
                (
                    data_file,
                    ingest_files(
                        con,
                        [data_file.path],
                        table=data_file.table,
                        mapping=data_file.mapping_path,
                        progress=advance,
                    ),
                )
            )
            done_before += size
            progress.update(load, completed=done_before)

        stage = progress.add_task("analyzing", total=len(STEPS))

        def on_step(name: str) -> None:
            progress.update(stage, description=f"analyzing: {name}")
            progress.advance(stage)

        analysis = run_analyze(con, on_step=on_step, demo=True)
        progress.update(stage, completed=len(STEPS), description="analyzing")

        stage = progress.add_task("writing report", total=None)
        report_path = out / "report.html"
        write_report(report_path, build_report(con, lang=lang, subtitle=str(warehouse_file)))
        progress.update(stage, total=1, completed=1)
        con.disconnect()

    _print_summary(console, results)
    console.print(
        f"customers scored: {analysis.rows.get('customer_scores', 0):,} "
        f"(as of {analysis.as_of:%Y-%m-%d})"
    )
    console.print(
        f"\nreport: [bold]{report_path}[/]  warehouse: {warehouse_file}  "
        f"({time.perf_counter() - started:.0f} s)"
    )


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_summary(console: Console, results: list) -> None:
    table = Table(title="Ingestion")
    for column in ("file", "table", "read", "loaded", "quarantined", "duplicates"):
        table.add_column(
            column,
            no_wrap=column != "file",
            overflow="fold",
            justify="left" if column in ("file", "table") else "right",
        )
    for data_file, result in results:
        table.add_row(
            data_file.path.name,
            data_file.table,
            f"{result.read:,}",
            f"{result.loaded:,}",
            f"{result.quarantined:,}",
            f"{result.duplicates:,}",
        )
    console.print(table)
