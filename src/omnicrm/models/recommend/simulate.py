"""Synthetic interactions with planted structure, generated vectorised (tests and benchmarks).

Each customer has ``staples`` personal items re-bought on a personal cycle (7 to 35 days, with
jitter) and makes occasional exploratory purchases drawn from a Zipf-like popularity; each
catalogue item has a complement (item ``i`` and ``i + 1`` in the same pair of a category)
that is added to an exploratory basket with probability ``complement_p``. So repeat
recommenders, co-purchase recommenders and popularity all have real signal to find.

Examples
--------
>>> f = simulate_interactions(customers=50, items=40, days=60, seed=1)
>>> list(f.columns), f["customer_id"].nunique() <= 50
(['customer_id', 'item_id', 'ts', 'quantity'], True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.errors import InputError

START = pd.Timestamp("2026-01-01", tz="UTC")


def simulate_interactions(
    customers: int = 1000,
    items: int = 500,
    days: int = 180,
    *,
    staples: int = 4,
    explore_per_30d: float = 2.0,
    complement_p: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Interactions ``customer_id, item_id, ts, quantity`` (see the module doc)."""
    for name, value in (
        ("customers", customers),
        ("items", items),
        ("days", days),
        ("staples", staples),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name}={value!r} must be a whole number >= 1")
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, items + 1) ** 0.8
    pop /= pop.sum()
    # staples: personal items on personal cycles
    cust = np.repeat(np.arange(customers), staples)
    item = rng.choice(items, size=len(cust), p=pop)
    cycle = rng.integers(7, 36, size=len(cust))
    phase = rng.integers(0, 36, size=len(cust))
    n_buys = np.maximum((days - phase) // cycle, 0)
    row = np.repeat(np.arange(len(cust)), n_buys)
    k = np.arange(len(row)) - np.repeat(np.cumsum(n_buys) - n_buys, n_buys)
    day = phase[row] + k * cycle[row] + rng.integers(-2, 3, size=len(row))
    s_cust, s_item = cust[row], item[row]
    # exploration: Poisson number of purchases per customer, popular items and complements
    n_exp = rng.poisson(explore_per_30d * days / 30.0, size=customers)
    e_cust = np.repeat(np.arange(customers), n_exp)
    e_item = rng.choice(items, size=len(e_cust), p=pop)
    e_day = rng.integers(0, days, size=len(e_cust))
    add = rng.random(len(e_cust)) < complement_p
    partner = np.minimum(e_item ^ 1, items - 1)
    all_cust = np.concatenate([s_cust, e_cust, e_cust[add]])
    all_item = np.concatenate([s_item, e_item, partner[add]])
    all_day = np.clip(np.concatenate([day, e_day, e_day[add]]), 0, days - 1)
    minute = rng.integers(8 * 60, 21 * 60, size=len(all_cust))
    stamp = all_day.astype(np.int64) * 1440 + minute
    order = np.lexsort((all_item, all_cust, stamp))
    width = len(str(max(customers, items)))
    cust_names = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), width))
    item_names = np.char.add("I", np.char.zfill(np.arange(items).astype(str), width))
    return pd.DataFrame(
        {
            "customer_id": cust_names.astype(object)[all_cust[order]],
            "item_id": item_names.astype(object)[all_item[order]],
            "ts": START + pd.to_timedelta(stamp[order], unit="min"),
            "quantity": rng.integers(1, 4, size=len(order)).astype(float),
        }
    )
