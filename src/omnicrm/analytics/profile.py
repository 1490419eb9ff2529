"""Customer 360: everything known about one (unified) customer, as one dictionary.

The profile gathers the customer's source records (merged by identity resolution, with the
link that merged each one), masked identifiers, master data, purchases, scores, feedback,
behaviour and rule-based tags. Every figure uses only data before ``as_of``.

Queries are pushed to the warehouse filtered to the customer's records, so a profile reads a few
hundred rows whatever the warehouse size; the per-order rows of that one customer are then
summarised in Python (local time of day needs a time-zone conversion that is not portable in
SQL). Identity comes from the ``customer_keys`` table when it exists (``build_customer_keys``),
otherwise the warehouse is resolved on the fly (slower on large warehouses).

Examples
--------
>>> from omnicrm.warehouse import connect, ensure_table
>>> from omnicrm.schema import TABLES
>>> import pandas as pd
>>> con = connect("duckdb://:memory:")
>>> _ = ensure_table(con, TABLES["customers"])
>>> con.insert("customers", pd.DataFrame({"customer_id": ["C1"], "phone": ["13812348000"]}))
>>> p = customer_profile(con, "C1")
>>> p["unified_id"], p["identifiers"][0]["value"], p["purchases"]["orders"]
('C1', '138****8000', 0)
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import ibis
from ibis.backends import BaseBackend

from omnicrm.analytics.identity import identifier_links, load_identity_rules, resolve_graph
from omnicrm.analytics.pii import mask_identifier, mask_name
from omnicrm.analytics.profile_rules import (
    PHYSICAL_CHANNELS,
    ProfileRules,
    day_part,
    evaluate_tags,
    load_profile_rules,
)
from omnicrm.errors import InputError
from omnicrm.warehouse.sales import sold_lines

NOT_COMPUTED = "not computed yet — run omnicrm analyze"
"""What the ``scores`` section says before ``customer_scores`` exists."""

__all__ = ["NOT_COMPUTED", "ProfileRules", "customer_profile", "load_profile_rules", "profile_json"]


# ---------------------------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------------------------


def customer_profile(
    con: BaseBackend,
    customer_id: str,
    *,
    as_of: date | datetime | str | None = None,
    rules: ProfileRules | None = None,
) -> dict[str, Any]:
    """The 360° profile of a customer, given any of its source ids or its unified id.

    Parameters
    ----------
    con : ibis backend
        The warehouse (:func:`omnicrm.warehouse.connect`).
    customer_id : str
        A source ``customer_id`` or a ``unified_id``.
    as_of : date, datetime or ISO string, optional
        Only data strictly before this instant (UTC) is used; default: now.
    rules : ProfileRules, optional
        Default :func:`load_profile_rules`.

    Returns
    -------
    dict
        Sections ``identity``, ``identifiers``, ``customer``, ``purchases``, ``scores``,
        ``top_categories``, ``top_brands``, ``recent_orders``, ``feedback``, ``behaviour``,
        ``tags``. Money is :class:`~decimal.Decimal`, times are UTC ``datetime``
        (:func:`profile_json` serialises it).

    Raises
    ------
    InputError
        ``customer 'X' not found`` (with similar ids), or an unreadable ``as_of``.
    """
    rules = rules or load_profile_rules()
    cutoff = _as_of(as_of)
    tables = set(con.list_tables())
    customer_id = str(customer_id).strip()
    unified, records, resolved_by = _component(con, tables, customer_id)
    ids = [r["customer_id"] for r in records]
    orders = _orders(con, tables, ids, cutoff)
    profile: dict[str, Any] = {
        "unified_id": unified,
        "as_of": cutoff,
        "identity": {"resolved_by": resolved_by, "records": records},
        "identifiers": _identifiers(con, tables, records),
        "customer": _master(con, tables, ids),
        "purchases": _purchases(orders, rules),
        "scores": _scores(con, tables, unified, ids),
        **_assortment(con, tables, ids, cutoff, rules),
        "recent_orders": _recent(con, tables, orders, rules),
        "feedback": _feedback(con, tables, ids, cutoff),
        "behaviour": _behaviour(con, tables, ids, cutoff),
    }
    profile["tags"] = evaluate_tags(profile, orders, rules)
    return profile


def _as_of(value: date | datetime | str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                f"as_of {value!r} is not a date: write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM"
            ) from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows(expr: Any) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _component(con, tables, customer_id) -> tuple[str, list[dict[str, Any]], str]:
    columns = ["customer_id", "unified_id", "hops", "linked_to", "link_type"]
    if "customer_keys" in tables:
        keys, how = con.table("customer_keys"), "customer_keys"
        graph = None
    elif tables & {"customers", "identities"}:
        customers = con.table("customers") if "customers" in tables else None
        identities = con.table("identities") if "identities" in tables else None
        graph = resolve_graph(customers, identities, load_identity_rules())
        keys, how = graph.keys, "resolved on the fly (run omnicrm analyze to store customer_keys)"
    else:
        keys = graph = None
    try:
        if keys is not None:
            hit = keys.filter((keys.customer_id == customer_id) | (keys.unified_id == customer_id))
            unified = _rows(hit.select("unified_id").distinct())
            if unified:
                uid = unified[0]["unified_id"]
                rows = _rows(keys.filter(keys.unified_id == uid).select(*columns))
                rows.sort(key=lambda r: (r["hops"], r["customer_id"]))
                return uid, rows, how
    finally:
        if graph is not None:
            graph.scratch.release()
    for name in ("order_lines", "events", "feedback"):  # a buyer with no master record
        if name in tables:
            t = con.table(name)
            if _rows(t.filter(t.customer_id == customer_id).limit(1).select("customer_id")):
                record = dict.fromkeys(columns)
                record.update(customer_id=customer_id, unified_id=customer_id, hops=0)
                return customer_id, [record], f"only in {name}"
    raise InputError(f"customer {customer_id!r} not found{_hint(con, tables, customer_id)}")


def _hint(con, tables, customer_id: str) -> str:
    sources = [n for n in ("customer_keys", "customers", "order_lines") if n in tables]
    if not sources:
        return (
            "; the warehouse has no customers yet: load data with 'omnicrm ingest' or "
            "'omnicrm demo'"
        )
    t = con.table(sources[0])
    for k in range(len(customer_id) - 1, 0, -1):  # longest shared prefix first
        prefix = customer_id[:k].lower()
        found = _rows(
            t.filter(t.customer_id.lower().startswith(prefix))
            .select("customer_id")
            .distinct()
            .order_by("customer_id")
            .limit(500)
        )
        if found:
            candidates = [r["customer_id"] for r in found]
            close = difflib.get_close_matches(customer_id, candidates, n=3, cutoff=0.5)
            if close:
                return f"; did you mean {', '.join(repr(c) for c in close)}?"
            return f"; ids in {sources[0]} look like {', '.join(map(repr, candidates[:3]))}"
    sample = [
        r["customer_id"]
        for r in _rows(t.select("customer_id").distinct().order_by("customer_id").limit(3))
    ]
    return f"; ids in {sources[0]} look like {', '.join(map(repr, sample))}"


def _identifiers(con, tables, records) -> list[dict[str, Any]]:
    ids = [r["customer_id"] for r in records]
    customers = con.table("customers") if "customers" in tables else None
    identities = con.table("identities") if "identities" in tables else None
    if customers is None and identities is None:
        return []
    rules = load_identity_rules()
    mine = identifier_links(
        customers.filter(customers.customer_id.isin(ids)) if customers is not None else None,
        identities.filter(identities.customer_id.isin(ids)) if identities is not None else None,
        rules,
    )
    rows = _rows(mine.order_by("id_type", "id_value", "customer_id"))
    held: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        held.setdefault((r["id_type"], r["id_value"]), []).append(r["customer_id"])
    shared = _holders(identifier_links(customers, identities, rules), held)
    parent = {r["customer_id"]: r for r in records}
    for r in records:  # the masked value of the identifier that linked each record
        link = parent[r["customer_id"]]
        r["link_value"] = None
        if link["linked_to"] is not None:
            both = [
                v
                for (t, v), who in held.items()
                if t == link["link_type"] and r["customer_id"] in who and link["linked_to"] in who
            ]
            r["link_value"] = mask_identifier(link["link_type"], min(both)) if both else None
    return [
        {
            "type": t,
            "value": mask_identifier(t, v),
            "records": who,
            "held_by_records": shared.get((t, v), len(who)),
            "used_for_linking": 2 <= shared.get((t, v), len(who)) <= rules.threshold(t),
        }
        for (t, v), who in held.items()
    ]


def _holders(links, held) -> dict[tuple[str, str], int]:
    if not held:
        return {}
    wanted = ibis.memtable(
        {"w_type": [k[0] for k in held], "w_value": [k[1] for k in held]},
        schema={"w_type": "string", "w_value": "string"},
    )
    hit = links.join(wanted, (links.id_type == wanted.w_type) & (links.id_value == wanted.w_value))
    counts = hit.group_by("id_type", "id_value").aggregate(n=hit.customer_id.nunique())
    return {(r["id_type"], r["id_value"]): int(r["n"]) for r in _rows(counts)}


def _master(con, tables, ids) -> dict[str, Any]:
    if "customers" not in tables:
        return {}
    t = con.table("customers")
    rows = {r["customer_id"]: r for r in _rows(t.filter(t.customer_id.isin(ids)))}
    merged: dict[str, Any] = {}
    for cid in ids:  # root record first, then by distance: first non-empty value wins
        for key, value in rows.get(cid, {}).items():
            if merged.get(key) is None and value not in (None, ""):
                merged[key] = value
    out = {
        k: merged.get(k)
        for k in (
            "gender",
            "city",
            "region",
            "signup_ts",
            "signup_channel",
            "is_member",
            "member_tier",
        )
    }
    out["name"] = mask_name(merged.get("name"))
    birth = merged.get("birth_date")
    out["birthday"] = f"{birth.month:02d}-{birth.day:02d}" if birth else None
    return out


def _orders(con, tables, ids, cutoff) -> list[dict[str, Any]]:
    """One row per order of these records before ``cutoff`` (this customer only)."""
    if "order_lines" not in tables:
        return []
    t = sold_lines(con)
    lines = t.filter(t.customer_id.isin(ids) & (t.order_ts < ibis.timestamp(cutoff)))
    purchase = ~lines.is_return.fill_null(False) & (lines.quantity > 0)
    promo_spend = ibis.ifelse(purchase & lines.promotion_id.notnull(), lines.amount, 0)
    per_order = lines.group_by("order_id").aggregate(
        order_ts=lines.order_ts.min(),
        store_id=lines.store_id.min(),
        channel=lines.channel.min(),
        lines=lines.count(),
        returns=(~purchase).sum(),
        purchases=purchase.sum(),
        amount=lines.amount.sum(),
        purchase_amount=ibis.ifelse(purchase, lines.amount, 0).sum(),
        promo_amount=promo_spend.sum(),
    )
    return sorted(_rows(per_order), key=lambda r: (r["order_ts"], r["order_id"]))


def _purchases(orders, rules: ProfileRules) -> dict[str, Any]:
    bought = [o for o in orders if o["purchases"]]
    tz = ZoneInfo(rules.timezone)
    local = [o["order_ts"].astimezone(tz) for o in bought]
    spend = sum((o["amount"] for o in orders), Decimal("0.00"))
    by_channel = Counter(o["channel"] for o in bought if o["channel"])
    by_store = Counter(o["store_id"] for o in bought if o["store_id"])
    parts = Counter(day_part(ts.hour, rules) for ts in local)
    return {
        "orders": len(bought),
        "return_orders": sum(1 for o in orders if o["returns"] and not o["purchases"]),
        "first_purchase": bought[0]["order_ts"] if bought else None,
        "last_purchase": bought[-1]["order_ts"] if bought else None,
        "spend": spend,
        "avg_order_value": (spend / len(bought)).quantize(Decimal("0.01")) if bought else None,
        "channels": dict(by_channel.most_common()),
        "preferred_channel": _mode(by_channel),
        "preferred_store": _mode(by_store),
        "preferred_time_of_day": _mode(parts),
        "time_of_day": dict(parts.most_common()),
        "weekend_share": (sum(ts.weekday() >= 5 for ts in local) / len(local)) if local else None,
    }


def _mode(counts: Counter) -> str | None:
    """Most frequent value; ties go to the smallest value (deterministic)."""
    return min(counts, key=lambda k: (-counts[k], k)) if counts else None


def _scores(con, tables, unified, ids) -> dict[str, Any]:
    if "customer_scores" not in tables:
        return {"status": NOT_COMPUTED}
    t = con.table("customer_scores")
    rows = _rows(t.filter(t.customer_id.isin([unified, *ids])))
    rows.sort(key=lambda r: (r["customer_id"] != unified, r["customer_id"]))
    return (
        {"status": "computed", **rows[0]}
        if rows
        else {"status": "no score: no purchase before the scoring date"}
    )


def _assortment(con, tables, ids, cutoff, rules) -> dict[str, Any]:
    out: dict[str, Any] = {"top_categories": [], "top_brands": [], "department_spend": {}}
    if not {"order_lines", "products"} <= tables:
        return out
    t, p = sold_lines(con), con.table("products")
    lines = t.filter(
        t.customer_id.isin(ids)
        & (t.order_ts < ibis.timestamp(cutoff))
        & ~t.is_return.fill_null(False)
        & (t.quantity > 0)
    )
    joined = lines.join(p, "product_id")
    for key, column in (("top_categories", "category"), ("top_brands", "brand")):
        known = joined.filter(joined[column].notnull())
        spend = known.group_by(column).aggregate(
            spend=known.amount.sum(), orders=known.order_id.nunique()
        )
        top = spend.order_by(ibis.desc("spend"), column).limit(rules.top_n)
        out[key] = [
            {"name": r[column], "spend": r["spend"], "orders": int(r["orders"])} for r in _rows(top)
        ]
    dept = joined.mutate(d=joined.department.fill_null(joined.category))
    out["department_spend"] = {
        r["d"]: r["spend"] for r in _rows(dept.group_by("d").aggregate(spend=dept.amount.sum()))
    }
    return out


def _recent(con, tables, orders, rules) -> list[dict[str, Any]]:
    recent = sorted(orders, key=lambda o: (o["order_ts"], o["order_id"]), reverse=True)
    recent = recent[: rules.recent_orders]
    names: dict[str, str] = {}
    if "stores" in tables and recent:
        s = con.table("stores")
        wanted = sorted({o["store_id"] for o in recent if o["store_id"]})
        names = {
            r["store_id"]: r["name"]
            for r in _rows(s.filter(s.store_id.isin(wanted)).select("store_id", "name"))
        }
    return [
        {
            "order_id": o["order_id"],
            "order_ts": o["order_ts"],
            "store_id": o["store_id"],
            "store": names.get(o["store_id"]),
            "channel": o["channel"],
            "lines": int(o["lines"]),
            "amount": o["amount"],
            "is_return": bool(o["returns"]) and not o["purchases"],
        }
        for o in recent
    ]


def _feedback(con, tables, ids, cutoff) -> dict[str, Any]:
    if "feedback" not in tables:
        return {"responses": 0}
    f = con.table("feedback")
    rows = _rows(
        f.filter(f.customer_id.isin(ids) & (f.response_ts < ibis.timestamp(cutoff))).order_by(
            ibis.desc("response_ts"), "feedback_id"
        )
    )
    nps = [r["nps"] for r in rows if r["nps"] is not None]
    csat = [r["csat"] for r in rows if r["csat"] is not None]
    return {
        "responses": len(rows),
        "nps_avg": sum(nps) / len(nps) if nps else None,
        "nps_latest": nps[0] if nps else None,
        "nps_group": None
        if not nps
        else ("promoter" if nps[0] >= 9 else "passive" if nps[0] >= 7 else "detractor"),
        "csat_avg": sum(csat) / len(csat) if csat else None,
        "comments": [
            {
                "response_ts": r["response_ts"],
                "nps": r["nps"],
                "csat": r["csat"],
                "channel": r["channel"],
                "language": r["language"],
                "comment": r["comment"],
            }
            for r in rows
            if r["comment"]
        ][:5],
    }


def _behaviour(con, tables, ids, cutoff) -> dict[str, Any]:
    if "events" not in tables:
        return {"events": 0}
    e = con.table("events")
    mine = e.filter(e.customer_id.isin(ids) & (e.event_ts < ibis.timestamp(cutoff)))
    by_type = {
        r["event_type"]: int(r["n"])
        for r in _rows(mine.group_by("event_type").aggregate(n=mine.count()))
    }
    visits = mine.filter(mine.event_type == "store_visit")
    zoned = visits.filter(visits.zone.notnull())
    zones = zoned.group_by("zone").aggregate(
        visits=zoned.count(), dwell_seconds=zoned.dwell_seconds.sum()
    )
    online = mine.filter(~mine.channel.isin(PHYSICAL_CHANNELS) & (mine.event_type != "store_visit"))
    queried = mine.filter(mine.search_query.notnull())
    searches = (
        queried.group_by("search_query")
        .aggregate(n=queried.count())
        .order_by(ibis.desc("n"), "search_query")
        .limit(5)
    )
    last = _rows(mine.aggregate(last=mine.event_ts.max()))[0]["last"]
    return {
        "events": sum(by_type.values()),
        "by_type": by_type,
        "last_seen": last,
        "store_visits": by_type.get("store_visit", 0),
        "dwell_by_zone": {
            r["zone"]: {"visits": int(r["visits"]), "dwell_seconds": int(r["dwell_seconds"] or 0)}
            for r in _rows(zones.order_by(ibis.desc("dwell_seconds"), "zone"))
        },
        "online_events": int(online.count().to_pyarrow().as_py()),
        "top_searches": [r["search_query"] for r in _rows(searches)],
    }


def profile_json(profile: dict[str, Any]) -> str:
    """Serialise a profile: money as exact decimal strings, times as ISO 8601.

    Examples
    --------
    >>> profile_json({"spend": Decimal("12.30"), "at": datetime(2024, 5, 1, tzinfo=UTC)})
    '{"spend": "12.30", "at": "2024-05-01T00:00:00+00:00"}'
    """

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        raise TypeError(f"cannot serialise {type(value).__name__}")

    return json.dumps(profile, default=default, ensure_ascii=False)
