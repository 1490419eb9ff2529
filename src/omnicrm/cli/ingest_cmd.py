"""Load CSV/TSV, Parquet, JSON-lines or Excel files into a warehouse table.

Example: ``omnicrm ingest sales_*.csv --table order_lines --mapping pos.toml --json``
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from omnicrm.cli.interrupt import caused_by_interrupt
from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.ingest import IngestResult, ingest_files
from omnicrm.ingest import Progress as IngestProgress
from omnicrm.warehouse import connect


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files to load (csv, tsv, csv.gz, parquet, jsonl, xlsx).", show_default=False
        ),
    ],
    table: Annotated[
        str,
        typer.Option(
            "--table",
            "-t",
            help="Contract table to load into (see docs/data-model.md).",
            show_default=False,
        ),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", "-m", help="Column mapping (TOML, see docs/ingest.md)."),
    ] = None,
    check_references: Annotated[
        bool,
        typer.Option(
            "--check-references",
            help="Also quarantine rows whose ids (e.g. product_id) are not loaded yet.",
        ),
    ] = False,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load CSV/TSV, Parquet, JSON-lines or Excel files into a warehouse table.

    Rows that fail validation go to the quarantine table with their line and the reason;
    re-loading a file adds nothing; each file is committed as a whole or not at all.
    """
    con = connect(warehouse)
    console = Console(stderr=True)
    finished: list[str] = []
    current: list[str] = []
    try:
        with _progress_bar(console, enabled=not as_json) as bar:
            tasks: dict[str, int] = {}

            def on_progress(p: IngestProgress) -> None:
                if p.done:
                    finished.append(p.file)
                elif not current or current[-1] != p.file:
                    current.append(p.file)
                if as_json:
                    return
                if p.file not in tasks:
                    tasks[p.file] = bar.add_task(Path(p.file).name, total=p.bytes_total)
                bar.update(tasks[p.file], completed=p.bytes_done)

            result = ingest_files(
                con,
                paths,
                table=table,
                mapping=mapping,
                check_references=check_references,
                progress=on_progress,
            )
    except (KeyboardInterrupt, Exception) as exc:  # DuckDB wraps Ctrl-C in a RuntimeError
        if not caused_by_interrupt(exc):
            raise
        pending = [f for f in current if f not in finished]
        console.print(
            "[yellow]interrupted: nothing was committed for the file in progress"
            + (f" ({pending[-1]})" if pending else "")
            + (f"; already loaded: {', '.join(finished)}" if finished else "")
            + "[/]",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    finally:
        con.disconnect()
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        Console().print(summary_table(result))


def _progress_bar(console: Console, *, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not enabled,
    )


def summary_table(result: IngestResult) -> Table:
    """A Rich table: one row per file and a total row."""
    out = Table(title=f"Ingest into {result.table} (run {result.run_id[:8]})")
    out.add_column("file")
    for name in ("read", "loaded", "quarantined", "duplicates"):
        out.add_column(name, justify="right")
    for f in result.files:
        out.add_row(
            f.file, f"{f.read:,}", f"{f.loaded:,}", f"{f.quarantined:,}", f"{f.duplicates:,}"
        )
    if len(result.files) > 1:
        out.add_row(
            "[bold]total",
            f"{result.read:,}",
            f"{result.loaded:,}",
            f"{result.quarantined:,}",
            f"{result.duplicates:,}",
        )
    if result.quarantined:
        out.caption = (
            f"{result.quarantined:,} rows quarantined: see the quarantine table "
            f"(run_id = '{result.run_id}')"
        )
    return out
