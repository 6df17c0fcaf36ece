"""The send-time tool: when a contact is most likely to reply, with the evidence behind it.

The workspace's send-time model (``cadence.service.sendtime``, fitted on its own email events and
cached) recommends a slot inside the sequence's send window.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from cadence.service import sendtime
from cadence.service.records import ContactRef, contact_id_of
from cadence.tools.runner import Call, ToolArgs, read_tool

__all__ = ["send_time_tool"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class SendTimeArgs(ToolArgs):
    contact: ContactRef = Field(description="The contact's id (e.g. 42) or email address.")
    sequence_id: int | None = Field(
        None, description="Keep the recommendation inside this sequence's send window."
    )


class SendTimeResult(BaseModel):
    contact_id: int
    contact_timezone: str
    day: str = Field(description="Weekday in the contact's time zone.")
    hour: int = Field(description="Local hour (0-23) in the contact's time zone.")
    next_at: datetime | None = Field(description="The next such moment, UTC.")
    next_at_contact_time: str | None
    next_at_your_time: str | None
    expected_reply_prob: float
    level: str = Field(
        description="Most specific data behind it: contact, company, title, workspace or prior."
    )
    evidence: dict[str, int] = Field(description="Engagement events counted at each level.")
    explanation: str


def _fmt(at: datetime | None, zone: str) -> str | None:
    if at is None:
        return None
    return at.astimezone(ZoneInfo(zone)).strftime(f"%a %Y-%m-%d %H:%M ({zone})")


def recommend_send_time(args: SendTimeArgs, call: Call) -> SendTimeResult:
    """Recommend when to send to a contact: the weekday and local hour they most likely reply.

    Learned from the workspace's email events (sends, opens, clicks, replies), pooled from the
    contact to their company, role and the whole workspace when the contact has little history.

    Args:
        contact: The contact's id or email address.
        sequence_id: Keep within this sequence's send window (optional; else Mon-Fri 8-18).
    """
    contact_id = contact_id_of(call.scope, args.contact)
    rec, profile = sendtime.recommend(call.scope, contact_id, sequence_id=args.sequence_id)
    day = _DAYS[rec.day]
    basis = (
        f"{rec.evidence.get(rec.level, 0)} engagement events at the {rec.level} level"
        if rec.level != "prior"
        else "no engagement data yet (a typical working-week pattern)"
    )
    return SendTimeResult(
        contact_id=contact_id,
        contact_timezone=profile.timezone,
        day=day,
        hour=rec.hour,
        next_at=rec.next_at,
        next_at_contact_time=_fmt(rec.next_at, profile.timezone),
        next_at_your_time=_fmt(rec.next_at, call.context.timezone),
        expected_reply_prob=round(float(rec.expected_reply_prob), 4),
        level=rec.level,
        evidence=dict(rec.evidence),
        explanation=f"{day}s around {rec.hour:02d}:00 in the contact's time zone, from {basis}.",
    )


def send_time_tool() -> StructuredTool:
    return read_tool("recommend_send_time", SendTimeArgs, recommend_send_time)
