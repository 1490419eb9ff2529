"""Render a :class:`~omnicrm.datagen.simulate.Simulation` as the source tables of each file.

Only the data window is rendered. Each function returns a :class:`pyarrow.Table` of text in
the layout of its file (see :mod:`omnicrm.datagen.layouts`); the products table is a
``pandas.DataFrame`` because it goes to Excel with typed cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omnicrm.datagen import layouts as lay
from omnicrm.datagen.baskets import MINUTES_PER_DAY
from omnicrm.datagen.catalog_data import TAXONOMY
from omnicrm.datagen.params import CHANNEL_CODES, SYSTEMS
from omnicrm.datagen.simulate import Simulation
from omnicrm.datagen.stores import CITIES

SYSTEM_SIGNUP_CHANNEL = ("store", "online", "app", "mini_program")


def stores_table(sim: Simulation) -> pd.DataFrame:
    """``stores.jsonl``: contract names, ISO dates."""
    frame = sim.stores.copy()
    frame["opened_date"] = [d.isoformat() for d in frame["opened_date"]]
    frame["city"] = frame["city"].replace("", None)
    frame["region"] = frame["region"].replace("", None)
    return frame


def products_table(sim: Simulation) -> pd.DataFrame:
    """``products.xlsx``: Chinese headers, prices as numbers, launch dates as dates."""
    cat = sim.catalogue
    spec = [TAXONOMY[k] for k in cat.sub]
    launch = pd.Timestamp(sim.origin) + pd.to_timedelta(cat.launch_day, unit="D")
    frame = pd.DataFrame(
        {
            "product_id": cat.product_id.astype(object),
            "name": cat.name,
            "department": [s.department for s in spec],
            "category": [s.category for s in spec],
            "subcategory": [s.subcategory for s in spec],
            "brand": cat.brand,
            "unit_price": np.asarray(lay.money(cat.price_cents).to_pylist(), dtype=object),
            "unit_cost": np.asarray(lay.money(cat.cost_cents).to_pylist(), dtype=object),
            "launch_date": launch.date,
        }
    )
    return frame.rename(columns=lay.PRODUCT_HEADERS)


def _phone_styles(phone: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Mobile numbers as each system records them (plain, +86 with dashes, spaced …)."""
    out = np.empty(len(phone), dtype=object)
    for k, (p, s) in enumerate(zip(phone, style, strict=True)):
        if s == 0:
            out[k] = p
        elif s == 1:
            out[k] = f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"
        elif s == 2:
            out[k] = f"+86{p}"
        else:
            out[k] = f"{p[:3]} {p[3:7]} {p[7:]}"
    return out


def _email_styles(email: np.ndarray, upper: np.ndarray) -> np.ndarray:
    out = email.copy()
    for k in np.flatnonzero(upper & pd.notna(email)):
        local, domain = email[k].split("@")
        out[k] = local[:1].upper() + local[1:] + "@" + domain.upper()
    return out


def customer_frame(sim: Simulation, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-record customer attributes as each system holds them (contract names)."""
    pop = sim.population
    person, system = pop.record_person, pop.record_system
    n = len(person)
    u = rng.random((n, 6))
    has_name = u[:, 0] < np.array([0.97, 0.8, 0.6, 0.4])[system]
    has_phone = u[:, 1] < np.array([0.95, 0.7, 0.85, 0.5])[system]
    has_email = u[:, 2] < np.array([0.2, 0.9, 0.5, 0.1])[system]
    has_profile = u[:, 3] < np.array([0.9, 0.5, 0.6, 0.3])[system]
    phone = _phone_styles(pop.phone[person], system)
    email = _email_styles(pop.email[person], (system == 1) & (u[:, 4] < 0.5))
    city_names = list(CITIES)
    first_channel = np.asarray(SYSTEM_SIGNUP_CHANNEL, dtype=object)[system]
    return {
        "customer_id": sim.record_id,
        "name": np.where(has_name, pop.name[person], None),
        "phone": np.where(has_phone, phone, None),
        "email": np.where(has_email, email, None),
        "gender": np.where(has_profile, pop.gender[person], None),
        "birth_day": np.where(has_profile & (u[:, 5] < 0.8), pop.birth_day[person], -(10**9)),
        "city": np.where(
            has_profile | (system == 0),
            np.asarray(city_names, dtype=object)[pop.city[person]],
            None,
        ),
        "region": np.where(
            has_profile | (system == 0),
            np.asarray([CITIES[c][0] for c in city_names], dtype=object)[pop.city[person]],
            None,
        ),
        "signup_minute": sim.record_signup,
        "signup_channel": first_channel,
        "is_member": pop.record_member,
        "member_tier": sim.record_tier,
    }


def customers_table(sim: Simulation, rng: np.random.Generator) -> pa.Table:
    """``customers.csv`` (GBK): Chinese headers and labels, local time with a format."""
    c = customer_frame(sim, rng)
    no_birth = c["birth_day"] == -(10**9)
    seconds = np.where(no_birth, 0, c["birth_day"]) * 86_400
    birth = lay.mask_nulls(lay.timestamps(sim.origin, seconds, lay.CUSTOMER_DATE_FORMAT), no_birth)
    cols = {
        "customer_id": lay.text(c["customer_id"]),
        "name": lay.text(c["name"]),
        "phone": lay.text(c["phone"]),
        "email": lay.text(c["email"]),
        "gender": lay.text(np.array([lay.GENDER_LABELS.get(g) for g in c["gender"]], dtype=object)),
        "birth_date": birth,
        "city": lay.text(c["city"]),
        "region": lay.text(c["region"]),
        "signup_ts": lay.timestamps(sim.origin, c["signup_minute"] * 60, lay.CUSTOMER_TIME_FORMAT),
        "signup_channel": lay.text(
            np.array([lay.SIGNUP_LABELS[x] for x in c["signup_channel"]], dtype=object)
        ),
        "is_member": lay.text(
            np.array([lay.MEMBER_LABELS[bool(m)] for m in c["is_member"]], dtype=object)
        ),
        "member_tier": lay.text(
            np.array([lay.TIER_LABELS.get(t) for t in c["member_tier"]], dtype=object)
        ),
    }
    return pa.table({lay.CUSTOMER_HEADERS[k]: v for k, v in cols.items()})


def identities_table(sim: Simulation, rng: np.random.Generator) -> pa.Table:
    """``identities.csv``: identifier links per record, in each system's own format."""
    pop = sim.population
    person, system = pop.record_person, pop.record_system
    n = len(person)
    rows: dict[str, list[np.ndarray]] = {"r": [], "type": [], "value": []}

    def add(mask: np.ndarray, id_type: str, values: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        rows["r"].append(idx)
        rows["type"].append(np.full(len(idx), id_type, dtype=object))
        rows["value"].append(np.asarray(values, dtype=object)[idx])

    u = rng.random((n, 6))
    card = np.char.add("MC", np.char.zfill(rng.integers(0, 10**10, n).astype(str), 10))
    add((system == 0) & pop.record_member, "member_card", card)
    add((system == 0) & ~pop.record_member, "pos_customer", sim.record_id)
    add(
        u[:, 0] < np.array([0.95, 0.8, 0.9, 0.6])[system],
        "phone",
        _phone_styles(pop.phone[person], (system + 1) % 4),
    )
    has_email = pd.notna(pop.email[person])
    add(
        has_email & (u[:, 1] < np.array([0.1, 0.95, 0.5, 0.05])[system]),
        "email",
        _email_styles(pop.email[person], u[:, 2] < 0.3),
    )
    add(
        system == 1,
        "online_account",
        np.char.add(pop.pinyin[person].astype(str), rng.integers(10, 9999, n).astype(str)),
    )
    device = np.array([f"{x:032x}" for x in rng.integers(0, 2**62, n)], dtype=object)
    add(system == 2, "app_device", device)
    unionid = np.array(
        [f"oU{x:024x}" for x in rng.integers(0, 2**62, pop.n_persons)], dtype=object
    )[person]
    openid = np.array([f"oW{x:026x}" for x in rng.integers(0, 2**62, n)], dtype=object)
    add(system == 3, "wechat_openid", openid)
    add(np.isin(system, [2, 3]) & (u[:, 3] < 0.7), "wechat_unionid", unionid)
    r = np.concatenate(rows["r"])
    order = np.argsort(r, kind="stable")
    r = r[order]
    seen = sim.record_signup[r] + rng.integers(0, 3 * MINUTES_PER_DAY, len(r))
    seen = np.minimum(seen, sim.end_minute - 1)
    return pa.table(
        {
            "customer_id": lay.text(sim.record_id[r]),
            "id_type": lay.text(np.concatenate(rows["type"])[order]),
            "id_value": lay.text(np.concatenate(rows["value"])[order]),
            "source": lay.text(np.asarray(SYSTEMS, dtype=object)[system[r]]),
            "first_seen_ts": lay.timestamps(
                sim.origin,
                seen * 60,
                "%Y-%m-%dT%H:%M:%SZ",
                offset_minutes=-lay.LOCAL_OFFSET_MINUTES,
            ),
        }
    )


def window_orders(sim: Simulation) -> np.ndarray:
    """Indices of the orders placed inside the data window."""
    m = sim.sales.minute
    return np.flatnonzero((m >= sim.start_minute) & (m < sim.end_minute))


def _customer_ids(sim: Simulation, record: np.ndarray) -> pa.Array:
    return lay.take_text(pa.array(sim.record_id, pa.string()), record)


def _store_ids(sim: Simulation, store: np.ndarray) -> pa.Array:
    return lay.take_text(pa.array(sim.stores["store_id"], pa.string()), store)


def _product_ids(sim: Simulation, product: np.ndarray) -> pa.Array:
    return lay.take_text(pa.array(sim.catalogue.product_id, pa.string()), product)


def orders_table(sim: Simulation) -> pa.Table:
    """``orders.csv`` (UTF-8 with BOM): contract names, local time with a +08:00 offset.

    A cancelled order and its cancellation receipt (``C`` + its id, negative amounts) both
    have ``is_cancelled`` true, so revenue is the same whether cancelled orders are left out
    or every row is summed.
    """
    s = sim.sales
    o = window_orders(sim)
    gross, disc, net = (x[o] for x in s.totals())
    ts = lay.timestamps(sim.origin, s.minute[o] * 60, "%Y-%m-%dT%H:%M:%S")
    return pa.table(
        {
            "order_id": lay.take_text(sim.order_id, o),
            "customer_id": _customer_ids(sim, s.record[o]),
            "store_id": _store_ids(sim, s.store[o]),
            "channel": lay.take_labels(list(CHANNEL_CODES), s.channel[o]),
            "order_ts": pc.binary_join_element_wise(ts, pa.array(["+08:00"] * len(o)), ""),
            "gross_amount": lay.money(gross),
            "discount_amount": lay.money(disc),
            "net_amount": lay.money(net),
            "payment_method": lay.text(s.payment[o]),
            "coupon_code": lay.text(s.coupon[o]),
            "is_cancelled": lay.take_labels(["false", "true"], s.cancelled[o].astype(np.int64)),
        }
    )


def order_lines_table(sim: Simulation) -> pa.Table:
    """``order_lines.csv.gz``: POS export layout (see :data:`layouts.POS_HEADERS`).

    Return and cancellation receipts (ids starting with ``C``) carry positive quantities, as
    tills print them; the mapping flags them and ingestion makes them negative.
    """
    s, lines = sim.sales, sim.sales.lines
    o = window_orders(sim)
    inside = np.zeros(len(s.minute), dtype=bool)
    inside[o] = True
    sel = np.flatnonzero(inside[lines.order])
    order = lines.order[sel]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(order)) + 1])
    line_no = np.arange(len(sel)) - np.repeat(starts, np.diff(np.append(starts, len(sel)))) + 1
    pos_codes = [lay.POS_CHANNEL_CODES[c] for c in CHANNEL_CODES]
    promo_ids = [p.promotion_id for p in sim.profile.promotions]
    cols = {
        "order_id": lay.take_text(sim.order_id, order),
        "line_number": pa.array(line_no).cast(pa.string()),
        "order_ts": lay.timestamps(sim.origin, s.minute[order] * 60, lay.POS_TIME_FORMAT),
        "customer_id": _customer_ids(sim, s.record[order]),
        "store_id": _store_ids(sim, s.store[order]),
        "channel": lay.take_labels(pos_codes, s.channel[order]),
        "product_id": _product_ids(sim, lines.product[sel]),
        "quantity": lay.quantity(np.abs(lines.qty_milli[sel])),
        "unit_price": lay.money(lines.price[sel]),
        "discount_amount": lay.money(lines.discount[sel]),
        "promotion_id": lay.take_labels(promo_ids, lines.promo[sel]),
    }
    return pa.table({lay.POS_HEADERS[k]: v for k, v in cols.items()})


def events_table(sim: Simulation) -> pa.Table:
    """``events.jsonl``: contract names, UTC ISO-8601 timestamps."""
    e = sim.events
    order = np.lexsort((e.record, e.second))
    return pa.table(
        {
            "event_id": lay.prefixed_ids("EV", np.arange(1, len(order) + 1), 10),
            "customer_id": _customer_ids(sim, e.record[order]),
            "event_type": lay.text(e.kind[order]),
            "event_ts": lay.timestamps(
                sim.origin,
                e.second[order],
                "%Y-%m-%dT%H:%M:%SZ",
                offset_minutes=-lay.LOCAL_OFFSET_MINUTES,
            ),
            "channel": lay.take_labels(list(CHANNEL_CODES), e.channel[order]),
            "store_id": _store_ids(sim, e.store[order]),
            "product_id": _product_ids(sim, e.product[order]),
            "zone": lay.text(e.zone[order]),
            "dwell_seconds": pa.array(e.dwell[order], mask=e.dwell[order] < 0),
            "search_query": lay.text(e.query[order]),
            "rating": pa.array(e.rating[order], mask=e.rating[order] < 0),
        }
    )


def feedback_table(sim: Simulation) -> pa.Table:
    """``feedback.csv``: contract names, UTC ISO-8601 timestamps."""
    f = sim.feedback
    order = np.argsort(f.second, kind="stable")
    return pa.table(
        {
            "feedback_id": lay.prefixed_ids("FB", np.arange(1, len(order) + 1), 8),
            "customer_id": _customer_ids(sim, f.record[order]),
            "response_ts": lay.timestamps(
                sim.origin,
                f.second[order],
                "%Y-%m-%dT%H:%M:%SZ",
                offset_minutes=-lay.LOCAL_OFFSET_MINUTES,
            ),
            "channel": lay.take_labels(list(CHANNEL_CODES), f.channel[order]),
            "store_id": _store_ids(sim, f.store[order]),
            "order_id": lay.take_text(sim.order_id, f.order[order]),
            "nps": pa.array(f.nps[order], mask=f.nps[order] < 0).cast(pa.string()),
            "csat": pa.array(f.csat[order], mask=f.csat[order] < 0).cast(pa.string()),
            "comment": lay.text(f.comment[order]),
            "language": lay.text(f.language[order]),
        }
    )


__all__ = [
    "customers_table",
    "events_table",
    "feedback_table",
    "identities_table",
    "order_lines_table",
    "orders_table",
    "products_table",
    "stores_table",
]
