"""Recommendations for a customer, and the basket rules (bought-together patterns).

``omnicrm recommend ID`` reads the ``recommendations`` table (building it first when it is
missing or with ``--refresh``); a customer unknown to the warehouse gets cold-start
recommendations (popular items, flagged). ``omnicrm basket-rules`` lists the strongest rules
of the ``basket_rules`` table at product or category level.
"""

from __future__ import annotations

import json
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.errors import InputError
from omnicrm.jobs.recommend import (
    RecommendSettings,
    run_basket_rules,
    run_recommend,
    sales_lines,
)
from omnicrm.models.recommend import card as _card  # noqa: F401  (registers the model card)
from omnicrm.warehouse import connect

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Rebuild the table from sales before this date (YYYY-MM-DD)."),
]
RefreshOption = Annotated[
    bool, typer.Option("--refresh", help="Rebuild the table from the sales before answering.")
]
STORED_K = 10


def recommend(
    customer_id: Annotated[str, typer.Argument(help="Customer (or member) id.")],
    k: Annotated[int, typer.Option("--k", "-k", help="Number of recommendations.")] = 5,
    refresh: RefreshOption = False,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recommendations for a customer, with the reason for each.

    Example: ``omnicrm recommend M10000042 --k 5``.
    """
    if k <= 0:
        raise InputError(f"--k {k} is not a positive whole number; ask for --k 1 or more")
    console = Console(stderr=as_json)
    con = connect(warehouse)
    try:
        tables = set(con.list_tables())
        if refresh or as_of is not None or "recommendations" not in tables:
            console.print("[dim]building the recommendations table (omnicrm.jobs.recommend)...[/]")
            run_recommend(con, as_of=as_of, k=max(k, STORED_K), rules=False)
            tables = set(con.list_tables())
        unified = _unified_id(con, customer_id, tables)
        t = con.table("recommendations")
        rows = t.filter(t.customer_id == unified).order_by("rank").limit(k).to_pandas()
        note = None
        if rows.empty:
            rows = _cold_start(con, unified, k)
            note = "unknown customer: cold-start recommendations (popular items)"
        elif len(rows) < k:
            note = f"only {len(rows)} stored; run with --refresh --k {k} for more"
    finally:
        con.disconnect()
    payload = {
        "customer_id": customer_id,
        "unified_id": unified,
        "cold_start": bool(rows["cold_start"].any()),
        "recommendations": [
            {
                "rank": int(r["rank"]),
                "item_id": str(r["item_id"]),
                "item_name": None if pd.isna(r.get("item_name")) else str(r.get("item_name")),
                "category": None if pd.isna(r.get("category")) else str(r.get("category")),
                "score": None if pd.isna(r["score"]) else float(r["score"]),
                "reason": str(r["reason"]),
            }
            for r in rows.to_dict("records")
        ],
        "note": note,
    }
    if as_json:
        print(json.dumps(payload, ensure_ascii=False))
        return
    title = f"Recommendations for {customer_id}"
    if unified != customer_id:
        title += f" (customer {unified})"
    table = Table(title=title)
    for col, justify in (("#", "right"), ("item", "left"), ("category", "left"), ("why", "left")):
        table.add_column(col, justify=justify)
    for r in payload["recommendations"]:
        table.add_row(
            str(r["rank"]),
            escape(r["item_name"] or r["item_id"]),
            escape(r["category"] or ""),
            escape(r["reason"]),
        )
    console.print(table)
    if note:
        console.print(f"[yellow]note:[/] {escape(note)}")


def _unified_id(con, customer_id: str, tables: set[str]) -> str:
    if "customer_keys" not in tables:
        return customer_id
    keys = con.table("customer_keys")
    found = keys.filter(keys.customer_id == customer_id).unified_id.to_pandas()
    return str(found.iloc[0]) if len(found) else customer_id


def _cold_start(con, customer_id: str, k: int) -> pd.DataFrame:
    from omnicrm.jobs.recommend import _catalogue, _segments
    from omnicrm.models.recommend import PopularityRecommender, interactions_from_order_lines

    interactions = interactions_from_order_lines(sales_lines(con))
    model = PopularityRecommender().fit(interactions, segments=_segments(con))
    recs = model.recommend([customer_id], k)
    catalogue = _catalogue(con).set_index("product_id")
    for col in ("name", "category"):
        values = (
            catalogue[col].reindex(recs["item_id"]).to_numpy()
            if col in catalogue
            else [None] * len(recs)
        )
        recs["item_name" if col == "name" else col] = values
    return recs


def basket_rules(
    top: Annotated[int, typer.Option("--top", "-n", help="Number of rules.")] = 20,
    level: Annotated[str, typer.Option("--level", help="product or category.")] = "product",
    refresh: RefreshOption = False,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The strongest bought-together rules (by lift, then confidence).

    Example: ``omnicrm basket-rules --level category --top 10``.
    """
    if top <= 0:
        raise InputError(f"--top {top} is not a positive whole number; use --top 1 or more")
    if level not in ("product", "category"):
        raise InputError(f"--level {level!r} is not product or category")
    console = Console(stderr=as_json)
    con = connect(warehouse)
    try:
        if refresh or as_of is not None or "basket_rules" not in con.list_tables():
            console.print("[dim]building the basket_rules table...[/]")
            run_basket_rules(con, as_of=as_of, settings=RecommendSettings())
        t = con.table("basket_rules")
        rows = (
            t.filter(t.level == level)
            .order_by(
                [t.lift.desc(), t.confidence.desc(), t.support.desc(), t.antecedent, t.consequent]
            )
            .limit(top)
            .to_pandas()
        )
    finally:
        con.disconnect()
    records = [
        {
            "antecedent": r["antecedent"],
            "consequent": r["consequent"],
            "antecedent_names": r["antecedent_names"],
            "consequent_names": r["consequent_names"],
            "support": float(r["support"]),
            "confidence": float(r["confidence"]),
            "lift": float(r["lift"]),
        }
        for r in rows.to_dict("records")
    ]
    if as_json:
        print(json.dumps({"level": level, "rules": records}, ensure_ascii=False))
        return
    table = Table(title=f"Top {len(records)} {level} rules")
    for col, justify in (
        ("if the basket has", "left"),
        ("it also has", "left"),
        ("support", "right"),
        ("confidence", "right"),
        ("lift", "right"),
    ):
        table.add_column(col, justify=justify)
    for r in records:
        table.add_row(
            escape(r["antecedent_names"]),
            escape(r["consequent_names"]),
            f"{r['support']:.2%}",
            f"{r['confidence']:.0%}",
            f"{r['lift']:.1f}",
        )
    console.print(table)
    if not records:
        console.print(f"[yellow]note:[/] no {level} rule met the thresholds")
