"""Tier qualification, upgrades and reviews (rules in ``tiers.toml``).

* The qualification value is the sum of ``qualifying_points`` (or ``spend``) of the member's
  ledger entries whose business time (``occurred_at``) falls in the period: the 12 months
  before the evaluation instant (``rolling_12_months``) or the calendar year containing it
  (``calendar_year``, local time of the programme). Returns count against the period of the
  original purchase.
* Upgrade at once: after every earn, if the value reaches a higher tier's threshold, the
  member moves up and the next review is one period later (rolling: the anniversary;
  calendar year: 1 January of the next year). Requalifying during a grace period cancels it.
* Downgrade only at the review date, evaluated *as of the review date* (so it does not matter
  when the job runs): with ``grace_days`` > 0 the member keeps the tier until the grace ends
  and is evaluated again then; the member then moves to the highest tier still qualified for.
  The entry tier has no review.

Nothing here commits.

Examples
--------
>>> import datetime as dt
>>> from zoneinfo import ZoneInfo
>>> from omnicrm.loyalty.tiers import period_start, next_review
>>> tz = ZoneInfo("UTC")
>>> at = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
>>> period_start("calendar_year", at, tz)
datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
>>> next_review("rolling_12_months", at, tz)
datetime.datetime(2027, 7, 1, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from omnicrm.loyalty.models import LedgerEntry, Member
from omnicrm.loyalty.operations import audit
from omnicrm.loyalty.rules import Rules, Tier

EPSILON = dt.timedelta(microseconds=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_start(period: str, as_of: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """First instant of the qualification period that ends at ``as_of`` (exclusive)."""
    local = (as_of - EPSILON).astimezone(tz)
    if period == "calendar_year":
        start = dt.datetime(local.year, 1, 1, tzinfo=tz)
    else:
        start = dt.datetime.combine(
            _add_months(as_of.astimezone(tz).date(), -12), as_of.astimezone(tz).timetz()
        )
    return start.astimezone(dt.UTC)


def next_review(period: str, after: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Review date of a tier reached (or confirmed) at ``after``."""
    local = after.astimezone(tz)
    if period == "calendar_year":
        start = dt.datetime(local.year + 1, 1, 1, tzinfo=tz)
    else:
        start = dt.datetime.combine(_add_months(local.date(), 12), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC)


def qualification_window(rules: Rules, as_of: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The qualification period ``[start, as_of)`` of the tier rules."""
    return period_start(rules.tiers.period, as_of, rules.earning.timezone), as_of


@functools.cache
def qualification_sum(metric: str) -> Select:
    """The query of a member's qualification value over a period (built once per metric).

    The sum of the qualifying points (or of the spend) of the ledger entries of
    ``:member_id`` that occurred in ``[:window_start, :window_end)`` (bound parameters; see
    :func:`qualification_window`); :func:`qualification_decimal` converts the result.
    """
    column = LedgerEntry.qualifying_points if metric == "qualifying_points" else LedgerEntry.spend
    return select(func.coalesce(func.sum(column), 0)).where(
        LedgerEntry.member_id == bindparam("member_id"),
        LedgerEntry.occurred_at >= bindparam("window_start"),
        LedgerEntry.occurred_at < bindparam("window_end"),
    )


def qualification_decimal(raw: object, rules: Rules) -> Decimal:
    """A summed qualification value as an exact ``Decimal`` (cents for spend)."""
    value = Decimal(str(raw))
    return value.quantize(Decimal("0.01")) if rules.tiers.metric == "spend" else value


def qualification_value(
    session: Session, member_id: str, rules: Rules, as_of: dt.datetime
) -> Decimal:
    """The member's qualifying points (or spend) over the period ending at ``as_of``."""
    start, end = qualification_window(rules, as_of)
    params = {"member_id": member_id, "window_start": start, "window_end": end}
    raw = session.execute(qualification_sum(rules.tiers.metric), params).scalar_one()
    return qualification_decimal(raw, rules)


def _move(
    session: Session,
    member: Member,
    tier: Tier,
    at: dt.datetime,
    rules: Rules,
    why: str,
    now: dt.datetime,
) -> None:
    old = member.tier
    member.tier = tier.code
    member.tier_since = at
    member.grace_until = None
    base = tier.rank == 0
    member.tier_review_at = (
        None if base else next_review(rules.tiers.period, at, rules.earning.timezone)
    )
    member.updated_at = now
    audit(
        session,
        actor="system",
        action="tier_change",
        target=member.id,
        detail={"from": old, "to": tier.code, "why": why},
        at=now,
    )


def upgrade_if_qualified(
    session: Session,
    member: Member,
    rules: Rules,
    now: dt.datetime,
    *,
    value: Decimal | None = None,
) -> bool:
    """Move ``member`` up at once if it qualifies for a higher tier; end a grace period if it
    requalified for its own. Returns whether the tier changed.

    ``value`` is the member's qualification value at ``now`` when the caller already knows it
    (:func:`qualification_value` over the period ending just after ``now``); it is read from
    the ledger otherwise.
    """
    if value is None:
        value = qualification_value(session, member.id, rules, now + EPSILON)
    qualified = rules.tiers.qualified_for(value)
    current = rules.tiers.get(member.tier)
    if qualified.rank > current.rank:
        _move(session, member, qualified, now, rules, f"qualification value {value}", now)
        return True
    if member.grace_until is not None and qualified.rank >= current.rank:
        member.grace_until = None
        member.tier_review_at = next_review(rules.tiers.period, now, rules.earning.timezone)
        member.updated_at = now
    return False


def review_if_due(session: Session, member: Member, rules: Rules, now: dt.datetime) -> bool:
    """Apply a due review (and a due grace end) to ``member``. Returns whether the tier changed.

    Evaluations use the review (or grace end) instant, never ``now``, so the outcome does not
    depend on when the job runs.
    """
    changed = False
    for _ in range(50):  # catch up on reviews missed for several periods, bounded
        review_at = member.tier_review_at
        if review_at is None or review_at > now:
            return changed
        at = member.grace_until if member.grace_until is not None else review_at
        if at > now:
            return changed
        value = qualification_value(session, member.id, rules, at)
        qualified = rules.tiers.qualified_for(value)
        current = rules.tiers.get(member.tier)
        if qualified.rank >= current.rank:
            member.tier_review_at = next_review(
                rules.tiers.period, review_at, rules.earning.timezone
            )
            member.grace_until = None
        elif member.grace_until is None and rules.tiers.grace_days > 0:
            member.grace_until = review_at + dt.timedelta(days=rules.tiers.grace_days)
        else:
            _move(
                session,
                member,
                qualified,
                at,
                rules,
                f"review on {at.date()}: qualification value {value}",
                now,
            )
            changed = True
        member.updated_at = now
    return changed
