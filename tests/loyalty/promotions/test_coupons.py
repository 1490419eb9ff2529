"""Coupon codes: unguessable, stored hashed, single-use or shared, bound to dates or a member."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from omnicrm.loyalty.errors import InvalidRequestError, MemberNotFoundError
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.promotions import coupons, store
from omnicrm.loyalty.promotions.coupons import PromotionNotFoundError, check_codes, code_hash
from omnicrm.loyalty.promotions.models import Coupon

from ..conftest import T0

DAY = dt.timedelta(days=1)


@pytest.fixture
def promo(shop):
    shop.run(
        store.save,
        {"id": "P", "benefit": {"type": "amount_off", "amount": "5"}, "requires_code": True},
        Context("admin", now=T0),
    )
    return "P"


def generate(shop, pid="P", key=None, **kwargs):
    ctx = Context("admin", idempotency_key=key, request_hash="x" if key else None, now=T0)
    return shop.run(coupons.generate, pid, ctx, **kwargs)


def check(shop, codes, member=None, at=T0):
    with shop.factory() as s:
        return [(c.error, c.message) for c in check_codes(s, codes, at, member)]


def test_bulk_codes_are_unique_random_and_only_their_hashes_are_stored(shop, promo):
    result = generate(shop, count=500, prefix="spr")
    codes = result["codes"]
    assert len(set(codes)) == 500
    assert all(re.fullmatch(r"SPR(-[2-9A-HJ-NP-Z]{4}){4}", c) for c in codes)
    with shop.factory() as s:
        rows = s.scalars(select(Coupon)).all()
    assert {r.code_hash for r in rows} == {code_hash(c) for c in codes}
    assert {r.hint for r in rows} == {c[-4:] for c in codes}
    assert all(r.kind == "single" and r.max_uses == 1 for r in rows)


def test_codes_are_matched_whatever_the_case_spaces_and_dashes(shop, promo):
    (code,) = generate(shop)["codes"]
    messy = code.lower().replace("-", " ")
    assert check(shop, [messy]) == [(None, None)]


def test_validity_window_member_binding_and_duplicates(shop, promo):
    member, other = shop.enrol("C-1"), shop.enrol("C-2")
    (later,) = generate(shop, valid_from=T0 + DAY)["codes"]
    (past,) = generate(shop, valid_until=T0)["codes"]
    (mine,) = generate(shop, member_id=member)["codes"]
    assert [e for e, _ in check(shop, [later, past, mine], other)] == [
        "coupon_not_yet_valid",
        "coupon_expired",
        "coupon_not_for_member",
    ]
    assert check(shop, [mine], member) == [(None, None)]
    assert [e for e, _ in check(shop, [mine, mine.lower()], member)] == [None, "duplicate_code"]
    assert check(shop, ["NOPE"])[0] == ("unknown_code", "code 'NOPE' does not exist")


def test_a_shared_code_is_unique_and_counts_uses(shop, promo):
    result = generate(shop, shared_code="spring-25", max_uses=100)
    assert result["codes"] == ["SPRING25"]
    assert result["kind"] == "shared"
    with pytest.raises(InvalidRequestError, match="this code already exists"):
        generate(shop, shared_code="SPRING25")
    with pytest.raises(InvalidRequestError, match="must be 4-40 letters or digits"):
        generate(shop, shared_code="A!")


def test_a_replay_does_not_show_the_codes_again(shop, promo):
    first = generate(shop, key="batch-1", count=3)
    again = generate(shop, key="batch-1", count=3)
    assert again["batch"] == first["batch"]
    assert again["codes"] == [f"…{c.replace('-', '')[-4:]}" for c in first["codes"]]
    with shop.factory() as s:
        assert len(s.scalars(select(Coupon)).all()) == 3


def test_bad_requests_name_the_field(shop, promo):
    with pytest.raises(PromotionNotFoundError, match="promotion 'NOPE' does not exist"):
        generate(shop, "NOPE")
    with pytest.raises(InvalidRequestError, match="count 0 must be between 1 and 100000"):
        generate(shop, count=0)
    with pytest.raises(InvalidRequestError, match="prefix 'TOOLONGPREFIX'"):
        generate(shop, prefix="TOOLONGPREFIX")
    with pytest.raises(InvalidRequestError, match="valid_until must be after valid_from"):
        generate(shop, valid_from=T0, valid_until=T0 - DAY)
    with pytest.raises(MemberNotFoundError):
        generate(shop, member_id="m_nobody")
