"""``/v1/promotions``: create, list, read and change promotions; generate coupon codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from omnicrm.api.core.security import Principal
from omnicrm.api.deps import IdemKey, State, context, require
from omnicrm.api.schemas.common import ERROR_RESPONSES
from omnicrm.api.schemas.promotions import (
    CouponBatchPublic,
    CouponCreate,
    PromotionCreate,
    PromotionPublic,
    PromotionUpdate,
)
from omnicrm.loyalty.promotions import coupons, store

router = APIRouter(prefix="/promotions", tags=["promotions"], responses=ERROR_RESPONSES)
PromotionPath = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PromotionPublic)
def create_promotion(
    body: PromotionCreate,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("promotions:manage"))],
) -> dict:
    """Create a promotion from its definition (conditions and benefit as data); audited."""
    spec = body.model_dump(mode="json", exclude_none=True)
    ctx = context(who, key, "promotion", spec)
    return state.db.run(lambda s: store.save(s, spec, ctx))


@router.get("", response_model=list[PromotionPublic])
def list_promotions(
    state: State, who: Annotated[Principal, Depends(require("promotions:read"))]
) -> list[dict]:
    """Every promotion with its live counters (uses, budget used)."""
    return state.db.read(store.list_all)


@router.get("/{promotion_id}", response_model=PromotionPublic)
def read_promotion(
    promotion_id: PromotionPath,
    state: State,
    who: Annotated[Principal, Depends(require("promotions:read"))],
) -> dict:
    return state.db.read(lambda s: store.get(s, promotion_id))


@router.patch("/{promotion_id}", response_model=PromotionPublic)
def update_promotion(
    promotion_id: PromotionPath,
    body: PromotionUpdate,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("promotions:manage"))],
) -> dict:
    """Switch a promotion on or off, move its dates, change its budget, limits or priority."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    ctx = context(who, key, "promotion_update", {"id": promotion_id, **changes})
    return state.db.run(lambda s: store.update(s, promotion_id, changes, ctx))


@router.post(
    "/{promotion_id}/coupons",
    status_code=status.HTTP_201_CREATED,
    response_model=CouponBatchPublic,
)
def generate_coupons(
    promotion_id: PromotionPath,
    body: CouponCreate,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("promotions:manage"))],
) -> dict:
    """Generate single-use codes (``count``) or one shared ``code``; codes are shown once."""
    ctx = context(who, key, "coupons", {"id": promotion_id, **body.model_dump(mode="json")})
    return state.db.run(
        lambda s: coupons.generate(
            s,
            promotion_id,
            ctx,
            count=body.count,
            prefix=body.prefix,
            shared_code=body.code,
            max_uses=body.max_uses,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            member_id=body.member_id,
        )
    )
