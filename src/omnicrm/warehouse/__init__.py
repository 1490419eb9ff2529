"""The analytical warehouse: one function opens it from a URL; tables follow the contract."""

from omnicrm.warehouse.connect import backend_name, connect, transaction, user_tables
from omnicrm.warehouse.tables import ensure_table, ibis_schema

__all__ = [
    "backend_name",
    "connect",
    "ensure_table",
    "ibis_schema",
    "transaction",
    "user_tables",
]
