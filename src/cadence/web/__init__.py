"""cadence.web."""
