"""``/v1/members/{member_id}/ledger``: the member's ledger entries, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from omnicrm.api.core.security import Principal
from omnicrm.api.deps import State, require
from omnicrm.api.schemas.common import ERROR_RESPONSES
from omnicrm.api.schemas.points import LedgerPage
from omnicrm.loyalty.history import MAX_PAGE, ledger_page

router = APIRouter(prefix="/members/{member_id}", tags=["ledger"], responses=ERROR_RESPONSES)


@router.get("/ledger", response_model=LedgerPage)
def read_ledger(
    member_id: Annotated[str, Path(min_length=1, max_length=40)],
    state: State,
    who: Annotated[Principal, Depends(require("ledger:read"))],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    before_seq: Annotated[
        int | None, Query(ge=1, description="Page: entries older than this")
    ] = None,
) -> dict:
    """Entries with lot movements and hashes; page with ``before_seq=next_before_seq``."""
    return state.db.read(lambda s: ledger_page(s, member_id, limit=limit, before_seq=before_seq))
