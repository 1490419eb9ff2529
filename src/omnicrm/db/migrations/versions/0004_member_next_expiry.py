"""Members keep a lower bound of their lots' next expiry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 02:20:00

``loyalty_members.next_expiry_at``: no lot of the member with points left expires before it
(``NULL``: the member holds no lot with points). Every points operation first expires what is
due; with this bound it skips the search of the member's lots while nothing can be due, which
is almost always (lots live for months). The column is filled from the lots here, and kept
by :mod:`omnicrm.loyalty.ledger` under the member's row lock.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (SQLite >= 3.35 drops columns in place): a batch
    # "copy and move" of the members table would trip the foreign keys that point at it.
    op.add_column("loyalty_members", sa.Column("next_expiry_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE loyalty_members SET next_expiry_at = ("
        "SELECT min(l.expires_at) FROM loyalty_lots l "
        "WHERE l.member_id = loyalty_members.id AND l.remaining > 0)"
    )


def downgrade() -> None:
    op.drop_column("loyalty_members", "next_expiry_at")
