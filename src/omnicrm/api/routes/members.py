"""``/v1/members``: enrol, read, update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from omnicrm.api.core.security import Principal
from omnicrm.api.deps import IdemKey, State, context, require
from omnicrm.api.schemas.common import ERROR_RESPONSES
from omnicrm.api.schemas.members import ConsentChange, MemberCreate, MemberPublic, MemberUpdate
from omnicrm.db.base import utcnow
from omnicrm.loyalty import members
from omnicrm.loyalty.members import ConsentInput, MemberChanges, MemberInput

router = APIRouter(prefix="/members", tags=["members"], responses=ERROR_RESPONSES)
MemberId = Annotated[str, Path(min_length=1, max_length=40)]


def _consents(items) -> list[ConsentInput]:
    return [ConsentInput(c.channel, c.granted, c.source) for c in items]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MemberPublic)
def enrol_member(
    body: MemberCreate,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("members:create"))],
) -> dict:
    """Enrol a customer in the programme (entry tier, zero points)."""
    data = MemberInput(
        customer_id=body.customer_id,
        member_id=body.member_id,
        name=body.name,
        email=body.email,
        phone=body.phone,
        birthday=body.birthday,
        consents=_consents(body.consents),
    )
    ctx = context(who, key, "enrol", body.model_dump(mode="json"))
    return state.db.run(lambda s: members.enrol(s, data, ctx, state.rules))


@router.get("/{member_id}", response_model=MemberPublic)
def read_member(
    member_id: MemberId, state: State, who: Annotated[Principal, Depends(require("members:read"))]
) -> dict:
    """Balance, qualifying points, tier and benefits, points expiring soon, consents."""
    return state.db.read(
        lambda s: members.get_member(
            s, member_id, state.rules, utcnow(), expiring_days=state.settings.expiring_days
        )
    )


@router.patch("/{member_id}", response_model=MemberPublic)
def update_member(
    member_id: MemberId,
    body: MemberUpdate,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("members:update"))],
) -> dict:
    """Change contact data, birthday or status; record consent changes (history is kept)."""
    fields = {k: getattr(body, k) for k in body.model_fields_set if k != "consents"}
    changes = MemberChanges(fields=fields, consents=_consents(body.consents))
    payload = {"member_id": member_id, **body.model_dump(mode="json", exclude_unset=True)}
    ctx = context(who, key, "update_member", payload)
    return state.db.run(lambda s: members.update(s, member_id, changes, ctx, state.rules))


@router.get("/{member_id}/consents", response_model=list[ConsentChange])
def consent_history(
    member_id: MemberId,
    state: State,
    who: Annotated[Principal, Depends(require("members:read"))],
) -> list[dict]:
    """Every consent change of the member, oldest first (channel, granted, source, time)."""

    def query(session):
        members.get_member_row(session, member_id)
        return members.consent_history(session, member_id)

    return state.db.read(query)
