"""cadence.tools."""
