"""Loyalty rules as data: tiers, earning, bonus events, expiry and rewards from TOML files.

Three files ship in ``omnicrm/loyalty/defaults`` (``tiers.toml``, ``earning.toml``,
``rewards.toml``); a directory given to :func:`load_rules` (or named by
``$OMNICRM_LOYALTY_RULES``) replaces any of them file by file. Every value is validated on
load; a bad value is an :class:`~omnicrm.errors.InputError` naming the file, the key, the value
and the fix.

Examples
--------
>>> from omnicrm.loyalty.rules import load_rules
>>> rules = load_rules()
>>> [t.code for t in rules.tiers.tiers]
['silver', 'gold', 'diamond']
>>> str(rules.tiers.get("gold").earn_multiplier)
'1.5'
>>> rules.rewards["CASH10"].points
1000
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnicrm.errors import InputError

DEFAULTS_DIR = Path(__file__).parent / "defaults"
RULES_ENV = "OMNICRM_LOYALTY_RULES"
RULE_FILES = ("tiers.toml", "earning.toml", "rewards.toml")

METRICS = ("qualifying_points", "spend")
PERIODS = ("rolling_12_months", "calendar_year")
REWARD_KINDS = ("cash_off", "coupon", "goods")
BONUS_EVENTS = ("sign_in", "review", "referral", "birthday", "first_purchase")


@dataclass(frozen=True)
class Tier:
    """One tier: its qualification threshold and its benefits."""

    code: str
    name: str
    rank: int
    threshold: Decimal
    earn_multiplier: Decimal
    member_prices: bool


@dataclass(frozen=True)
class TierRules:
    """Tiers (lowest first) and how members qualify for them."""

    metric: str
    period: str
    grace_days: int
    tiers: tuple[Tier, ...]

    def get(self, code: str) -> Tier:
        """The tier called ``code``; :class:`InputError` if there is none."""
        for tier in self.tiers:
            if tier.code == code:
                return tier
        known = ", ".join(t.code for t in self.tiers)
        raise InputError(f"tier {code!r} is not defined in tiers.toml; known tiers: {known}")

    @property
    def base(self) -> Tier:
        """The entry tier (lowest threshold)."""
        return self.tiers[0]

    def qualified_for(self, value: Decimal) -> Tier:
        """The highest tier whose threshold ``value`` reaches."""
        best = self.tiers[0]
        for tier in self.tiers:
            if value >= tier.threshold:
                best = tier
        return best


@dataclass(frozen=True)
class Multiplier:
    """Earn multiplier for lines of a category and/or brand (all given keys must match)."""

    multiplier: Decimal
    category: str | None = None
    brand: str | None = None

    def matches(self, category: str | None, brand: str | None) -> bool:
        return (self.category is None or self.category == category) and (
            self.brand is None or self.brand == brand
        )


@dataclass(frozen=True)
class BonusRule:
    """Points for a bonus event, with optional limits."""

    event: str
    points: int
    max_per_day: int | None = None
    max_per_year: int | None = None
    max_total: int | None = None
    birthday_month_only: bool = False


@dataclass(frozen=True)
class ExpiryRule:
    """When a lot earned at a given time expires."""

    months: int
    round_to: str

    def expires_at(self, earned_at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        """Expiry instant (UTC) of points earned at ``earned_at``.

        ``day``: the start of the local day after the same date ``months`` later (clamped to
        the month's last day). ``month_end``: the start of the month after that one.

        Examples
        --------
        >>> import datetime as dt
        >>> from zoneinfo import ZoneInfo
        >>> rule = ExpiryRule(months=24, round_to="month_end")
        >>> rule.expires_at(dt.datetime(2026, 3, 15, 2, 0, tzinfo=dt.UTC), ZoneInfo("UTC"))
        datetime.datetime(2028, 4, 1, 0, 0, tzinfo=datetime.timezone.utc)
        """
        local = earned_at.astimezone(tz).date()
        month_index = local.year * 12 + (local.month - 1) + self.months
        year, month = divmod(month_index, 12)
        month += 1
        if self.round_to == "month_end":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            end = dt.date(year, month, 1)
        else:
            day = min(local.day, calendar.monthrange(year, month)[1])
            end = dt.date(year, month, day) + dt.timedelta(days=1)
        return dt.datetime.combine(end, dt.time(), tzinfo=tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class EarnRules:
    """Points per currency unit, multipliers, caps, expiry and bonus events."""

    currency: str
    timezone: ZoneInfo
    points_per_unit: Decimal
    cap_per_order: int | None
    cap_per_day: int | None
    multipliers: tuple[Multiplier, ...]
    expiry: ExpiryRule
    bonuses: dict[str, BonusRule] = field(default_factory=dict)

    def line_multiplier(self, category: str | None, brand: str | None) -> Decimal:
        """Highest multiplier of the rules matching a line; 1 when none matches."""
        found = [m.multiplier for m in self.multipliers if m.matches(category, brand)]
        return max(found) if found else Decimal(1)


@dataclass(frozen=True)
class Reward:
    """One entry of the rewards catalogue."""

    code: str
    kind: str
    name: str
    points: int
    value: Decimal | None = None
    product_id: str | None = None
    coupon: str | None = None
    valid_days: int | None = None
    min_tier: str | None = None


@dataclass(frozen=True)
class Rules:
    """Everything the loyalty services need to decide, loaded from TOML."""

    tiers: TierRules
    earning: EarnRules
    rewards: dict[str, Reward]
    sources: tuple[str, ...] = ()


class _Section:
    """Typed access to one TOML table, with errors naming the file and key."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, key: str, value: object, fix: str) -> InputError:
        return InputError(f"{self.where}: {key} = {value!r} is invalid; {fix}")

    def section(self, key: str, *, required: bool = True) -> _Section:
        value = self.data.get(key)
        if value is None and not required:
            return _Section({}, f"{self.where} [{key}]")
        if not isinstance(value, dict):
            raise self.fail(key, value, "expected a [table]")
        return _Section(value, f"{self.where} [{key}]")

    def string(self, key: str, default: str | None = None, choices: tuple[str, ...] = ()) -> Any:
        value = self.data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(key, value, "expected a non-empty string")
        if choices and value not in choices:
            raise self.fail(key, value, f"choose one of {', '.join(choices)}")
        return value

    def required_string(self, key: str, choices: tuple[str, ...] = ()) -> str:
        if key not in self.data:
            raise InputError(f'{self.where}: {key} is missing; add {key} = "..."')
        return self.string(key, choices=choices)

    def decimal(
        self, key: str, default: str | None = None, minimum: Decimal = Decimal(0)
    ) -> Decimal:
        raw = self.data.get(key, default)
        if raw is None:
            raise InputError(f'{self.where}: {key} is missing; add {key} = "1" (a decimal string)')
        if isinstance(raw, float):
            raise self.fail(key, raw, f'write decimals as strings, e.g. {key} = "{raw}"')
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise self.fail(key, raw, 'expected a decimal number such as "1.5"') from None
        if not value.is_finite() or value < minimum:
            raise self.fail(key, raw, f"expected a number >= {minimum}")
        return value

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> Any:
        raw = self.data.get(key, default)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
            raise self.fail(key, raw, f"expected a whole number >= {minimum}")
        return raw

    def boolean(self, key: str, default: bool = False) -> bool:
        raw = self.data.get(key, default)
        if not isinstance(raw, bool):
            raise self.fail(key, raw, "expected true or false")
        return raw

    def tables(self, key: str) -> list[_Section]:
        raw = self.data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise self.fail(key, raw, f"expected [[{key}]] tables")
        return [_Section(x, f"{self.where} [[{key}]] #{i + 1}") for i, x in enumerate(raw)]


def _parse_tiers(doc: _Section) -> TierRules:
    q = doc.section("qualification")
    metric = q.required_string("metric", METRICS)
    period = q.required_string("period", PERIODS)
    grace = q.integer("grace_days", 0)
    tiers: list[Tier] = []
    for rank, t in enumerate(doc.tables("tiers")):
        code = t.required_string("code")
        tiers.append(
            Tier(
                code=code,
                name=t.string("name", default=code),
                rank=rank,
                threshold=t.decimal("threshold"),
                earn_multiplier=t.decimal("earn_multiplier", "1"),
                member_prices=t.boolean("member_prices"),
            )
        )
    if not tiers:
        raise InputError(f"{doc.where}: no [[tiers]] defined; define at least one tier")
    if tiers[0].threshold != 0:
        raise InputError(
            f"{doc.where}: the first tier {tiers[0].code!r} has threshold {tiers[0].threshold}; "
            'the entry tier must have threshold = "0" so every member has a tier'
        )
    for lower, higher in pairwise(tiers):
        if higher.threshold <= lower.threshold:
            raise InputError(
                f"{doc.where}: tier {higher.code!r} threshold {higher.threshold} is not above "
                f"{lower.code!r} threshold {lower.threshold}; list tiers lowest first"
            )
    if len({t.code for t in tiers}) != len(tiers):
        raise InputError(f"{doc.where}: tier codes must be unique")
    return TierRules(metric=metric, period=period, grace_days=grace, tiers=tuple(tiers))


def _parse_earning(doc: _Section) -> EarnRules:
    program = doc.section("program")
    currency = program.required_string("currency")
    tz_name = program.string("timezone", default="UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise program.fail(
            "timezone", tz_name, 'use an IANA name such as "Asia/Shanghai"'
        ) from None
    earn = doc.section("earn")
    caps = earn.section("caps", required=False)
    multipliers = []
    for m in earn.tables("multipliers"):
        category, brand = m.string("category"), m.string("brand")
        if category is None and brand is None:
            raise InputError(f'{m.where}: give category = "..." and/or brand = "..."')
        multipliers.append(Multiplier(m.decimal("multiplier"), category=category, brand=brand))
    expiry = doc.section("expiry")
    bonuses = {}
    bonus = doc.section("bonus", required=False)
    for event in bonus.data:
        if event not in BONUS_EVENTS:
            raise bonus.fail(event, "...", f"bonus events are {', '.join(BONUS_EVENTS)}")
        b = bonus.section(event)
        bonuses[event] = BonusRule(
            event=event,
            points=b.integer("points", minimum=1) or 0,
            max_per_day=b.integer("max_per_day", minimum=1),
            max_per_year=b.integer("max_per_year", minimum=1),
            max_total=b.integer("max_total", minimum=1),
            birthday_month_only=b.boolean("birthday_month_only"),
        )
        if bonuses[event].points <= 0:
            raise InputError(f"{b.where}: points is missing; add points = 10")
    months = expiry.integer("months", minimum=1)
    if months is None:
        raise InputError(f"{expiry.where}: months is missing; add months = 24 (lot lifetime)")
    return EarnRules(
        currency=currency,
        timezone=tz,
        points_per_unit=earn.decimal("points_per_unit"),
        cap_per_order=caps.integer("per_order", minimum=1),
        cap_per_day=caps.integer("per_day", minimum=1),
        multipliers=tuple(multipliers),
        expiry=ExpiryRule(
            months=months,
            round_to=expiry.string("round_to", default="day", choices=("day", "month_end")),
        ),
        bonuses=bonuses,
    )


def _parse_rewards(doc: _Section, tiers: TierRules) -> dict[str, Reward]:
    rewards: dict[str, Reward] = {}
    for r in doc.tables("rewards"):
        code = r.required_string("code")
        kind = r.required_string("kind", REWARD_KINDS)
        reward = Reward(
            code=code,
            kind=kind,
            name=r.string("name", default=code),
            points=r.integer("points", minimum=1) or 0,
            value=r.decimal("value") if kind == "cash_off" else None,
            product_id=r.required_string("product_id") if kind == "goods" else None,
            coupon=r.required_string("coupon") if kind == "coupon" else None,
            valid_days=r.integer("valid_days", minimum=1),
            min_tier=r.string("min_tier"),
        )
        if reward.points <= 0:
            raise InputError(f"{r.where}: points is missing; add points = 100")
        if reward.value is not None and reward.value != reward.value.quantize(Decimal("0.01")):
            raise r.fail("value", str(reward.value), "money has at most 2 decimal places")
        if reward.min_tier is not None:
            tiers.get(reward.min_tier)
        if code in rewards:
            raise r.fail("code", code, "reward codes must be unique")
        rewards[code] = reward
    return rewards


def _read(path: Path) -> _Section:
    try:
        with path.open("rb") as fh:
            return _Section(tomllib.load(fh), path.name)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def load_rules(directory: str | Path | None = None) -> Rules:
    """Load and validate the loyalty rules.

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding any of ``tiers.toml``, ``earning.toml``, ``rewards.toml``; files it
        lacks come from the packaged defaults. Defaults to ``$OMNICRM_LOYALTY_RULES`` when set.

    Returns
    -------
    Rules

    Raises
    ------
    InputError
        The folder does not exist, or a file has a missing or invalid value.
    """
    chosen = directory if directory is not None else os.environ.get(RULES_ENV)
    override = Path(chosen) if chosen else None
    if override is not None and not override.is_dir():
        raise InputError(
            f"loyalty rules directory {str(override)!r} does not exist; point {RULES_ENV} at a "
            "folder containing tiers.toml, earning.toml and/or rewards.toml"
        )
    paths = {}
    for name in RULE_FILES:
        candidate = override / name if override is not None else None
        paths[name] = (
            candidate if candidate is not None and candidate.is_file() else DEFAULTS_DIR / name
        )
    tiers = _parse_tiers(_read(paths["tiers.toml"]))
    earning = _parse_earning(_read(paths["earning.toml"]))
    rewards = _parse_rewards(_read(paths["rewards.toml"]), tiers)
    return Rules(tiers, earning, rewards, sources=tuple(str(p) for p in paths.values()))
