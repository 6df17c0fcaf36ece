"""cadence.engine."""
