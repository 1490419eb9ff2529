"""Evaluate models on a time split and print their model cards.

Example: ``omnicrm models evaluate --as-of 2026-04-01 --truth data/truth.csv --json``.
"""

from __future__ import annotations

import importlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.errors import InputError
from omnicrm.models.churn import ChurnTables
from omnicrm.models.evaluation import (
    EVALUATORS,
    EvaluationContext,
    ModelCard,
    evaluate_models,
    load_truth,
)
from omnicrm.warehouse import connect

CARD_MODULES = ("omnicrm.models.forecast.card", "omnicrm.models.recommend.card")
"""Modules whose model cards register themselves in EVALUATORS when imported."""
for _module in CARD_MODULES:
    importlib.import_module(_module)

app = typer.Typer(help="Model evaluation.", no_args_is_help=True, add_completion=False)


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of {value!r} is not a date: use YYYY-MM-DD") from None


@app.command("evaluate")
def evaluate(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Split day: fit before it, judge from it to the data end "
            "(default: the latest day leaving --horizon-days to judge).",
            show_default=False,
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Truth file (truth.csv of omnicrm datagen) for ground-truth metrics.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help=f"Model to evaluate (repeatable): {', '.join(EVALUATORS)}.",
            show_default=False,
        ),
    ] = None,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="Churn label window in days.")
    ] = 90,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate models on a time split and print their model cards.

    Each card shows the data window, the split, the model's metrics and its baselines on the
    same split (and ground-truth figures with ``--truth``). ``--json`` prints one object
    keyed by model name.
    """
    split_day = _as_of(as_of)
    truth_frame = load_truth(truth) if truth is not None else None
    con = connect(warehouse)
    try:
        ctx = EvaluationContext.create(
            ChurnTables.from_connection(con),
            as_of=split_day,
            horizon_days=horizon_days,
            truth=truth_frame,
        )
        cards = evaluate_models(ctx, model or None)
    finally:
        con.disconnect()
    if as_json:
        print(
            json.dumps({name: card.to_dict() for name, card in cards.items()}, ensure_ascii=False)
        )
        return
    console = Console()
    for card in cards.values():
        console.print(_render(card))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def _render(card: ModelCard) -> Group:
    header = [f"[bold]{card.title}[/] [dim]({card.name})[/]"]
    for section, values in (("data", card.data_window), ("split", card.split)):
        header.append(f"  {section}: " + "; ".join(f"{k} {_fmt(v)}" for k, v in values.items()))
    baselines = list(card.baselines)
    metrics = Table(show_edge=False, pad_edge=False)
    metrics.add_column("metric", no_wrap=True)
    metrics.add_column("model", justify="right")
    for name in baselines:
        metrics.add_column(name, justify="right")
    for key, value in card.metrics.items():
        metrics.add_row(key, _fmt(value), *[_fmt(card.baselines[b].get(key)) for b in baselines])
    parts: list = [Text.from_markup("\n".join(header)), metrics]
    if card.ground_truth:
        truth = Table(show_edge=False, pad_edge=False)
        truth.add_column("ground truth", no_wrap=True)
        truth.add_column("value", justify="right")
        for key, value in card.ground_truth.items():
            truth.add_row(key, _fmt(value))
        parts.append(truth)
    params = {k: v for k, v in card.parameters.items() if not isinstance(v, dict)}
    if params:
        parts.append(
            Text("  parameters: " + "; ".join(f"{k} {_fmt(v)}" for k, v in params.items()))
        )
    parts.append(Text(""))
    return Group(*parts)
