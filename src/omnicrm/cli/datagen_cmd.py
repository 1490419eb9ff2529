"""Generate a synthetic multi-channel retailer (source files, mappings, truth, manifest).

Example: ``omnicrm datagen --customers 2000 --days 365 --out data/`` writes ``data/manifest.json``
listing the files in load order; ``--dirty 0.02`` damages 2% of the rows of each file the way
real exports are damaged, to exercise ingestion's quarantine.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from omnicrm.cli.options import JsonOption
from omnicrm.errors import InputError


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--end-date {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-06-30"
        ) from None


def datagen(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files to.")],
    customers: Annotated[int, typer.Option(help="Customer records to generate.")] = 20_000,
    days: Annotated[int, typer.Option(help="Days of history (at least 28).")] = 730,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    dirty: Annotated[
        float, typer.Option(help="Fraction of rows (0 to 0.5) given realistic faults.")
    ] = 0.0,
    end_date: Annotated[
        str, typer.Option(help="Last day of the data (YYYY-MM-DD).")
    ] = "2026-06-30",
    as_json: JsonOption = False,
) -> None:
    """Generate a synthetic multi-channel retailer (source files, mappings, truth, manifest).

    Example: ``omnicrm datagen --customers 2000 --days 365 --out data/``.
    """
    from omnicrm.datagen import generate
    from omnicrm.datagen.generate import check_arguments

    end = _parse_date(end_date)
    check_arguments(out, customers, days, seed, dirty, end)
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as bar:
        task = bar.add_task("starting", total=1)

        def progress(stage: str, index: int, total: int) -> None:
            bar.update(task, description=stage, completed=index, total=total)

        result = generate(
            out,
            customers=customers,
            days=days,
            seed=seed,
            dirty=dirty,
            end_date=end,
            progress=progress,
        )
        bar.update(task, description="done", completed=bar.tasks[0].total)
    if as_json:
        print(result.manifest_path.read_text(encoding="utf-8"))
        return
    table = Table(title=f"Synthetic retailer in {result.out_dir}")
    for name, justify in (
        ("file", "left"),
        ("table", "left"),
        ("mapping", "left"),
        ("rows", "right"),
        ("faults", "right"),
    ):
        table.add_column(name, justify=justify)
    for f in result.files:
        table.add_row(
            f.path.name,
            f.table,
            f.mapping_path.name if f.mapping_path else "",
            f"{f.rows:,}",
            f"{sum(f.faults.values()):,}" if f.faults else "",
        )
    Console().print(table)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    Console().print(
        f"truth: {result.truth_path.name}   manifest: "
        f"{result.manifest_path.name}   faults injected: "
        f"{manifest['faults_total']:,}",
        highlight=False,
    )
