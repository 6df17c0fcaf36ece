"""cadence.ai."""
