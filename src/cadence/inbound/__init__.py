"""Classify mail that comes back to reps' mailboxes: replies, auto-replies, bounces, complaints.

The entry point is :func:`classify_message`, a pure function from raw bytes to an
:class:`InboundMessage`; it never raises on malformed input.
"""

from cadence.inbound.classify import classify_message
from cadence.inbound.model import BouncedRecipient, InboundKind, InboundMessage

__all__ = ["BouncedRecipient", "InboundKind", "InboundMessage", "classify_message"]
