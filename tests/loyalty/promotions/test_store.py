"""Promotions in the database: create, replace (counters kept), patch, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from omnicrm.loyalty.errors import InvalidRequestError
from omnicrm.loyalty.models import AuditEntry
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.promotions import store
from omnicrm.loyalty.promotions.coupons import PromotionNotFoundError
from omnicrm.loyalty.promotions.models import PromotionRow

from ..conftest import T0

SPEC = {"id": "P", "budget": "100.00", "benefit": {"type": "amount_off", "amount": "5"}}


def save(shop, spec=SPEC, **kwargs):
    return shop.run(store.save, spec, Context("admin", now=T0), **kwargs)


def patch(shop, changes, pid="P"):
    return shop.run(store.update, pid, changes, Context("admin", now=T0))


def test_create_then_replace_keeps_the_counters(shop):
    view = save(shop)
    assert (view["budget"], view["budget_used"], view["uses"]) == ("100.00", "0.00", 0)
    with shop.factory() as s:
        s.get(PromotionRow, "P").uses = 7
        s.get(PromotionRow, "P").budget_used = Decimal("35.00")
        s.commit()
    with pytest.raises(InvalidRequestError, match="promotion 'P' already exists"):
        save(shop)
    replaced = save(shop, {**SPEC, "name": "Five off"}, replace_existing=True)
    assert (replaced["name"], replaced["uses"], replaced["budget_used"]) == ("Five off", 7, "35.00")


def test_patch_switches_off_and_moves_limits_but_never_below_what_was_used(shop):
    save(shop)
    with shop.factory() as s:
        s.get(PromotionRow, "P").budget_used = Decimal("60.00")
        s.commit()
    assert patch(shop, {"active": False})["active"] is False
    with pytest.raises(InvalidRequestError, match=r"budget 50\.00 is below what was already spent"):
        patch(shop, {"budget": "50.00"})
    with pytest.raises(InvalidRequestError, match="cannot change benefit"):
        patch(shop, {"benefit": {"type": "amount_off", "amount": "50"}})
    with pytest.raises(PromotionNotFoundError):
        patch(shop, {"active": True}, pid="NOPE")


def test_inactive_promotions_are_not_loaded_for_pricing(shop):
    save(shop)
    save(shop, {**SPEC, "id": "Q"})
    patch(shop, {"active": False}, pid="Q")
    with shop.factory() as s:
        assert [p.id for p, _ in store.load(s)] == ["P"]
        assert [v["id"] for v in store.list_all(s)] == ["P", "Q"]


def test_every_change_is_audited(shop):
    save(shop)
    patch(shop, {"priority": 3})
    with shop.factory() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["promotion", "promotion_update"]


def test_an_invalid_definition_is_refused_with_its_field(shop):
    with pytest.raises(InvalidRequestError, match="benefit type 'cash' is unknown") as err:
        save(shop, {"id": "X", "benefit": {"type": "cash"}})
    assert err.value.field == "promotion"
