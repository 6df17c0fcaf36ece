"""Value types of the send-time model: events in, contacts, windows and recommendations out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cadence.errors import InvalidInput

__all__ = [
    "HOURS_PER_WEEK",
    "WORKDAYS",
    "ContactProfile",
    "EngagementEvent",
    "EventType",
    "Recommendation",
    "Window",
]

HOURS_PER_WEEK = 168
WORKDAYS: frozenset[int] = frozenset(range(5))

EventType = Literal["sent", "delivered", "opened", "clicked", "replied"]
_EVENT_TYPES: frozenset[str] = frozenset({"sent", "delivered", "opened", "clicked", "replied"})


@dataclass(frozen=True)
class EngagementEvent:
    """One thing that happened to one email for one contact.

    Attributes:
        contact_id: The contact the email went to.
        type: ``sent``/``delivered`` are exposure (an email landed at that moment);
            ``opened``/``clicked``/``replied`` are engagement, in increasing strength.
        at: When it happened, an aware datetime (any offset; UTC expected).
    """

    contact_id: str
    type: EventType
    at: datetime

    def __post_init__(self) -> None:
        if self.type not in _EVENT_TYPES:
            raise InvalidInput(f"unknown event type {self.type!r}", field="type", value=self.type)
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidInput(f"event time {self.at!r} is naive", field="at", value=self.at)


@dataclass(frozen=True)
class ContactProfile:
    """What the model knows about a contact besides their history.

    Attributes:
        id: Contact id, matching ``EngagementEvent.contact_id``.
        timezone: IANA zone name; local slots are read on this clock.
        title: Free-text job title; normalised to a role family.
        company: Company name; used for pooling when ``domain`` is missing or a free-mail domain.
        domain: Email or company domain.
    """

    id: str
    timezone: str
    title: str | None = None
    company: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class Window:
    """When sending is allowed, in the contact's local time.

    Attributes:
        days: Allowed weekdays, Monday 0 .. Sunday 6.
        start_hour: First allowed local hour (0-23).
        end_hour: End of the window (1-24, exclusive): slot hours are ``start_hour..end_hour-1``.
            An ``end_hour`` below ``start_hour`` wraps past midnight (e.g. 20 to 2).
    """

    days: frozenset[int] = field(default=WORKDAYS)
    start_hour: int = 8
    end_hour: int = 18

    def __post_init__(self) -> None:
        if not self.days or any(not 0 <= d <= 6 for d in self.days):
            raise InvalidInput(f"window days {sorted(self.days)} invalid", field="days")
        if not 0 <= self.start_hour <= 23:
            raise InvalidInput("start_hour must be 0-23", field="start_hour", value=self.start_hour)
        if not 1 <= self.end_hour <= 24 or self.end_hour == self.start_hour:
            raise InvalidInput(
                "end_hour must be 1-24, not start", field="end_hour", value=self.end_hour
            )

    @property
    def hours(self) -> tuple[int, ...]:
        """The allowed local hours of an allowed day."""
        if self.end_hour > self.start_hour:
            return tuple(range(self.start_hour, self.end_hour))
        return tuple(range(self.start_hour, 24)) + tuple(range(self.end_hour))

    def slots(self) -> list[int]:
        """The allowed hour-of-week slots (``day * 24 + hour``), ascending."""
        return sorted(d * 24 + h for d in self.days for h in self.hours)


@dataclass(frozen=True)
class Recommendation:
    """The slot chosen for a contact and why.

    Attributes:
        slot: Local hour of the week, 0..167 (Monday 00:00 local is 0).
        day: ``slot // 24``, Monday 0.
        hour: ``slot % 24``.
        expected_reply_prob: Posterior-mean probability that an email sent in this slot is
            replied to.
        evidence: Engagement events counted at each level (``contact``, ``company``, ``title``,
            ``workspace``); each level's count includes the more specific ones.
        level: The most specific level whose data shaped the estimate: ``contact``, ``company``,
            ``title``, ``workspace`` or ``prior``.
        next_at: With ``after``, the first UTC instant strictly after it whose local clock is at
            the start of this slot; otherwise ``None``.
    """

    slot: int
    day: int
    hour: int
    expected_reply_prob: float
    evidence: dict[str, int]
    level: str
    next_at: datetime | None = None
