"""Small enums stored as strings."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EmailStatus", "EventType", "SuppressionReason", "TaskStatus", "TouchStatus"]


class EmailStatus(StrEnum):
    UNKNOWN = "unknown"
    VALID = "valid"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINED = "complained"


class TouchStatus(StrEnum):
    RESERVED = "reserved"  # the send is about to happen; not confirmed yet
    SENT = "sent"
    TASK_OPEN = "task_open"
    DONE = "done"  # a task completed
    SKIPPED = "skipped"
    FAILED = "failed"
    BOUNCED = "bounced"


class EventType(StrEnum):
    ENROLLED = "enrolled"
    ENROLL_SKIPPED = "enroll_skipped"
    REPLACED = "replaced"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    AUTO_REPLIED = "auto_replied"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINED = "complained"
    PAUSED = "paused"
    RESUMED = "resumed"
    STOPPED = "stopped"
    COMPLETED = "completed"
    TASK_COMPLETED = "task_completed"
    TASK_SKIPPED = "task_skipped"
    INBOUND = "inbound"  # one per message ingested from a mailbox or webhook, matched or not
    SOFT_BOUNCED = "soft_bounced"  # a temporary failure; the step is retried, three count as hard


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    MANUAL = "manual"
