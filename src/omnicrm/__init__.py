"""omnicrm: customer intelligence and loyalty for retailers.

The package is layered (see ``docs/architecture.md``); arrows point down only::

    cli/ api/ web/                  interfaces, no business rules
    campaigns/ loyalty/ feedback/   operational domains (SQLAlchemy)
    analytics/ models/              computation on warehouse tables (Ibis)
    warehouse/ ingest/ schema/      data contract, loading, connections
"""

from omnicrm.errors import ConvergenceError, InputError, NotFittedError, OmnicrmError

__version__ = "0.1.0"

__all__ = ["ConvergenceError", "InputError", "NotFittedError", "OmnicrmError", "__version__"]
