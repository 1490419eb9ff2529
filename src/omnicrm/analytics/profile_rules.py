"""Customer 360 settings and rule-based tags, as data (``config/profile.toml``).

A tag is a metric of the customer's purchases or feedback, a range and a minimum number of
orders; :func:`evaluate_tags` returns the tags whose metric falls in range, each with a reason
("72% of orders on Saturday or Sunday").

Examples
--------
>>> rules = load_profile_rules()
>>> day_part(19, rules)
'evening'
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from math import inf
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnicrm.errors import InputError

PHYSICAL_CHANNELS = ("store", "unmanned")
"""Channels counted as offline for ``online_share``."""
_TAG_KEYS = {"name", "metric", "min", "max", "min_orders", "reason", "day_part", "departments"}
_TOP_KEYS = {"timezone", "recent_orders", "top_n", "day_parts", "tags"}


@dataclass(frozen=True)
class ProfileRules:
    """Profile settings and tag rules (see ``config/profile.toml``)."""

    timezone: str = "UTC"
    recent_orders: int = 10
    top_n: int = 5
    day_parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    tags: tuple[dict[str, Any], ...] = ()


def load_profile_rules(path: str | Path | None = None, **overrides: Any) -> ProfileRules:
    """Load the shipped ``profile.toml``, then ``path`` over it, then ``overrides``.

    Examples
    --------
    >>> rules = load_profile_rules(timezone="Asia/Shanghai")
    >>> rules.timezone, rules.day_parts["evening"], rules.tags[0]["name"]
    ('Asia/Shanghai', (17, 22), 'weekend shopper')
    """
    text = (
        resources.files("omnicrm.analytics")
        .joinpath("config", "profile.toml")
        .read_text(encoding="utf-8")
    )
    data, origin = tomllib.loads(text), "built-in profile.toml"
    if path is not None:
        origin = str(path)
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"profile rules file {origin!r} cannot be read: {exc}") from None
        data.update(user)
    data.update(overrides)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise InputError(
            f"{origin}: unknown setting(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    try:
        ZoneInfo(str(data["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"{origin}: timezone = {data['timezone']!r} is not a time zone; use an "
            "IANA name such as 'Asia/Shanghai' or 'UTC'"
        ) from None
    parts = {}
    for name, span in data.get("day_parts", {}).items():
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(h, int) and 0 <= h <= 24 for h in span)
        ):
            raise InputError(
                f"{origin}: day_parts.{name} = {span!r} must be [start, end] hours between 0 and 24"
            )
        parts[name] = (span[0], span[1])
    tags = tuple(_check_tag(t, parts, origin) for t in data.get("tags", []))
    return ProfileRules(
        timezone=str(data["timezone"]),
        recent_orders=int(data["recent_orders"]),
        top_n=int(data["top_n"]),
        day_parts=parts,
        tags=tags,
    )


def _check_tag(tag: dict[str, Any], parts: dict[str, Any], origin: str) -> dict[str, Any]:
    name = tag.get("name", "?")
    where = f"{origin}: tag {name!r}"
    unknown = sorted(set(tag) - _TAG_KEYS)
    if unknown:
        raise InputError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TAG_KEYS))}"
        )
    if tag.get("metric") not in METRICS:
        raise InputError(
            f"{where}: metric = {tag.get('metric')!r} is unknown; use one of {', '.join(METRICS)}"
        )
    if "min" not in tag and "max" not in tag:
        raise InputError(f"{where}: give a min or a max for the metric")
    if tag["metric"] == "day_part_share" and tag.get("day_part") not in parts:
        raise InputError(
            f"{where}: day_part = {tag.get('day_part')!r} is not one of {', '.join(parts)}"
        )
    if tag["metric"] == "department_share" and not tag.get("departments"):
        raise InputError(f"{where}: department_share needs a list of departments")
    return {"min_orders": 0, "reason": "", **tag}


def day_part(hour: int, rules: ProfileRules) -> str:
    """Name of the day part containing ``hour`` (local time), or ``other``.

    Examples
    --------
    >>> rules = load_profile_rules()
    >>> day_part(23, rules), day_part(3, rules), day_part(7, rules)
    ('night', 'night', 'morning')
    """
    for name, (start, end) in rules.day_parts.items():
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return name
    return "other"


@dataclass(frozen=True)
class TagContext:
    """What tag metrics are computed from: one customer's orders and profile sections."""

    orders: list[dict[str, Any]]  # one row per order: order_ts, channel, lines, returns, ...
    profile: dict[str, Any]
    rules: ProfileRules

    @property
    def bought(self) -> list[dict[str, Any]]:
        """Orders with at least one purchase line."""
        return [o for o in self.orders if o["purchases"]]


def _share(part: Any, whole: Any) -> float | None:
    return float(part) / float(whole) if whole else None


def _day_part_share(ctx: TagContext, tag: dict[str, Any]) -> float | None:
    tz = ZoneInfo(ctx.rules.timezone)
    hits = sum(
        day_part(o["order_ts"].astimezone(tz).hour, ctx.rules) == tag["day_part"]
        for o in ctx.bought
    )
    return _share(hits, len(ctx.bought))


def _department_share(ctx: TagContext, tag: dict[str, Any]) -> float | None:
    wanted = {d.lower() for d in tag["departments"]}
    spend = ctx.profile["department_spend"]
    return _share(sum(v for k, v in spend.items() if str(k).lower() in wanted), sum(spend.values()))


METRICS: dict[str, Callable[[TagContext, dict[str, Any]], float | None]] = {
    "weekend_share": lambda ctx, tag: ctx.profile["purchases"]["weekend_share"],
    "day_part_share": _day_part_share,
    "promo_share": lambda ctx, tag: _share(
        sum(o["promo_amount"] for o in ctx.bought),
        sum((o["purchase_amount"] for o in ctx.bought), Decimal(0)),
    ),
    "return_share": lambda ctx, tag: _share(
        sum(o["returns"] for o in ctx.orders), sum(o["lines"] for o in ctx.orders)
    ),
    "department_share": _department_share,
    "online_share": lambda ctx, tag: _share(
        sum(o["channel"] not in PHYSICAL_CHANNELS for o in ctx.bought), len(ctx.bought)
    ),
    "channels": lambda ctx, tag: len(ctx.profile["purchases"]["channels"]),
    "orders": lambda ctx, tag: len(ctx.bought),
    "nps_avg": lambda ctx, tag: ctx.profile["feedback"].get("nps_avg"),
}
"""Tag metrics by name: ``metric(context, tag) -> value`` (None when undefined)."""


def evaluate_tags(
    profile: dict[str, Any], orders: list[dict[str, Any]], rules: ProfileRules
) -> list[dict[str, Any]]:
    """The tags of ``rules`` that apply, each as ``{tag, reason, value}``, in rule order."""
    ctx = TagContext(orders=orders, profile=profile, rules=rules)
    out = []
    for tag in rules.tags:
        if len(ctx.bought) < tag["min_orders"]:
            continue
        value = METRICS[tag["metric"]](ctx, tag)
        if value is None or not tag.get("min", -inf) <= value <= tag.get("max", inf):
            continue
        out.append(
            {"tag": tag["name"], "reason": tag["reason"].format(value=value), "value": value}
        )
    return out
