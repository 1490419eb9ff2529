"""``generate``: simulate a retailer and write its source files, truth and manifest.

Examples
--------
>>> import tempfile
>>> from datetime import date
>>> out = generate(tempfile.mkdtemp(), customers=200, days=60, seed=7)
>>> [f.table for f in out.files]
['stores', 'products', 'customers', 'identities', 'orders', 'order_lines', 'events', 'feedback']
>>> out.files[2].mapping_path.name
'customers.mapping.toml'
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from omnicrm.datagen import layouts as lay
from omnicrm.datagen import render
from omnicrm.datagen.faults import FaultSpec, inject, inject_frame
from omnicrm.datagen.mappings import MAPPINGS
from omnicrm.datagen.params import DEFAULT_BEHAVIOUR, Behaviour
from omnicrm.datagen.simulate import STAGES, simulate
from omnicrm.datagen.truth import truth_table
from omnicrm.datagen.writers import write_csv, write_jsonl, write_xlsx
from omnicrm.errors import InputError

MIN_DAYS = 28
MAX_DIRTY = 0.5
WRITE_STAGES: tuple[str, ...] = ("writing files", "truth and manifest")

FAULT_SPECS: dict[str, FaultSpec] = {
    "products": FaultSpec(
        id=lay.PRODUCT_HEADERS["product_id"], price=lay.PRODUCT_HEADERS["unit_price"]
    ),
    "customers": FaultSpec(
        id=lay.CUSTOMER_HEADERS["customer_id"],
        date=lay.CUSTOMER_HEADERS["signup_ts"],
        bad_date="2024-02-30 25:61:00",
        channel=lay.CUSTOMER_HEADERS["signup_channel"],
        bad_channel="电视购物",
        text=lay.CUSTOMER_HEADERS["name"],
    ),
    "identities": FaultSpec(
        id="customer_id", date="first_seen_ts", bad_date="2025-02-30T25:61:00Z", text="id_value"
    ),
    "orders": FaultSpec(
        id="order_id",
        date="order_ts",
        bad_date="2025-02-30T14:05:00+08:00",
        channel="channel",
        text="payment_method",
    ),
    "order_lines": FaultSpec(
        id=lay.POS_HEADERS["order_id"],
        date=lay.POS_HEADERS["order_ts"],
        bad_date="2025/02/30 14:05",
        price=lay.POS_HEADERS["unit_price"],
        quantity=lay.POS_HEADERS["quantity"],
        channel=lay.POS_HEADERS["channel"],
        bad_channel="XX",
        text=lay.POS_HEADERS["promotion_id"],
    ),
    "events": FaultSpec(
        id="event_id",
        date="event_ts",
        bad_date="2025-02-30T25:61:00Z",
        channel="channel",
        text="search_query",
    ),
    "feedback": FaultSpec(
        id="feedback_id",
        date="response_ts",
        bad_date="2025-02-30T25:61:00Z",
        channel="channel",
        text="comment",
    ),
}
"""Where each file receives each kind of ``--dirty`` fault (``stores`` stays clean)."""


@dataclass(frozen=True)
class DataFile:
    """One generated source file, in load order."""

    path: Path
    table: str
    mapping_path: Path | None
    rows: int
    faults: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratedRetailer:
    """What :func:`generate` wrote."""

    out_dir: Path
    files: list[DataFile]
    truth_path: Path
    manifest_path: Path

    def file(self, table: str) -> DataFile:
        """The data file of a contract table."""
        for f in self.files:
            if f.table == table:
                return f
        raise KeyError(table)


def check_arguments(
    out_dir: str | os.PathLike, customers: int, days: int, seed: int, dirty: float, end_date: date
) -> Path:
    """Validate the arguments of :func:`generate`; return the output folder, created.

    Raises
    ------
    InputError
        Naming the argument, the value and the accepted range.
    """
    for name, value in (("customers", customers), ("days", days), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"--{name} must be a whole number, got {value!r}")
    if customers <= 0:
        raise InputError(f"--customers must be at least 1, got {customers}")
    if days < MIN_DAYS:
        raise InputError(
            f"--days must be at least {MIN_DAYS} (four weeks, so that weekly "
            f"patterns exist), got {days}"
        )
    if seed < 0:
        raise InputError(f"--seed must be >= 0, got {seed}")
    if not isinstance(dirty, (int, float)) or not 0 <= dirty <= MAX_DIRTY:
        raise InputError(
            f"--dirty must be a fraction between 0 and {MAX_DIRTY} "
            f"(e.g. 0.02 for 2% of rows), got {dirty!r}"
        )
    if not isinstance(end_date, date):
        raise InputError(f"--end-date must be a date (YYYY-MM-DD), got {end_date!r}")
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".omnicrm-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"--out {str(path)!r} is not a writable folder ({exc.strerror}); "
            "choose a folder you can write to"
        ) from None
    return path


def generate(
    out_dir: str | os.PathLike,
    *,
    customers: int = 20_000,
    days: int = 730,
    seed: int = 42,
    dirty: float = 0.0,
    end_date: date = date(2026, 6, 30),
    progress: Callable[[str, int, int], None] | None = None,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> GeneratedRetailer:
    """Generate a synthetic multi-channel retailer into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder for the files (created when missing; existing files are overwritten).
    customers : int
        Customer records (rows of ``customers.csv``); persons are fewer, as some hold
        several records.
    days : int
        Days of history, ending on ``end_date``; at least 28.
    seed : int
        The same seed and arguments give byte-identical files.
    dirty : float
        Fraction of rows of each ingested file (except ``stores``) given a fault; see
        :mod:`omnicrm.datagen.faults`.
    end_date : date
        Last day of the data.
    progress : callable, optional
        ``progress(stage, index, n_stages)`` at the start of each stage.
    behaviour : Behaviour
        Model parameters (see :mod:`omnicrm.datagen.params`).

    Returns
    -------
    GeneratedRetailer
    """
    out = check_arguments(out_dir, customers, days, seed, dirty, end_date)
    n_stages = len(STAGES) + len(WRITE_STAGES)
    report = progress or (lambda *_: None)
    sim = simulate(
        customers=int(customers),
        days=int(days),
        seed=int(seed),
        end_date=end_date,
        behaviour=behaviour,
        progress=lambda s, i, _n: report(s, i, n_stages),
    )
    report(WRITE_STAGES[0], len(STAGES), n_stages)
    render_rng = np.random.default_rng([int(seed), 1])
    fault_rng = np.random.default_rng([int(seed), 2])

    def faulty(table_name: str, table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
        if dirty <= 0:
            return table, {}
        return inject(table, FAULT_SPECS[table_name], dirty, fault_rng)

    files: list[DataFile] = []

    def mapping_for(table_name: str) -> Path | None:
        if table_name not in MAPPINGS:
            return None
        mp = out / f"{table_name}.mapping.toml"
        mp.write_text(MAPPINGS[table_name], encoding="utf-8")
        return mp

    path = out / "stores.jsonl"
    files.append(DataFile(path, "stores", None, write_jsonl(path, render.stores_table(sim))))

    products = render.products_table(sim)
    faults: dict[str, int] = {}
    if dirty > 0:
        products, faults = inject_frame(products, FAULT_SPECS["products"], dirty, fault_rng)
    path = out / "products.xlsx"
    rows = write_xlsx(
        path,
        products,
        sheet=lay.PRODUCT_SHEET,
        number_columns=(lay.PRODUCT_HEADERS["unit_price"], lay.PRODUCT_HEADERS["unit_cost"]),
    )
    files.append(DataFile(path, "products", mapping_for("products"), rows, faults))

    csv_files = (
        (
            "customers",
            "customers.csv",
            lambda: render.customers_table(sim, render_rng),
            {"encoding": "gbk"},
        ),
        ("identities", "identities.csv", lambda: render.identities_table(sim, render_rng), {}),
        ("orders", "orders.csv", lambda: render.orders_table(sim), {"bom": True}),
        (
            "order_lines",
            "order_lines.csv.gz",
            lambda: render.order_lines_table(sim),
            {"delimiter": ";"},
        ),
    )
    for table_name, name, build, options in csv_files:
        table, faults = faulty(table_name, build())
        path = out / name
        write_csv(path, table, **options)
        files.append(DataFile(path, table_name, mapping_for(table_name), table.num_rows, faults))

    table, faults = faulty("events", render.events_table(sim))
    path = out / "events.jsonl"
    files.append(DataFile(path, "events", None, write_jsonl(path, table), faults))
    table, faults = faulty("feedback", render.feedback_table(sim))
    path = out / "feedback.csv"
    write_csv(path, table)
    files.append(DataFile(path, "feedback", None, table.num_rows, faults))

    report(WRITE_STAGES[1], len(STAGES) + 1, n_stages)
    truth_path = out / "truth.csv"
    write_csv(truth_path, truth_table(sim))
    manifest_path = out / "manifest.json"
    manifest = {
        "generator": "omnicrm datagen",
        "arguments": {
            "customers": int(customers),
            "days": int(days),
            "seed": int(seed),
            "dirty": float(dirty),
            "end_date": end_date.isoformat(),
        },
        "files": [
            {
                "file": f.path.name,
                "table": f.table,
                "mapping": f.mapping_path.name if f.mapping_path else None,
                "rows": f.rows,
                "faults": f.faults,
            }
            for f in files
        ],
        "truth": truth_path.name,
        "faults_total": sum(sum(f.faults.values()) for f in files),
    }
    manifest_path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return GeneratedRetailer(out, files, truth_path, manifest_path)
