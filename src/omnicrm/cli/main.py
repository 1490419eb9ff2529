"""The ``omnicrm`` command.

Each command lives in its own module under ``omnicrm.cli`` and is registered here. Errors
raised on purpose (:class:`omnicrm.errors.OmnicrmError`) are printed as one clear message with
exit code 2, never as a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from omnicrm.cli.interrupt import caused_by_interrupt
from omnicrm.errors import OmnicrmError

app = typer.Typer(
    name="omnicrm",
    help="Customer intelligence and loyalty for retailers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _register() -> None:
    from omnicrm.cli import report_cmd, tables_cmd

    app.command("tables", help=tables_cmd.__doc__.splitlines()[0])(tables_cmd.tables)
    app.command("report", help=report_cmd.__doc__.splitlines()[0])(report_cmd.report)

    from omnicrm.cli import profile_cmd

    app.command("profile", help=profile_cmd.__doc__.splitlines()[0])(profile_cmd.profile)

    from omnicrm.cli import db_cmd, keys_cmd, ledger_cmd, loyalty_cmd, serve_cmd

    app.add_typer(db_cmd.app, name="db")
    app.add_typer(keys_cmd.app, name="keys")
    app.add_typer(ledger_cmd.app, name="ledger")
    app.add_typer(loyalty_cmd.app, name="loyalty")
    app.command("serve", help=serve_cmd.__doc__.splitlines()[0])(serve_cmd.serve)

    from omnicrm.cli import ingest_cmd

    app.command("ingest", help=ingest_cmd.__doc__.splitlines()[0])(ingest_cmd.ingest)

    from omnicrm.cli import datagen_cmd

    app.command("datagen", help=datagen_cmd.__doc__.splitlines()[0])(datagen_cmd.datagen)

    from omnicrm.cli import analyze_cmd, demo_cmd, risk_cmd

    app.command("risk-list", help=risk_cmd.__doc__.splitlines()[0])(risk_cmd.risk_list_cmd)

    app.command("analyze", help=analyze_cmd.__doc__.splitlines()[0])(analyze_cmd.analyze)

    app.command("demo", help=demo_cmd.__doc__.splitlines()[0])(demo_cmd.demo)

    from omnicrm.cli import promotions_cmd

    app.add_typer(promotions_cmd.promotions_app, name="promotions")
    app.add_typer(promotions_cmd.coupons_app, name="coupons")
    loyalty_cmd.app.command("export")(promotions_cmd.loyalty_export)

    from omnicrm.cli import models_cmd

    app.add_typer(models_cmd.app, name="models")

    from omnicrm.cli import alerts_cmd, forecast_cmd

    app.command("forecast", help=forecast_cmd.__doc__.splitlines()[0])(forecast_cmd.forecast)
    app.command("alerts", help=alerts_cmd.__doc__.splitlines()[0])(alerts_cmd.alerts)

    from omnicrm.cli import recommend_cmd

    app.command("recommend", help=recommend_cmd.recommend.__doc__.splitlines()[0])(
        recommend_cmd.recommend
    )
    app.command("basket-rules", help=recommend_cmd.basket_rules.__doc__.splitlines()[0])(
        recommend_cmd.basket_rules
    )


@app.callback()
def _root() -> None:
    """Customer intelligence and loyalty for retailers."""


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code (2 for bad input, 130 when interrupted)."""
    try:
        app(args=argv, prog_name="omnicrm")
    except OmnicrmError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return 2
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted: nothing was committed for the file in progress[/]")
        return 130
    except Exception as exc:  # DuckDB reports Ctrl-C during a query as "Query interrupted"
        if not caused_by_interrupt(exc):
            raise
        err_console.print("[yellow]interrupted: nothing was committed for the file in progress[/]")
        return 130
    except SystemExit as exc:  # Typer exits this way after every command and usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
