"""Forecast demand per product x store, category, region or in total, with intervals.

Example: ``omnicrm forecast --horizon 28 --level product-store`` backtests the candidate
models, chooses one per series, writes the ``forecasts`` table (product x store rows plus their
bottom-up category, region and total sums) and prints the chosen models and their accuracy.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.errors import InputError
from omnicrm.models.forecast.pipeline import run_forecast
from omnicrm.warehouse import connect

HorizonOption = Annotated[int, typer.Option("--horizon", help="Periods to forecast.", min=1)]
LevelOption = Annotated[
    str, typer.Option("--level", help="product-store, category, region or total.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Use order lines before this date (YYYY-MM-DD; default: all).",
        show_default=False,
    ),
]
FreqOption = Annotated[str, typer.Option("--freq", help="D (days) or W (weeks).")]
ModelsOption = Annotated[
    str, typer.Option("--models", help="Comma-separated candidate models, or auto.")
]
WindowsOption = Annotated[int, typer.Option("--windows", help="Backtest windows.", min=1)]


def forecast(
    horizon: HorizonOption = 28,
    level: LevelOption = "product-store",
    as_of: AsOfOption = None,
    freq: FreqOption = "D",
    models: ModelsOption = "auto",
    windows: WindowsOption = 3,
    as_json: JsonOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Forecast demand per product x store, category, region or in total, with intervals."""
    names = tuple(m.strip() for m in models.split(",") if m.strip())
    if not names:
        raise InputError("--models is empty: give model names or auto")
    con = connect(warehouse)
    try:
        run = run_forecast(
            con,
            level=level,
            horizon=horizon,
            freq=freq,
            as_of=as_of,
            models=names,
            n_windows=windows,
        )
    finally:
        con.disconnect()
    if as_json:
        print(json.dumps(run.summary, indent=2, sort_keys=True, default=str))
        return
    render(run.summary, Console())


def render(s: dict, console: Console) -> None:
    """Print a run summary: chosen models, backtest accuracy, data fixes."""
    console.print(
        f"[bold]Forecast[/] {s['level']} · {s['series']} series · as of {s['as_of']} "
        f"· {s['horizon']} {'days' if s['freq'] == 'D' else 'weeks'} · "
        f"{s['rows_written']} rows written to [bold]forecasts[/] (run {s['run_id'][:8]})"
    )
    t = Table(
        title="Models (backtest accuracy on the series each one was tried on)", title_justify="left"
    )
    for c in ("model", "chosen for", "series tried", "MASE", "vs seasonal naive", "WAPE", "bias"):
        t.add_column(c, justify="left" if c == "model" else "right")
    names = sorted(set(s["accuracy"]) | set(s["selected"]))
    for name in names:
        a = s["accuracy"].get(name, {})

        def f(x, pct=False):
            return "—" if x is None else (f"{x:+.1%}" if pct else f"{x:.3f}")

        t.add_row(
            name,
            str(s["selected"].get(name, 0)),
            str(a.get("series", "—")),
            f(a.get("mase")),
            f(a.get("mase_ratio_to_seasonal_naive")),
            f(a.get("wape")),
            f(a.get("bias"), pct=True),
        )
    console.print(t)
    d = s["diagnostics"]
    console.print(
        f"data fixes: {d['gaps_filled']} missing days filled with 0, "
        f"{d['negatives_clipped']} negative days clipped to 0, "
        f"{d['all_zero_series']} all-zero series (forecast 0), "
        f"{d['short_series']} series too short to backtest (rule-based model)"
    )
