"""Errors of the loyalty domain, each with a stable machine-readable code.

Interfaces map the ``code`` to a transport status (the API answers 404 for ``*_not_found``,
409 for state conflicts, 422 for bad input) and show ``message`` and ``field`` to the caller.

Examples
--------
>>> from omnicrm.loyalty.errors import InsufficientPointsError
>>> err = InsufficientPointsError("member m_1 has 100 points, the redemption needs 500")
>>> err.code, err.field
('insufficient_points', 'points')
"""

from __future__ import annotations

from omnicrm.errors import InputError, OmnicrmError


class LoyaltyError(OmnicrmError):
    """Root of loyalty errors. ``code`` is stable; ``field`` names the offending input."""

    code = "loyalty_error"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class InvalidRequestError(LoyaltyError, InputError):
    """A value is well-formed but not acceptable (unknown reward, return exceeds order …)."""

    code = "invalid_request"


class MemberNotFoundError(LoyaltyError):
    code = "member_not_found"
    field = "member_id"


class OrderNotFoundError(LoyaltyError):
    code = "order_not_found"
    field = "order_ref"


class MemberExistsError(LoyaltyError):
    code = "member_exists"
    field = "customer_id"


class DuplicateOrderError(LoyaltyError):
    code = "duplicate_order"
    field = "order_ref"


class MemberClosedError(LoyaltyError):
    code = "member_closed"
    field = "member_id"


class InsufficientPointsError(LoyaltyError):
    code = "insufficient_points"
    field = "points"


class LimitReachedError(LoyaltyError):
    """A bonus event would exceed its daily or yearly limit."""

    code = "limit_reached"
    field = "type"


class IdempotencyConflictError(LoyaltyError):
    """The idempotency key was already used for a different request."""

    code = "idempotency_key_reused"
    field = "Idempotency-Key"


class DuplicateReturnError(LoyaltyError):
    code = "duplicate_return"
    field = "return_ref"


class NotEligibleError(LoyaltyError):
    """The member's tier or state does not allow this reward or event."""

    code = "not_eligible"
