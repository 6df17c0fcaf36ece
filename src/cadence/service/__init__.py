"""cadence.service."""
