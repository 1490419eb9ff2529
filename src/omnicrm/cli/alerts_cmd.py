"""Check daily revenue, orders and active customers against their forecasts; store and send
alerts.

Example: ``omnicrm alerts --days 1 --webhook https://hooks.example.com/crm`` checks yesterday's
KPIs (overall and per store), writes new alerts to the ``alerts`` table and POSTs every alert
not yet delivered to the webhook (also read from ``OMNICRM_ALERT_WEBHOOK``).
"""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omnicrm.alerts.delivery import Webhook, deliver_pending
from omnicrm.alerts.pipeline import run_alerts
from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.warehouse import connect

WEBHOOK_ENV = "OMNICRM_ALERT_WEBHOOK"

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Check the days before this date (YYYY-MM-DD; default: after the last order).",
        show_default=False,
    ),
]
DaysOption = Annotated[int, typer.Option("--days", help="Days to check.", min=1)]
WebhookOption = Annotated[
    str | None,
    typer.Option(
        "--webhook",
        help=f"URL to POST alerts to (default: ${WEBHOOK_ENV}; none: do not send).",
        show_default=False,
    ),
]
UnitOption = Annotated[str, typer.Option("--currency", help="Money unit in messages.")]


def alerts(
    as_of: AsOfOption = None,
    days: DaysOption = 1,
    webhook: WebhookOption = None,
    currency: UnitOption = "yuan",
    as_json: JsonOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Check daily revenue, orders and active customers against their forecasts; store and
    send alerts."""
    url = webhook or os.environ.get(WEBHOOK_ENV)
    hook = Webhook(url) if url else None
    con = connect(warehouse)
    try:
        run = run_alerts(con, as_of=as_of, check_days=days, currency=currency)
        report = deliver_pending(con, hook) if hook is not None else None
    finally:
        con.disconnect()
    out = {**run.summary, "delivery": report.as_dict() if report else None}
    if as_json:
        print(json.dumps(out, indent=2, sort_keys=True, default=str))
        return
    console = Console()
    console.print(
        f"[bold]Alerts[/] {run.summary['checked_from']} – {run.summary['checked_to']}"
        f" · {run.summary['series_checked']} KPI series · {len(run.alerts)} alerts "
        f"({run.summary['new']} new)"
    )
    t = Table(show_header=True, title_justify="left")
    t.add_column("severity")
    t.add_column("alert")
    for a in run.alerts.itertuples():
        style = "bold red" if a.severity == "critical" else "yellow"
        t.add_row(f"[{style}]{a.severity}[/]", a.message)
    if len(run.alerts):
        console.print(t)
    if report is not None:
        console.print(
            f"delivered {len(report.delivered)} to {report.target}; "
            f"failed {len(report.failed)}; left pending {report.pending_left}"
        )
        for alert_id, reason in report.failed.items():
            console.print(f"[red]not delivered[/] {alert_id}: {reason}")
    elif url is None:
        console.print(f"no webhook (--webhook or ${WEBHOOK_ENV}): alerts stored, not sent")
