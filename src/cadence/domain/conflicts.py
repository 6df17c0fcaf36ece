"""Enrollment conflicts, decided from facts alone: no I/O here, the service gathers the facts.

Each conflict carries a machine-readable code, a sentence for a person, the facts behind it, and
the resolutions it allows. ``skip`` is always allowed; ``suppressed`` allows nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from cadence.domain.specs import ChannelKind
from cadence.domain.states import TERMINAL_STATES, EnrollmentStatus
from cadence.domain.templates import missing_fields

__all__ = [
    "Conflict",
    "ConflictCode",
    "ContactFacts",
    "EnrollmentFact",
    "Resolution",
    "SequenceFacts",
    "StepFacts",
    "allowed_resolutions",
    "find_conflicts",
]


class ConflictCode(StrEnum):
    ALREADY_ENROLLED = "already_enrolled"
    ACTIVE_IN_OTHER_SEQUENCE = "active_in_other_sequence"
    DAILY_TOUCH_LIMIT = "daily_touch_limit"
    SUPPRESSED = "suppressed"
    MISSING_MERGE_FIELDS = "missing_merge_fields"
    INVALID_CONTACT = "invalid_contact"


class Resolution(StrEnum):
    REPLACE = "replace"  # stop the contact's other enrollments (or restart a finished one here)
    PARALLEL = "parallel"  # enroll alongside; every send still obeys the daily limit
    SKIP = "skip"  # do not enroll


class Conflict(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ConflictCode
    message: str
    facts: dict[str, Any]
    resolutions: list[Resolution]


@dataclass(frozen=True)
class EnrollmentFact:
    enrollment_id: int
    sequence_id: int
    sequence_name: str
    status: EnrollmentStatus
    current_step: int
    next_send_at: datetime | None


@dataclass(frozen=True)
class StepFacts:
    number: int  # 1-based
    channel: ChannelKind
    templates: tuple[tuple[str, str], ...]  # (where, source)


@dataclass(frozen=True)
class SequenceFacts:
    sequence_id: int
    name: str
    allow_reenroll: bool
    steps: tuple[StepFacts, ...]
    daily_limit: int


@dataclass(frozen=True)
class ContactFacts:
    contact_id: int
    email: str | None
    linkedin_url: str | None
    suppressed: str | None  # the reason, if the address is suppressed
    merge_context: Mapping[str, Any]
    here: EnrollmentFact | None  # this contact's enrollment in this sequence, if any
    elsewhere: Sequence[EnrollmentFact] = field(default_factory=tuple)  # live, other sequences
    first_due: datetime | None = None
    first_day: date | None = None
    touches_that_day: int = 0  # sent or scheduled, all sequences and channels


_ALL = [Resolution.REPLACE, Resolution.PARALLEL, Resolution.SKIP]


def find_conflicts(contact: ContactFacts, seq: SequenceFacts) -> list[Conflict]:
    """Every reason ``contact`` should not simply enter ``seq``, in a stable order."""
    out: list[Conflict] = []
    if contact.here is not None:
        here = contact.here
        finished = here.status in TERMINAL_STATES
        again = finished and seq.allow_reenroll
        out.append(
            Conflict(
                code=ConflictCode.ALREADY_ENROLLED,
                message=(
                    f"Already in '{seq.name}' ({here.status.value})"
                    + ("; the sequence allows enrolling again." if again else ".")
                ),
                facts={
                    "enrollment_id": here.enrollment_id,
                    "status": here.status.value,
                    "current_step": here.current_step + 1,
                    "may_reenroll": again,
                },
                resolutions=[Resolution.REPLACE, Resolution.SKIP] if again else [Resolution.SKIP],
            )
        )
    if contact.suppressed:
        out.append(
            Conflict(
                code=ConflictCode.SUPPRESSED,
                message=f"{contact.email or 'The contact'} is suppressed ({contact.suppressed}); "
                "nothing may be sent to it.",
                facts={"email": contact.email, "reason": contact.suppressed},
                resolutions=[Resolution.SKIP],
            )
        )
    if contact.elsewhere:
        names = ", ".join(f"'{e.sequence_name}'" for e in contact.elsewhere)
        out.append(
            Conflict(
                code=ConflictCode.ACTIVE_IN_OTHER_SEQUENCE,
                message=f"Active in {names}.",
                facts={
                    "enrollments": [
                        {
                            "enrollment_id": e.enrollment_id,
                            "sequence_id": e.sequence_id,
                            "sequence_name": e.sequence_name,
                            "status": e.status.value,
                            "current_step": e.current_step + 1,
                            "next_send_at": e.next_send_at.isoformat() if e.next_send_at else None,
                        }
                        for e in contact.elsewhere
                    ]
                },
                resolutions=list(_ALL),
            )
        )
    if contact.first_day is not None and contact.touches_that_day >= seq.daily_limit:
        out.append(
            Conflict(
                code=ConflictCode.DAILY_TOUCH_LIMIT,
                message=f"The first step would be touch {contact.touches_that_day + 1} on "
                f"{contact.first_day.isoformat()} (limit {seq.daily_limit} a day); with "
                "'parallel' it waits for a day with room.",
                facts={
                    "day": contact.first_day.isoformat(),
                    "touches": contact.touches_that_day,
                    "limit": seq.daily_limit,
                    "first_due": contact.first_due.isoformat() if contact.first_due else None,
                },
                resolutions=[Resolution.PARALLEL, Resolution.SKIP],
            )
        )
    missing = _missing_fields(contact, seq)
    if missing:
        fields = sorted({f for f, _ in missing})
        steps = sorted({n for _, n in missing})
        out.append(
            Conflict(
                code=ConflictCode.MISSING_MERGE_FIELDS,
                message=f"No value and no fallback for {', '.join(fields)} "
                f"(step {', '.join(map(str, steps))}).",
                facts={"fields": fields, "steps": steps},
                resolutions=[Resolution.SKIP],
            )
        )
    invalid = _invalid(contact, seq)
    if invalid:
        out.append(
            Conflict(
                code=ConflictCode.INVALID_CONTACT,
                message="; ".join(m for m, _ in invalid) + ".",
                facts={"problems": [{"problem": m, "steps": s} for m, s in invalid]},
                resolutions=[Resolution.SKIP],
            )
        )
    return out


def allowed_resolutions(conflicts: Sequence[Conflict]) -> list[Resolution]:
    """The resolutions every conflict allows (all three when there is none)."""
    allowed = set(_ALL)
    for conflict in conflicts:
        allowed &= set(conflict.resolutions)
    return [r for r in _ALL if r in allowed]


def _missing_fields(contact: ContactFacts, seq: SequenceFacts) -> list[tuple[str, int]]:
    present = [k for k, v in contact.merge_context.items() if v is not None and v != ""]
    found: list[tuple[str, int]] = []
    for step in seq.steps:
        for _where, source in step.templates:
            found.extend((name, step.number) for name in missing_fields(source, present))
    return found


def _invalid(contact: ContactFacts, seq: SequenceFacts) -> list[tuple[str, list[int]]]:
    problems: list[tuple[str, list[int]]] = []
    email_steps = [s.number for s in seq.steps if s.channel is ChannelKind.EMAIL]
    linkedin_steps = [s.number for s in seq.steps if s.channel is ChannelKind.LINKEDIN]
    if email_steps and not contact.email:
        problems.append(("no email address for the email steps", email_steps))
    if linkedin_steps and not contact.linkedin_url:
        problems.append(("no LinkedIn URL for the LinkedIn steps", linkedin_steps))
    return problems
