"""cadence.store."""
