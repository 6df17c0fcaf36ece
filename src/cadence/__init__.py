"""Cadence: multi-step, multi-channel outreach sequences and the agent that runs them."""

__version__ = "0.1.0"
