"""cadence.domain."""
