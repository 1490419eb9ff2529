"""Order commit: coupons used once, budgets and member limits never exceeded, one
transaction, idempotent — including 100 parallel commits on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from omnicrm.db import make_engine, make_session_factory, run_transaction, upgrade
from omnicrm.db.testing import temporary_schema
from omnicrm.loyalty import members, orders
from omnicrm.loyalty.checkout import CartInput, ItemInput
from omnicrm.loyalty.errors import DuplicateOrderError, IdempotencyConflictError, LoyaltyError
from omnicrm.loyalty.models import LedgerEntry, Member, OrderDiscount
from omnicrm.loyalty.operations import Context, request_fingerprint
from omnicrm.loyalty.orders import CommitInput, PriceChangedError
from omnicrm.loyalty.promotions import coupons, store
from omnicrm.loyalty.promotions.coupons import CouponError
from omnicrm.loyalty.promotions.models import AppliedPromotion, Coupon, CouponUse, PromotionRow
from omnicrm.loyalty.rules import load_rules
from omnicrm.loyalty.verify import verify_ledger

from .conftest import T0

D = Decimal
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def items(*prices: str) -> list[ItemInput]:
    return [ItemInput(f"SKU-{i}", D(1), D(p), "grocery") for i, p in enumerate(prices)]


class Till:
    """Drives promotions, coupons and commits, one transaction per call."""

    def __init__(self, factory, rules) -> None:
        self.factory, self.rules = factory, rules

    def run(self, fn):
        return run_transaction(self.factory, fn, attempts=20)

    def promo(self, pid: str, benefit: dict, **spec) -> None:
        self.run(
            lambda s: store.save(
                s, {"id": pid, "benefit": benefit, **spec}, Context("admin", now=T0)
            )
        )

    def codes(self, pid: str, **kwargs) -> list[str]:
        return self.run(lambda s: coupons.generate(s, pid, Context("admin", now=T0), **kwargs))[
            "codes"
        ]

    def enrol(self, customer: str) -> str:
        data = members.MemberInput(customer_id=customer)
        return self.run(lambda s: members.enrol(s, data, Context("pos", now=T0), self.rules))[
            "member_id"
        ]

    def commit(
        self, ref: str, member=None, *prices: str, codes=(), key=None, expected=None
    ) -> dict:
        cart = CartInput(items(*(prices or ("100.00",))), member_id=member, codes=list(codes))
        data = CommitInput(cart, T0, expected_total=None if expected is None else D(expected))
        fingerprint = request_fingerprint("order_commit", [ref, member, prices, list(codes)])
        ctx = Context("key:1", idempotency_key=key, request_hash=fingerprint, now=T0)
        return self.run(lambda s: orders.commit(s, ref, data, ctx, self.rules))

    def scalar(self, stmt):
        with self.factory() as s:
            return s.scalar(stmt)


@pytest.fixture
def till(factory, rules) -> Till:
    return Till(factory, rules)


OFF30 = {"type": "amount_off", "amount": "30"}


def test_a_commit_records_the_discount_consumes_the_budget_and_earns_on_the_net(till):
    member = till.enrol("C-1")
    till.promo("P30", OFF30, budget="100.00", max_uses=10)
    result = till.commit("POS-1", member, "120.00", "80.00")
    assert result["total"] == "170.00"
    assert result["points"]["earned"] == 170
    assert result["balance"] == 170 + 100  # + first-purchase bonus
    assert result["repriced"] is False
    with till.factory() as s:
        row = s.get(PromotionRow, "P30")
        assert (row.uses, row.budget_used) == (1, D("30.00"))
        applied = s.scalars(select(AppliedPromotion)).one()
        assert applied.lines == {"1": "18.00", "2": "12.00"}
        assert (applied.cost, applied.member_id, applied.order_ref) == (D("30.00"), member, "POS-1")
        assert s.scalars(select(OrderDiscount.code)).all() == ["P30"]
        assert verify_ledger(s).ok


def test_a_single_use_code_is_used_once_then_refused(till):
    till.promo("VIP", {"type": "percent_off", "percent": "10"}, requires_code=True)
    (code,) = till.codes("VIP", count=1)
    assert till.commit("A", None, codes=[code])["total"] == "90.00"
    with pytest.raises(CouponError, match="was already used") as err:
        till.commit("B", None, codes=[code])
    assert err.value.code == "coupon_used"
    assert till.scalar(select(func.count()).select_from(CouponUse)) == 1


def test_shared_codes_count_their_uses(till):
    till.promo("SPRING", OFF30, requires_code=True)
    till.codes("SPRING", shared_code="spring25", max_uses=2)
    till.commit("A", None, codes=["SPRING25"])
    till.commit("B", None, codes=["spring-25"])
    with pytest.raises(CouponError, match=r"used 2 times \(max\)"):
        till.commit("C", None, codes=["SPRING25"])


def test_unknown_codes_refuse_the_commit_and_write_nothing(till):
    till.promo("P", OFF30, budget="100")
    with pytest.raises(CouponError, match="code 'NOPE' does not exist") as err:
        till.commit("A", None, codes=["NOPE"])
    assert err.value.code == "unknown_code"
    assert till.scalar(select(PromotionRow.uses)) == 0


def test_per_customer_limit(till):
    member = till.enrol("C-1")
    till.promo("ONCE", OFF30, per_customer=1)
    assert till.commit("A", member)["applied"]
    second = till.commit("B", member)
    assert second["applied"] == []
    assert second["promotions"][0]["reason"] == "customer_limit_reached"


def test_a_changed_price_is_refused_when_the_caller_expected_another_total(till):
    till.promo("P", OFF30, budget="30.00")
    till.commit("A", None)
    with pytest.raises(PriceChangedError, match=r"now totals 100\.00, not the expected 70\.00"):
        till.commit("B", None, expected="70.00")
    assert till.commit("C", None, expected="100.00")["total"] == "100.00"


def test_commits_are_idempotent_by_key_and_by_order(till):
    member = till.enrol("C-1")
    till.promo("P", OFF30, budget="300")
    first = till.commit("A", member, key="k1")
    assert till.commit("A", member, key="k1") == first
    with pytest.raises(DuplicateOrderError, match="order 'A' was already committed"):
        till.commit("A", member, key="k2")
    # Without a key, the order id is the key: a retry replays, nothing is applied twice.
    second = till.commit("B", member)
    assert till.commit("B", member) == second
    assert till.scalar(select(PromotionRow.uses)) == 2
    with pytest.raises(IdempotencyConflictError, match="'k1' was already used"):
        till.commit("Z", member, "5.00", key="k1")
    with pytest.raises(DuplicateOrderError, match="'B' was already committed with other contents"):
        till.commit("B", member, "5.00")


def test_promotion_points_are_a_bonus_entry_of_the_order(till):
    member = till.enrol("C-1")
    till.promo("X3", {"type": "points_multiplier", "multiplier": "3"})
    result = till.commit("A", member, "50.00")
    assert result["points"]["earned"] == 50
    assert result["points"]["bonus"] == 100
    refs = till.scalar(select(func.count()).where(LedgerEntry.reference == "promotion:X3:A"))
    assert refs == 1
    assert result["balance"] == 50 + 100 + 100


@contextmanager
def backend(kind: str, factory, request):
    if kind == "sqlite":
        yield factory
        return
    with temporary_schema(request.getfixturevalue("postgres_url"), "promo_t") as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def race(till: Till, jobs) -> list:
    def attempt(job):
        try:
            return job()
        except LoyaltyError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(attempt, jobs))


@pytest.mark.parametrize("kind", BACKENDS)
def test_100_parallel_commits_race_for_one_single_use_code(kind, factory, request):
    with backend(kind, factory, request) as f:
        till = Till(f, load_rules())
        till.promo("ONE", OFF30, requires_code=True)
        (code,) = till.codes("ONE", count=1)
        outcomes = race(
            till, [lambda i=i: till.commit(f"R{i}", None, codes=[code]) for i in range(100)]
        )
        wins = [o for o in outcomes if isinstance(o, dict)]
        assert len(wins) == 1
        assert {o.code for o in outcomes if not isinstance(o, dict)} == {"coupon_used"}
        assert till.scalar(select(Coupon.uses)) == 1
        assert till.scalar(select(func.count()).select_from(CouponUse)) == 1


@pytest.mark.parametrize("kind", BACKENDS)
def test_100_parallel_commits_never_exceed_a_promotion_budget(kind, factory, request):
    with backend(kind, factory, request) as f:
        till = Till(f, load_rules())
        till.promo("BUDGET", OFF30, budget="500.00")
        outcomes = race(till, [lambda i=i: till.commit(f"R{i}", None) for i in range(100)])
        assert all(isinstance(o, dict) for o in outcomes)
        granted = sum(D(o["discount"]) for o in outcomes)
        assert granted == D("480.00")  # 16 x 30; a 17th would exceed 500
        assert sum(o["repriced"] for o in outcomes) <= 100 - 16
        assert till.scalar(select(PromotionRow.budget_used)) == D("480.00")
        assert till.scalar(select(func.sum(AppliedPromotion.cost))) == D("480.00")


@pytest.mark.parametrize("kind", BACKENDS)
def test_100_parallel_commits_of_one_member_respect_the_per_customer_limit(kind, factory, request):
    with backend(kind, factory, request) as f:
        till = Till(f, load_rules())
        member = till.enrol("C-RACE")
        till.promo("THREE", OFF30, per_customer=3)
        outcomes = race(till, [lambda i=i: till.commit(f"R{i}", member) for i in range(100)])
        assert all(isinstance(o, dict) for o in outcomes)
        assert sum(bool(o["applied"]) for o in outcomes) == 3
        assert till.scalar(select(func.count()).select_from(AppliedPromotion)) == 3
        with f() as s:
            assert verify_ledger(s).ok
            balance = s.get(Member, member).points_balance
        earned = sum(o["points"]["earned"] + o["points"]["first_purchase_bonus"] for o in outcomes)
        assert balance == earned
        assert sum(D(o["total"]) for o in outcomes) == D("10000.00") - 3 * D("30.00")


def test_a_commit_in_the_future_and_in_another_currency_is_refused(till):
    cart = CartInput(items("10"))
    future = CommitInput(cart, T0 + dt.timedelta(hours=1))
    with pytest.raises(LoyaltyError, match="is in the future"):
        till.run(lambda s: orders.commit(s, "F", future, Context("k", now=T0), till.rules))
    usd = CommitInput(cart, T0, currency="USD")
    with pytest.raises(LoyaltyError, match="'USD' is not the programme currency"):
        till.run(lambda s: orders.commit(s, "U", usd, Context("k", now=T0), till.rules))


@pytest.mark.postgres
def test_an_order_that_loses_the_last_budget_to_another_till_is_repriced_without_it(
    factory, request, monkeypatch
):
    with backend("postgres", factory, request) as f:
        till = Till(f, load_rules())
        member = till.enrol("C-LATE")
        till.promo("BUDGET", OFF30, budget="40.00")
        real_consume = orders._consume
        calls = []

        def another_till_first(session, q):
            # Between this order's quote and its budget update, another till (its own
            # connection and transaction) takes 30.00 of the 40.00 budget and commits.
            if not calls:
                with f() as other:
                    other.execute(
                        PromotionRow.__table__.update().values(
                            budget_used=PromotionRow.budget_used + 30, uses=PromotionRow.uses + 1
                        )
                    )
                    other.commit()
            calls.append(len(q.pricing.applied))
            real_consume(session, q)

        monkeypatch.setattr(orders, "_consume", another_till_first)
        result = till.commit("LATE", member, "100.00")
    assert calls == [1, 0]  # first try with the promotion, the retry without it
    assert (result["repriced"], result["excluded"], result["total"]) == (True, ["BUDGET"], "100.00")
    verdict = next(p for p in result["promotions"] if p["promotion_id"] == "BUDGET")
    assert (verdict["applied"], verdict["reason"]) == (False, "budget_exhausted")
    assert "only 10.00 of the budget is left" in verdict["message"]
