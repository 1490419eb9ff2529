"""A promotion as data: identity, schedule, limits, stacking, condition and benefit.

Promotions are written as TOML or JSON (``[[promotions]]`` tables) or sent to the admin
API; both go through :func:`parse_promotion`, which validates every key and names the
promotion, the key, the value and the fix when something is wrong.

.. code-block:: toml

    [[promotions]]
    id = "SPRING-200-30"
    name = "Spend 200 save 30"
    priority = 10              # higher is tried first when stacking
    exclusive = false          # true: never combined with another promotion
    group = "basket"           # at most one promotion per group applies
    starts_at = 2026-03-01T00:00:00+08:00
    ends_at = 2026-04-01T00:00:00+08:00
    budget = "50000.00"        # money the promotion may cost in total
    max_uses = 10000           # orders it may apply to in total
    per_customer = 1           # orders per member
    requires_code = false      # true: only with one of its coupon codes
    condition = { categories = ["grocery"], min_spend = "200", channels = ["pos", "app"] }
    benefit = { type = "spend_save", every = "200", save = "30" }

Examples
--------
>>> from omnicrm.loyalty.promotions.definition import parse_promotion
>>> p = parse_promotion({"id": "P1", "benefit": {"type": "percent_off", "percent": "10"}})
>>> p.id, p.benefit.percent, p.exclusive
('P1', Decimal('10.00'), False)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from omnicrm.errors import InputError
from omnicrm.loyalty.promotions.benefits import Benefit, parse_benefit
from omnicrm.loyalty.promotions.conditions import Condition, LineRange, money, parse_conditions

PROMOTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
KEYS = frozenset(
    {
        "id",
        "name",
        "priority",
        "exclusive",
        "group",
        "starts_at",
        "ends_at",
        "budget",
        "max_uses",
        "per_customer",
        "requires_code",
        "active",
        "condition",
        "benefit",
    }
)


@dataclass(frozen=True)
class Promotion:
    """A validated promotion. ``spec`` is the canonical JSON form that is stored."""

    id: str
    name: str
    line_range: LineRange
    conditions: tuple[Condition, ...]
    benefit: Benefit
    priority: int = 0
    exclusive: bool = False
    group: str | None = None
    requires_code: bool = False
    active: bool = True
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    budget: Decimal | None = None
    max_uses: int | None = None
    per_customer: int | None = None
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)


def _instant(value: Any, where: str, key: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InputError(
                f"{where}: {key} = {value!r} is not a date-time; write e.g. "
                "2026-03-01T00:00:00+08:00"
            ) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InputError(
            f"{where}: {key} = {value!r} needs a time zone, e.g. 2026-03-01T00:00:00+08:00"
        )
    return value.astimezone(dt.UTC)


def _int(spec: Mapping, key: str, where: str, default: int | None, minimum: int) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{where}: {key} = {value!r}; expected a whole number >= {minimum}")
    return value


def _bool(spec: Mapping, key: str, where: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{where}: {key} = {value!r}; expected true or false")
    return value


def _canonical(spec: Mapping[str, Any], starts: dt.datetime | None, ends: dt.datetime | None):
    """JSON-safe copy of ``spec`` (dates as ISO strings in UTC)."""
    out = json.loads(json.dumps(spec, default=str))
    for key, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None:
            out[key] = value.isoformat()
    return out


def parse_promotion(spec: Mapping[str, Any], where: str | None = None) -> Promotion:
    """Validate one promotion table.

    Raises
    ------
    InputError
        A missing or invalid key; the message names the promotion, the key and the fix.
    """
    if not isinstance(spec, Mapping):
        raise InputError(f"{where or 'promotion'}: expected a table of keys such as id, benefit")
    pid = spec.get("id")
    if not isinstance(pid, str) or not PROMOTION_ID.match(pid):
        raise InputError(
            f"{where or 'promotion'}: id = {pid!r}; use 1-40 letters, digits, '_', '-', '.'"
        )
    where = f"{where + ' ' if where else ''}promotion {pid}"
    unknown = set(spec) - KEYS
    if unknown:
        raise InputError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"keys are {', '.join(sorted(KEYS))}"
        )
    if "benefit" not in spec:
        raise InputError(
            f'{where}: benefit is missing; add benefit = {{ type = "percent_off", … }}'
        )
    line_range, conditions = parse_conditions(spec.get("condition", {}), where)
    starts = _instant(spec.get("starts_at"), where, "starts_at")
    ends = _instant(spec.get("ends_at"), where, "ends_at")
    if starts and ends and ends <= starts:
        raise InputError(f"{where}: ends_at {ends} is not after starts_at {starts}")
    group = spec.get("group")
    if group is not None and (not isinstance(group, str) or not group):
        raise InputError(f"{where}: group = {group!r}; expected a non-empty name")
    name = spec.get("name", pid)
    if not isinstance(name, str) or not name or len(name) > 200:
        raise InputError(f"{where}: name = {name!r}; expected 1-200 characters")
    budget = spec.get("budget")
    return Promotion(
        id=pid,
        name=name,
        line_range=line_range,
        conditions=conditions,
        benefit=parse_benefit(spec["benefit"], where),
        priority=_int(spec, "priority", where, 0, -1_000_000) or 0,
        exclusive=_bool(spec, "exclusive", where, False),
        group=group,
        requires_code=_bool(spec, "requires_code", where, False),
        active=_bool(spec, "active", where, True),
        starts_at=starts,
        ends_at=ends,
        budget=None if budget is None else money(budget, where, "budget", positive=True),
        max_uses=_int(spec, "max_uses", where, None, 1),
        per_customer=_int(spec, "per_customer", where, None, 1),
        spec=_canonical(spec, starts, ends),
    )


def load_promotions(path: str | Path) -> list[Promotion]:
    """Read ``[[promotions]]`` from a TOML file or a JSON file (a list or ``{"promotions": []}``).

    Raises
    ------
    InputError
        Unreadable file, bad syntax, duplicate ids or an invalid promotion.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            doc = json.loads(raw)
        else:
            doc = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid {path.suffix[1:].upper() or 'TOML'} ({exc})") from None
    items = doc.get("promotions") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputError(f"{path}: expected [[promotions]] tables (or a JSON list)")
    promotions = [parse_promotion(item, f"{path.name} #{i + 1}") for i, item in enumerate(items)]
    seen: set[str] = set()
    for p in promotions:
        if p.id in seen:
            raise InputError(f"{path}: promotion id {p.id!r} is defined twice")
        seen.add(p.id)
    return promotions
