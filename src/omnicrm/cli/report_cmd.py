"""Write the self-contained HTML report (charts embedded, opens offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from omnicrm.cli.options import WarehouseOption
from omnicrm.config import warehouse_url
from omnicrm.report import build_report, write_report
from omnicrm.report.i18n import check_language
from omnicrm.warehouse import connect


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: en or zh.")] = "en",
    warehouse: WarehouseOption = None,
) -> None:
    """Write the self-contained HTML report (charts embedded, opens offline).

    Example: ``omnicrm report --out report.html --lang zh``.
    """
    check_language(lang)
    con = connect(warehouse, read_only=_is_local_file(warehouse))
    result = build_report(con, lang=lang, subtitle=warehouse_url(warehouse))
    write_report(out, result)
    Console().print(f"report written to [bold]{out}[/] ({len(result.sections)} sections)")


def _is_local_file(url: str | None) -> bool:
    return warehouse_url(url).startswith("duckdb:///") and ":memory:" not in warehouse_url(url)
