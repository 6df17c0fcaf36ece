"""cadence.graph."""
