"""Show the 360° profile of one customer (any source id or the unified id).

Example: ``omnicrm profile C000123 --as-of 2024-07-01`` prints panels and tables;
``--json`` prints one JSON object (money as exact decimal strings, times in ISO 8601 UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from omnicrm.analytics.profile import customer_profile, profile_json
from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.warehouse import connect

CustomerArg = Annotated[
    str, typer.Argument(help="A source customer id or a unified id.", show_default=False)
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Use only data before this date (YYYY-MM-DD; default: now).",
        show_default=False,
    ),
]


def profile(
    customer_id: CustomerArg,
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Show the 360° profile of one customer (any source id or the unified id)."""
    con = connect(warehouse, read_only=True)
    try:
        data = customer_profile(con, customer_id, as_of=as_of)
    finally:
        con.disconnect()
    if as_json:
        print(profile_json(data))
        return
    render(data, Console())


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _kv(title: str, pairs: dict[str, Any]) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for key, value in pairs.items():
        grid.add_row(key, _fmt(value))
    return Panel(grid, title=title, expand=True)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    out = Table(title=title, title_justify="left", expand=True)
    for c in columns:
        numeric = c in ("spend", "amount", "orders", "lines")
        out.add_column(c, justify="right" if numeric else "left")
    for row in rows:
        out.add_row(*(_fmt(v) for v in row))
    if not rows:
        out.add_row(*(["none"] + [""] * (len(columns) - 1)))
    return out


def render(p: dict[str, Any], console: Console) -> None:
    """Print a profile as Rich panels and tables."""
    c, buy = p["customer"], p["purchases"]
    head = {
        "name": c.get("name"),
        "gender": c.get("gender"),
        "city": c.get("city"),
        "member tier": c.get("member_tier"),
        "birthday": c.get("birthday"),
        "signed up": c.get("signup_ts"),
        "records merged": len(p["identity"]["records"]),
    }
    tags = ", ".join(f"[bold]{t['tag']}[/] ({t['reason']})" for t in p["tags"]) or "none"
    console.print(
        Panel(
            f"Tags: {tags}",
            title=f"Customer {p['unified_id']} (as of {_fmt(p['as_of'])} UTC)",
            expand=True,
        )
    )
    scores = {k: v for k, v in p["scores"].items() if k not in ("customer_id", "as_of")}
    console.print(
        Columns(
            [
                _kv("Customer", head),
                _kv(
                    "Purchases",
                    {
                        "orders": buy["orders"],
                        "returns": buy["return_orders"],
                        "spend": buy["spend"],
                        "avg order": buy["avg_order_value"],
                        "first": buy["first_purchase"],
                        "last": buy["last_purchase"],
                        "channel": buy["preferred_channel"],
                        "store": buy["preferred_store"],
                        "time of day": buy["preferred_time_of_day"],
                    },
                ),
                _kv("Scores", scores),
            ],
            equal=True,
            expand=True,
        )
    )
    console.print(
        _table(
            f"Identity ({p['identity']['resolved_by']})",
            ["record", "hops", "linked to", "through", "identifier"],
            [
                [r["customer_id"], r["hops"], r["linked_to"], r["link_type"], r.get("link_value")]
                for r in p["identity"]["records"]
            ],
        )
    )
    console.print(
        _table(
            "Identifiers",
            ["type", "value", "records", "used for linking"],
            [
                [
                    i["type"],
                    i["value"],
                    ", ".join(i["records"]),
                    "yes"
                    if i["used_for_linking"]
                    else f"no (held by {i['held_by_records']} records)"
                    if i["held_by_records"] > 1
                    else "—",
                ]
                for i in p["identifiers"]
            ],
        )
    )
    console.print(
        Columns(
            [
                _table(
                    "Top categories",
                    ["category", "spend", "orders"],
                    [[x["name"], x["spend"], x["orders"]] for x in p["top_categories"]],
                ),
                _table(
                    "Top brands",
                    ["brand", "spend", "orders"],
                    [[x["name"], x["spend"], x["orders"]] for x in p["top_brands"]],
                ),
            ],
            equal=True,
            expand=True,
        )
    )
    console.print(
        _table(
            "Recent orders",
            ["order", "time", "store", "channel", "lines", "amount"],
            [
                [
                    o["order_id"] + (" (return)" if o["is_return"] else ""),
                    o["order_ts"],
                    o["store"] or o["store_id"],
                    o["channel"],
                    o["lines"],
                    o["amount"],
                ]
                for o in p["recent_orders"]
            ],
        )
    )
    fb, be = p["feedback"], p["behaviour"]
    console.print(
        Columns(
            [
                _kv(
                    "Feedback",
                    {
                        "responses": fb["responses"],
                        "NPS avg": fb.get("nps_avg"),
                        "NPS latest": fb.get("nps_latest"),
                        "group": fb.get("nps_group"),
                        "CSAT avg": fb.get("csat_avg"),
                    },
                ),
                _kv(
                    "Behaviour",
                    {
                        "events": be["events"],
                        "store visits": be.get("store_visits"),
                        "online events": be.get("online_events"),
                        "last seen": be.get("last_seen"),
                        "top searches": ", ".join(be.get("top_searches", [])) or None,
                        **{
                            f"dwell {zone}": f"{d['dwell_seconds'] // 60} min "
                            f"({d['visits']} visits)"
                            for zone, d in be.get("dwell_by_zone", {}).items()
                        },
                    },
                ),
            ],
            equal=True,
            expand=True,
        )
    )
    for comment in fb.get("comments", []):
        console.print(
            f"  [dim]{_fmt(comment['response_ts'])}[/] NPS {_fmt(comment['nps'])}: "
            f"{comment['comment']}",
            highlight=False,
        )
