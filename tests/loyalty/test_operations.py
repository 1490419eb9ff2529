"""One transaction per operation: idempotent replay, conflicts, and concurrent writers.

Concurrency runs on SQLite (BEGIN IMMEDIATE) and on a real PostgreSQL (row locks), with
service calls on separate sessions from many threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from omnicrm.db import make_engine, make_session_factory, run_transaction, upgrade
from omnicrm.db.testing import temporary_schema
from omnicrm.loyalty import points, redemption
from omnicrm.loyalty.errors import (
    IdempotencyConflictError,
    InsufficientPointsError,
    InvalidRequestError,
    MemberNotFoundError,
)
from omnicrm.loyalty.models import IdempotencyRecord, LedgerEntry, LoyaltyOrder
from omnicrm.loyalty.operations import request_fingerprint
from omnicrm.loyalty.verify import verify_ledger

from .conftest import Shop, line


def idem(shop, key: str, body: object, op: str = "earn"):
    return shop.ctx(client="key:1", idempotency_key=key, request_hash=request_fingerprint(op, body))


def test_a_retried_earn_returns_the_first_result_and_changes_nothing(shop):
    m = shop.enrol()
    first = shop.earn(
        m,
        "88.00",
        ref="O-1",
        client="key:1",
        idempotency_key="k1",
        request_hash=request_fingerprint("earn", {"ref": "O-1"}),
    )
    again = shop.earn(
        m,
        "88.00",
        ref="O-1",
        client="key:1",
        idempotency_key="k1",
        request_hash=request_fingerprint("earn", {"ref": "O-1"}),
    )
    assert again == first
    with shop.factory() as s:
        assert s.scalar(select(func.count()).select_from(LoyaltyOrder)) == 1
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_the_same_key_with_another_body_is_a_conflict(shop):
    m = shop.enrol()
    shop.adjust(m, 5000)
    ctx = idem(shop, "k2", {"reward": "COFFEE"}, "redeem")
    shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)
    other = idem(shop, "k2", {"reward": "CASH10"}, "redeem")
    with pytest.raises(IdempotencyConflictError, match=r"'k2' was already used .* for a different"):
        shop.run(redemption.redeem, m, "CASH10", other, shop.rules)


def test_keys_are_scoped_per_client(shop):
    m = shop.enrol()
    shop.adjust(m, 1000)
    a = shop.ctx(client="key:1", idempotency_key="same", request_hash="x")
    b = shop.ctx(client="key:2", idempotency_key="same", request_hash="x")
    shop.run(redemption.redeem, m, "COFFEE", a, shop.rules)
    shop.run(redemption.redeem, m, "COFFEE", b, shop.rules)
    assert shop.balance(m) == 400


def test_a_failed_operation_stores_nothing_so_a_retry_runs_again(shop):
    m = shop.enrol()
    ctx = shop.ctx(client="key:1", idempotency_key="k3", request_hash="h")
    with pytest.raises(InsufficientPointsError):
        shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)
    shop.adjust(m, 300)
    assert shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)["balance"] == 0


def test_a_replay_is_found_with_the_member_in_one_statement_and_writes_nothing(shop):
    m = shop.enrol()
    shop.adjust(m, 1000)
    ctx = idem(shop, "k4", {"reward": "COFFEE"}, "redeem")
    first = shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)
    with shop.statements() as sent:
        again = shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)
    assert again == first
    queries = [sql for sql in sent if not sql.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE
    assert len(queries) == 1, sent
    assert queries[0].startswith("SELECT")
    assert "loyalty_members" in queries[0]
    assert "loyalty_idempotency" in queries[0]


def test_bad_input_for_an_unknown_member_is_reported_as_bad_input(shop):
    # the member's row is read first, but the input is checked before "no such member"
    with pytest.raises(InvalidRequestError, match="not in the catalogue"):
        shop.run(redemption.redeem, "m_unknown", "NO-SUCH-REWARD", shop.ctx(), shop.rules)
    with pytest.raises(MemberNotFoundError, match="'m_unknown' does not exist"):
        shop.run(redemption.redeem, "m_unknown", "COFFEE", shop.ctx(), shop.rules)


def test_a_key_reused_on_another_member_is_a_conflict_not_a_replay(shop):
    a, b = shop.enrol("C-1"), shop.enrol("C-2")
    shop.adjust(a, 1000)
    shop.adjust(b, 1000)
    ctx = idem(shop, "k5", {"reward": "COFFEE"}, "redeem")
    shop.run(redemption.redeem, a, "COFFEE", ctx, shop.rules)
    other = idem(shop, "k5", {"member": b, "reward": "COFFEE"}, "redeem")
    with pytest.raises(IdempotencyConflictError):
        shop.run(redemption.redeem, b, "COFFEE", other, shop.rules)
    assert shop.balance(b) == 1000


def hammer(factory, rules, member_id: str, n: int, *, same_key: bool = False) -> list:
    """Run ``n`` COFFEE redemptions (300 points) in parallel threads, each in its own session."""
    shop = Shop(factory, rules)

    def one(i: int):
        key = "same" if same_key else f"k-{i}"
        ctx = shop.ctx(client="key:1", idempotency_key=key, request_hash="h")
        try:
            return run_transaction(
                factory, lambda s: redemption.redeem(s, member_id, "COFFEE", ctx, rules)
            )
        except InsufficientPointsError:
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(n)))


def check_no_overdraft(factory, rules, n_ok_expected: int, results: list, start: int) -> None:
    ok = [r for r in results if r is not None]
    assert len(ok) == n_ok_expected
    assert sum(r["points"] for r in ok) <= start
    with factory() as s:
        report = verify_ledger(s)
        assert report.ok, report.summary()
        redeemed = s.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redeem")
        )
    assert redeemed == n_ok_expected


def test_100_parallel_redemptions_on_sqlite_never_overdraw(shop):
    m = shop.enrol()
    shop.adjust(m, 9000)  # enough for exactly 30 coffees
    results = hammer(shop.factory, shop.rules, m, 100)
    check_no_overdraft(shop.factory, shop.rules, 30, results, 9000)
    assert shop.balance(m) == 0


def test_parallel_retries_with_one_idempotency_key_redeem_once_on_sqlite(shop):
    m = shop.enrol()
    shop.adjust(m, 9000)
    results = hammer(shop.factory, shop.rules, m, 20, same_key=True)
    assert len({r["voucher_code"] for r in results}) == 1
    assert shop.balance(m) == 8700


@pytest.fixture(scope="module")
def pg_factory(postgres_url):
    with temporary_schema(postgres_url, "loyalty_ops") as url:
        engine = make_engine(url)
        upgrade(engine)
        yield make_session_factory(engine)
        engine.dispose()


@pytest.mark.postgres
def test_100_parallel_redemptions_on_postgres_never_overdraw(pg_factory, rules):
    shop = Shop(pg_factory, rules)
    m = shop.enrol("C-PG-1")
    shop.adjust(m, 9000)
    results = hammer(pg_factory, rules, m, 100)
    check_no_overdraft(pg_factory, rules, 30, results, 9000)
    assert shop.balance(m) == 0


@pytest.mark.postgres
def test_parallel_retries_with_one_idempotency_key_redeem_once_on_postgres(pg_factory, rules):
    shop = Shop(pg_factory, rules)
    m = shop.enrol("C-PG-2")
    shop.adjust(m, 9000)
    results = hammer(pg_factory, rules, m, 20, same_key=True)
    assert len({r["voucher_code"] for r in results}) == 1
    assert shop.balance(m) == 8700


@pytest.mark.postgres
def test_earn_return_and_expiry_round_trip_on_postgres(pg_factory, rules):
    shop = Shop(pg_factory, rules)
    m = shop.enrol("C-PG-3")
    shop.earn(m, line("128.50"), line("71.50"), ref="PG-O-1")
    result = shop.give_back(m, "PG-O-1", "PG-R-1", (1, "128.50"))
    assert result["points_clawed_back"] == 129  # 200 points split 128.5 / 71.5: the tie goes first
    with pg_factory() as s:
        assert verify_ledger(s, m).ok
    order = points.OrderInput("PG-O-2", [line("10.00")], purchased_at=shop.now)
    assert shop.run(points.earn, m, order, shop.ctx(), rules)["balance"] == 71 + 100 + 10


def test_old_idempotency_records_are_purged_and_their_retries_run_again(shop):
    import datetime as dt

    from omnicrm.loyalty.maintenance import purge_idempotency

    m = shop.enrol()
    shop.adjust(m, 1000)
    ctx = shop.ctx(client="key:1", idempotency_key="old", request_hash="h")
    first = shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)
    later = shop.now + dt.timedelta(days=31)
    assert purge_idempotency(shop.factory, older_than=dt.timedelta(days=30), now=later) == 1
    again = shop.run(redemption.redeem, m, "COFFEE", ctx, shop.rules)
    assert again["voucher_code"] != first["voucher_code"]
