"""The pricing engine: which promotions apply to a cart, and why the others do not.

Pure: it takes the cart, the promotions and their live availability (budget and uses left,
the member's uses, presented codes) and returns a :class:`Pricing`; nothing is written.

Stacking policy (documented in ``docs/loyalty.md``):

1. each promotion is first *gated*: active, within its dates, code presented when required,
   uses, budget and per-customer limit left;
2. the **stack**: the stackable promotions are tried in priority order (highest first, then
   id); each is evaluated on the line values left by the ones before it, and at most one
   promotion per ``group`` applies;
3. every **exclusive** promotion is evaluated alone on the full prices;
4. the customer gets the option worth most (money off + gift value; ties: the higher
   priority); every other candidate is reported ``not_stackable_with`` the winners.

Examples
--------
>>> import datetime as dt
>>> from decimal import Decimal
>>> from omnicrm.loyalty.promotions.cart import Cart, CartLine
>>> from omnicrm.loyalty.promotions.definition import parse_promotion
>>> from omnicrm.loyalty.promotions.engine import price
>>> p = parse_promotion({"id": "P1", "condition": {"min_spend": "200"},
...                      "benefit": {"type": "amount_off", "amount": "30"}})
>>> cart = Cart((CartLine(1, "A", Decimal(2), Decimal("90.00")),), dt.datetime(2026, 1, 1))
>>> result = price(cart, [p])
>>> print(result.verdicts[0].reason)
min_spend_not_met: spend 180.00 of 200.00
>>> str(result.total)
'180.00'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from omnicrm.loyalty.promotions.benefits import Effect
from omnicrm.loyalty.promotions.cart import ZERO, Cart
from omnicrm.loyalty.promotions.conditions import Reason
from omnicrm.loyalty.promotions.definition import Promotion


@dataclass(frozen=True)
class Availability:
    """Live state of one promotion for this cart (read from the database by the caller).

    ``budget_left`` / ``uses_left``: ``None`` = unlimited. ``customer_uses``: orders of this
    member it already applied to. ``code``: the presented coupon code that unlocks it.
    """

    budget_left: Decimal | None = None
    uses_left: int | None = None
    customer_uses: int = 0
    code: str | None = None


@dataclass(frozen=True)
class Applied:
    promotion: Promotion
    effect: Effect
    code: str | None = None


@dataclass(frozen=True)
class Verdict:
    """Whether one candidate promotion applied; if not, the reason."""

    promotion_id: str
    applied: bool
    reason: Reason | None = None


@dataclass(frozen=True)
class Pricing:
    """The outcome of pricing a cart."""

    cart: Cart
    applied: tuple[Applied, ...]
    verdicts: tuple[Verdict, ...]
    line_discounts: Mapping[int, Decimal] = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return self.cart.subtotal

    @property
    def discount(self) -> Decimal:
        return sum(self.line_discounts.values(), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount

    def net(self, line_no: int, value: Decimal) -> Decimal:
        """A line's value after discounts."""
        return value - self.line_discounts.get(line_no, ZERO)


def gate(promotion: Promotion, cart: Cart, state: Availability) -> Reason | None:
    """Reasons that stop a promotion before its conditions are looked at."""
    p = promotion
    if not p.active:
        return Reason("inactive", f"{p.id} is switched off")
    if p.starts_at is not None and cart.at < p.starts_at:
        return Reason("not_started", f"starts at {p.starts_at.isoformat()}")
    if p.ends_at is not None and cart.at >= p.ends_at:
        return Reason("ended", f"ended at {p.ends_at.isoformat()}")
    if p.requires_code and state.code is None:
        return Reason("code_required", "needs one of its coupon codes")
    if state.uses_left is not None and state.uses_left <= 0:
        return Reason("uses_exhausted", f"all {p.max_uses} uses are taken")
    if state.budget_left is not None and state.budget_left <= 0:
        return Reason("budget_exhausted", f"the budget of {p.budget:.2f} is spent")
    if p.per_customer is not None:
        if cart.member_id is None:
            return Reason("member_required", "limited per member; identify the member first")
        if state.customer_uses >= p.per_customer:
            return Reason(
                "customer_limit_reached",
                f"used {state.customer_uses} of {p.per_customer} time(s) by this member",
            )
    return None


def evaluate(
    promotion: Promotion, cart: Cart, values: Mapping[int, Decimal], state: Availability
) -> Effect | Reason:
    """The effect of ``promotion`` on lines at ``values``, or why it gives nothing."""
    lines = [x for x in cart.lines if promotion.line_range.covers(x)]
    if not lines:
        return Reason("no_eligible_lines", f"no line in {promotion.line_range.describe()}")
    for condition in promotion.conditions:
        reason = condition.check(cart, lines, values)
        if reason is not None:
            return reason
    effect = promotion.benefit.apply(cart, lines, values)
    if isinstance(effect, Reason):
        return effect
    if effect.empty:
        return Reason("nothing_to_discount", "the covered lines are already fully discounted")
    if state.budget_left is not None and effect.cost > state.budget_left:
        return Reason(
            "budget_exhausted",
            f"costs {effect.cost:.2f}, only {state.budget_left:.2f} of the budget is left",
        )
    return effect


def _stack(
    ordered: Sequence[Promotion], cart: Cart, states: Mapping[str, Availability]
) -> tuple[list[Applied], dict[str, Reason]]:
    values = {x.line_no: x.value for x in cart.lines}
    applied: list[Applied] = []
    reasons: dict[str, Reason] = {}
    groups: dict[str, str] = {}
    for p in ordered:
        if p.group is not None and p.group in groups:
            taken = f"group {p.group} already used by {groups[p.group]}"
            reasons[p.id] = Reason("group_taken", taken)
            continue
        outcome = evaluate(p, cart, values, states[p.id])
        if isinstance(outcome, Reason):
            reasons[p.id] = outcome
            continue
        for line_no, amount in outcome.line_discounts.items():
            values[line_no] -= amount
        if p.group is not None:
            groups[p.group] = p.id
        applied.append(Applied(p, outcome, states[p.id].code))
    return applied, reasons


def _worth(option: Sequence[Applied]) -> tuple[Decimal, int]:
    cost = sum((a.effect.cost for a in option), ZERO)
    return cost, max((a.promotion.priority for a in option), default=-(10**9))


def price(
    cart: Cart,
    promotions: Sequence[Promotion],
    availability: Mapping[str, Availability] | None = None,
    *,
    excluded: Mapping[str, Reason] | None = None,
) -> Pricing:
    """Price ``cart`` with ``promotions``.

    Parameters
    ----------
    cart : Cart
    promotions : sequence of Promotion
        Candidates (any order).
    availability : mapping of promotion id to Availability, optional
        Live limits; missing ids are unlimited and have no code.
    excluded : mapping of promotion id to Reason, optional
        Promotions the caller already knows cannot apply (e.g. lost a race for the budget).

    Returns
    -------
    Pricing
        Applied promotions, per-line discounts and one verdict per candidate (priority order).
    """
    availability = availability or {}
    excluded = excluded or {}
    ordered = sorted(promotions, key=lambda p: (-p.priority, p.id))
    states = {p.id: availability.get(p.id, Availability()) for p in ordered}
    reasons: dict[str, Reason] = {}
    live = []
    for p in ordered:
        reason = excluded.get(p.id) or gate(p, cart, states[p.id])
        if reason is None:
            live.append(p)
        else:
            reasons[p.id] = reason
    stack, stack_reasons = _stack([p for p in live if not p.exclusive], cart, states)
    reasons.update(stack_reasons)
    options: list[list[Applied]] = [stack]
    for p in (p for p in live if p.exclusive):
        alone, why = _stack([p], cart, states)
        if alone:
            options.append(alone)
        else:
            reasons.update(why)
    best = max(options, key=_worth) if any(options) else []
    winners = {a.promotion.id for a in best}
    saved = sum((a.effect.cost for a in best), ZERO)
    names = ", ".join(a.promotion.id for a in best)
    for option in options:
        for a in option:
            if a.promotion.id in winners:
                continue
            lead = "is exclusive and " if any(b.promotion.exclusive for b in best) else ""
            reasons[a.promotion.id] = Reason(
                "not_stackable_with",
                f"{names} {lead}give(s) {saved:.2f}; this option gives "
                f"{sum((b.effect.cost for b in option), ZERO):.2f}",
            )
    line_discounts: dict[int, Decimal] = {}
    for a in best:
        for line_no, amount in a.effect.line_discounts.items():
            line_discounts[line_no] = line_discounts.get(line_no, ZERO) + amount
    verdicts = tuple(
        Verdict(p.id, p.id in winners, None if p.id in winners else reasons[p.id]) for p in ordered
    )
    return Pricing(cart, tuple(best), verdicts, line_discounts)
