"""Export the churn risk list (customers by value at risk) to CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omnicrm.cli.options import WarehouseOption
from omnicrm.errors import InputError
from omnicrm.models.churn import risk_list, write_risk_list_csv
from omnicrm.warehouse import connect


def risk_list_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="CSV file to write (UTF-8 with BOM, opens in Excel)."),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Only the first N customers.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Export the churn risk list (customers by value at risk) to CSV.

    Reads ``customer_scores`` written by ``omnicrm analyze``; value at risk is 12-month CLV x
    churn probability. Example: ``omnicrm risk-list --top 500 --out risk.csv``.
    """
    con = connect(warehouse, read_only=True)
    if "customer_scores" not in con.list_tables():
        raise InputError("the warehouse has no customer_scores table: run 'omnicrm analyze' first")
    scores = con.table("customer_scores")
    if "churn_prob" not in scores.columns:
        raise InputError(
            "customer_scores has no churn columns: run 'omnicrm analyze' again "
            "(churn and CLV scoring were off)"
        )
    risk = risk_list(scores.execute(), top=top)
    console = Console()
    if out is not None:
        write_risk_list_csv(risk, out)
        console.print(f"{len(risk):,} customers written to [bold]{out}[/]")
        return
    table = Table(title="Customers by value at risk")
    for column in (
        "rank",
        "customer_id",
        "clv_12m",
        "churn_prob",
        "value_at_risk",
        "churn_reasons",
    ):
        table.add_column(column, justify="right" if column != "churn_reasons" else "left")
    for row in risk.head(top or 20).itertuples(index=False):
        table.add_row(
            str(row.rank),
            str(row.customer_id),
            f"{row.clv_12m:,.2f}",
            f"{row.churn_prob:.0%}",
            f"{row.value_at_risk:,.2f}",
            str(row.churn_reasons or ""),
        )
    console.print(table)
