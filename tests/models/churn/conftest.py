"""Crafted warehouse tables for churn tests, and one generated retailer with its truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pytest

from omnicrm.models.churn import ChurnTables

DAY0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(day: int, hour: int = 12) -> datetime:
    """``DAY0 + day`` days at ``hour`` o'clock UTC."""
    return DAY0 + timedelta(days=day, hours=hour)


def lines_table(rows: list[dict]) -> ibis.Table:
    """Sales lines with contract columns; each row gives at least order_id, customer_id, day.

    Defaults: one unit of product ``p1`` at 10.00 in store, no discount, not a return.
    """
    full = []
    for i, r in enumerate(rows):
        qty = Decimal(str(r.get("quantity", 1)))
        price = Decimal(str(r.get("unit_price", "10.00")))
        disc = Decimal(str(r.get("discount_amount", "0.00")))
        full.append(
            {
                "order_id": r["order_id"],
                "line_number": r.get("line_number", i + 1),
                "order_ts": at(r["day"], r.get("hour", 12)),
                "customer_id": r["customer_id"],
                "store_id": "S1",
                "channel": r.get("channel", "store"),
                "product_id": r.get("product_id", "p1"),
                "quantity": qty,
                "unit_price": price,
                "discount_amount": disc,
                "amount": qty * price - (disc if qty > 0 else -disc),
                "promotion_id": r.get("promotion_id"),
                "is_return": qty < 0,
            }
        )
    frame = pd.DataFrame(full)
    schema = {
        "order_id": "string",
        "line_number": "int64",
        "order_ts": "timestamp('UTC')",
        "customer_id": "string",
        "store_id": "string",
        "channel": "string",
        "product_id": "string",
        "quantity": "decimal(18, 3)",
        "unit_price": "decimal(18, 2)",
        "discount_amount": "decimal(18, 2)",
        "amount": "decimal(18, 2)",
        "promotion_id": "string",
        "is_return": "boolean",
    }
    return ibis.memtable(frame, schema=schema)


def products_table() -> ibis.Table:
    return ibis.memtable(
        {"product_id": ["p1", "p2", "p3"], "category": ["Dairy", "Bakery", "Dairy"]}
    )


def events_table(rows: list[tuple[str, str, int]]) -> ibis.Table:
    """Events from ``(customer_id, event_type, day)``."""
    return ibis.memtable(
        pd.DataFrame(
            {
                "event_id": [f"e{i}" for i in range(len(rows))],
                "customer_id": [r[0] for r in rows],
                "event_type": [r[1] for r in rows],
                "event_ts": [at(r[2]) for r in rows],
            }
        ),
        schema={
            "event_id": "string",
            "customer_id": "string",
            "event_type": "string",
            "event_ts": "timestamp('UTC')",
        },
    )


def feedback_table(rows: list[tuple[str, int, int | None, int | None]]) -> ibis.Table:
    """Feedback from ``(customer_id, day, nps, csat)``."""
    return ibis.memtable(
        pd.DataFrame(
            {
                "feedback_id": [f"f{i}" for i in range(len(rows))],
                "customer_id": [r[0] for r in rows],
                "response_ts": [at(r[1]) for r in rows],
                "nps": pd.array([r[2] for r in rows], dtype="Int64"),
                "csat": pd.array([r[3] for r in rows], dtype="Int64"),
            }
        ),
        schema={
            "feedback_id": "string",
            "customer_id": "string",
            "response_ts": "timestamp('UTC')",
            "nps": "int64",
            "csat": "int64",
        },
    )


@pytest.fixture(scope="session")
def generated_retailer(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A 2,500-record, two-year synthetic retailer, ingested once: (warehouse path, truth)."""
    from omnicrm.datagen import generate
    from omnicrm.ingest import ingest_files
    from omnicrm.warehouse import connect

    root = tmp_path_factory.mktemp("churn_retailer")
    retailer = generate(root / "data", customers=2500, days=730, seed=11)
    path = root / "warehouse.duckdb"
    con = connect(f"duckdb:///{path}")
    for data_file in retailer.files:
        ingest_files(con, [data_file.path], table=data_file.table, mapping=data_file.mapping_path)
    con.disconnect()
    truth = pd.read_csv(retailer.truth_path, dtype={"customer_id": str})
    return path, truth


@pytest.fixture
def crafted_tables() -> ChurnTables:
    """Two customers with hand-checkable histories (see tests/models/churn/test_features.py)."""
    lines = lines_table(
        [
            # customer a: purchases on days 0, 10, 20, 40 (gaps 10, 10, 20), one return on day 41
            {"order_id": "a1", "customer_id": "a", "day": 0, "unit_price": "20.00"},
            {
                "order_id": "a2",
                "customer_id": "a",
                "day": 10,
                "channel": "app",
                "product_id": "p2",
                "discount_amount": "5.00",
                "promotion_id": "P1",
            },
            {"order_id": "a3", "customer_id": "a", "day": 20, "product_id": "p3"},
            {"order_id": "a4", "customer_id": "a", "day": 40, "quantity": 2},
            {"order_id": "a5", "customer_id": "a", "day": 41, "quantity": -1},
            # customer b: one purchase on day 5
            {"order_id": "b1", "customer_id": "b", "day": 5, "unit_price": "7.50"},
            # anonymous sale: never a customer
            {"order_id": "x1", "customer_id": None, "day": 30},
        ]
    )
    events = events_table(
        [
            ("a", "store_visit", 38),
            ("a", "store_visit", 38),
            ("a", "sign_in", 45),
            ("a", "view", 49),
            ("b", "view", 1),
        ]
    )
    feedback = feedback_table([("a", 11, 9, 5), ("a", 42, 3, None), ("b", 6, None, 2)])
    return ChurnTables(lines=lines, products=products_table(), events=events, feedback=feedback)


def synthetic_frame(days: list[str], n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Labelled origins whose churn depends on recency (logistic) and nothing else."""
    import numpy as np

    from omnicrm.models.churn import MODEL_FEATURES

    rng = np.random.default_rng(seed)
    frames = []
    for day in days:
        f = pd.DataFrame(rng.gamma(2.0, 20.0, (n, len(MODEL_FEATURES))), columns=MODEL_FEATURES)
        f["p_alive"] = rng.random(n)
        p = 1 / (1 + np.exp(-(f["recency_days"] - 40) / 10))
        frames.append(
            f.assign(
                as_of=pd.Timestamp(day),
                customer_id=[f"c{i}" for i in range(n)],
                churned=rng.random(n) < p,
                true_p=p,
                last_nps_date=pd.NaT,
                last_csat_date=pd.NaT,
            )
        )  # display columns
    return pd.concat(frames, ignore_index=True)


QUARTERS = ["2024-10-01", "2025-01-01", "2025-04-01", "2025-07-01"]


def busy_lines(
    con: ibis.BaseBackend, *, customers: int = 3_000, days: int = 400, seed: int = 3
) -> ibis.Table:
    """``order_lines`` big enough for DuckDB to aggregate in parallel (~300,000), in ``con``.

    Customers buy as BG/NBD assumes (a Poisson purchase rate each, and after every purchase
    a chance of leaving for good), one to three lines per order, over ``days`` days from
    ``DAY0``; money with cents (DECIMAL(18,2), as in the contract), about 5 % returned lines
    and 20 % promotions; in random row order, so that every customer's lines are spread over
    all of the table's row groups.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 0.25, customers)  # purchases per day while active
    leave = rng.beta(1.0, 40.0, customers)  # chance of leaving after each purchase
    spend = rng.gamma(3.0, 1.0 / 3.0, customers)
    order_customer, order_day = [], []
    for c in range(customers):
        times = np.sort(rng.random(rng.poisson(rate[c] * days)) * days).astype(int)
        kept = times[: rng.geometric(leave[c])]
        order_customer.append(np.full(len(kept), c))
        order_day.append(kept)
    customer, day = np.concatenate(order_customer), np.concatenate(order_day)
    order = np.repeat(np.arange(len(customer)), rng.integers(1, 4, len(customer)))
    lines = len(order)
    qty = rng.integers(1, 4, lines).astype(float)
    qty[rng.random(lines) < 0.05] *= -1
    frame = pd.DataFrame(
        {
            "order_id": pd.Series(order).map("o{}".format),
            "line_number": np.arange(lines),
            "order_ts": pd.Timestamp(DAY0) + pd.to_timedelta(day[order] * 86_400 + 3_600, unit="s"),
            "customer_id": pd.Series(customer[order]).map("c{:05d}".format),
            "store_id": "S1",
            "channel": np.array(["store", "online", "app"])[rng.integers(0, 3, len(day))][order],
            "product_id": pd.Series(rng.integers(0, 3, lines)).map({0: "p1", 1: "p2", 2: "p3"}),
            "quantity": qty,
            "unit_price_cents": (rng.integers(50, 5_000, lines) * spend[customer[order]])
            .round()
            .astype(np.int64)
            + 1,
            "discount_cents": np.where(rng.random(lines) < 0.2, rng.integers(1, 50, lines), 0),
            "promotion_id": np.where(rng.random(lines) < 0.2, "P1", None),
        }
    ).sample(frac=1.0, random_state=seed)
    con.create_table("_busy_raw", frame)
    con.raw_sql("""
        CREATE TABLE order_lines AS
        SELECT order_id, line_number, order_ts, customer_id, store_id, channel, product_id,
               CAST(quantity AS DECIMAL(18,3)) AS quantity,
               CAST(unit_price_cents / 100.0 AS DECIMAL(18,2)) AS unit_price,
               CAST(discount_cents / 100.0 AS DECIMAL(18,2)) AS discount_amount,
               CAST((quantity * unit_price_cents - sign(quantity) * discount_cents) / 100.0
                    AS DECIMAL(18,2)) AS amount,
               promotion_id, quantity < 0 AS is_return
        FROM _busy_raw""")
    con.drop_table("_busy_raw")
    return con.table("order_lines")
