"""Send-time model: learn when each contact engages, by local hour of the week, and pick slots.

Public API::

    from cadence.ai.sendtime import (
        ContactProfile, EngagementEvent, Recommendation, SendTimeModel, Window,
    )

    model = SendTimeModel(seed=0).fit(events, contacts)
    rec = model.recommend(contact, Window(start_hour=8, end_hour=18), after=now)

See :mod:`cadence.ai.sendtime.model` for the method, :mod:`~cadence.ai.sendtime.evidence` for
how events become rates, and :mod:`~cadence.ai.sendtime.pooling` for the hierarchy.
"""

from __future__ import annotations

from cadence.ai.sendtime.model import EVENT_WEIGHTS, SendTimeModel
from cadence.ai.sendtime.roles import ROLE_FAMILIES, company_key, role_family
from cadence.ai.sendtime.types import (
    HOURS_PER_WEEK,
    ContactProfile,
    EngagementEvent,
    EventType,
    Recommendation,
    Window,
)

__all__ = [
    "EVENT_WEIGHTS",
    "HOURS_PER_WEEK",
    "ROLE_FAMILIES",
    "ContactProfile",
    "EngagementEvent",
    "EventType",
    "Recommendation",
    "SendTimeModel",
    "Window",
    "company_key",
    "role_family",
]
