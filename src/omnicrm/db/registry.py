"""The modules that define operational tables, imported before migrations compare schemas.

Domains register here (one line each) so that :data:`omnicrm.db.base.Base.metadata` knows
every table when Alembic autogenerates a migration. Nothing else needs this list: the
migration scripts themselves are explicit.
"""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "omnicrm.loyalty.models",
    "omnicrm.loyalty.promotions.models",
    "omnicrm.api.models",
)


def import_models() -> None:
    """Import every module in :data:`MODEL_MODULES` (idempotent)."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
