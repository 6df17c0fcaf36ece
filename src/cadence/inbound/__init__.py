"""cadence.inbound."""
