"""Whatever happens, in any order: balance never negative, balance = lots = ledger sum, the
ledger verifies, and every refused operation changes nothing."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from omnicrm.db import memory_session
from omnicrm.loyalty import members, points, redemption, returns
from omnicrm.loyalty.errors import LoyaltyError
from omnicrm.loyalty.models import LedgerEntry, Member, PointLot
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.rules import load_rules
from omnicrm.loyalty.verify import verify_ledger

from .conftest import T0, line

RULES = load_rules()

amounts = st.decimals(min_value=0, max_value=3000, places=2).map(str)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), amounts, st.sampled_from(["grocery", "fresh", "tobacco"])),
        st.tuples(
            st.just("redeem"),
            st.sampled_from(["CASH10", "COFFEE", "FREESHIP", "CASH50"]),
            st.integers(1, 3),
        ),
        st.tuples(st.just("return"), st.integers(0, 5), amounts),
        st.tuples(st.just("adjust"), st.integers(-2000, 2000), st.just("")),
        st.tuples(
            st.just("event"), st.sampled_from(["sign_in", "review", "referral"]), st.just("")
        ),
        st.tuples(st.just("wait"), st.integers(1, 400), st.just("")),
    ),
    min_size=1,
    max_size=25,
)


def snapshot(session, member_id):
    counter = session.get(Member, member_id).points_balance
    ledger = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.member_id == member_id
        )
    )
    lots = session.scalar(
        select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
            PointLot.member_id == member_id
        )
    )
    entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    return counter, ledger, lots, entries


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_any_sequence_of_operations_keeps_the_books_balanced(ops):
    session = memory_session()
    now = T0
    m = members.enrol(session, members.MemberInput("C-1"), Context("pos", now=now), RULES)
    member_id = m["member_id"]
    orders: list[str] = []
    for i, (kind, a, b) in enumerate(ops):
        ctx = Context("pos", now=now)
        before = snapshot(session, member_id)
        try:
            if kind == "earn":
                ref = f"O-{i}"
                order = points.OrderInput(ref, [line(a, category=b)], purchased_at=now)
                points.earn(session, member_id, order, ctx, RULES)
                orders.append(ref)
            elif kind == "redeem":
                redemption.redeem(session, member_id, a, ctx, RULES, quantity=b)
            elif kind == "return" and orders:
                ret = returns.ReturnInput(
                    orders[a % len(orders)],
                    f"R-{i}",
                    [returns.ReturnLine(line(b).amount, line_no=1)],
                )
                returns.return_lines(session, member_id, ret, ctx, RULES)
            elif kind == "adjust" and a != 0:
                points.adjust(session, member_id, a, "property test", ctx, RULES)
            elif kind == "event":
                points.bonus(session, member_id, a, ctx, RULES, reference=f"ref-{i}")
            elif kind == "wait":
                now = now + dt.timedelta(days=a)
        except LoyaltyError:
            session.rollback()
            assert snapshot(session, member_id) == before  # refused: nothing changed
        counter, ledger, lots, _ = snapshot(session, member_id)
        assert counter >= 0
        assert counter == ledger == lots
    view = members.get_member(session, member_id, RULES, now)
    assert view["points"]["balance"] >= 0
    report = verify_ledger(session)
    assert report.ok, report.summary()
