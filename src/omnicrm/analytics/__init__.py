"""Customer analytics: lazy Ibis expressions over warehouse tables, computed as of a date."""
