"""Enrollment tools: check conflicts, enroll one contact or many, explain an enrollment."""

from __future__ import annotations

from typing import Literal, Self

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, model_validator

from cadence.domain.conflicts import Conflict
from cadence.service import enrolling, enrollments
from cadence.service.enrolling import ConflictReport, EnrollOutcome
from cadence.service.explain import WhyNotSent, why_not_sent
from cadence.service.records import ContactRef, contact_id_of, contact_ids_of
from cadence.service.views import EnrollmentPublic
from cadence.tools.runner import (
    Call,
    IdempotencyKey,
    ToolArgs,
    WriteArgs,
    WriteResult,
    read_tool,
    write_tool,
)

__all__ = [
    "MAX_BULK",
    "check_conflicts_tool",
    "enroll_contact_tool",
    "enroll_contacts_tool",
    "enrollment_status_tool",
]

MAX_BULK = 1000  # contacts per bulk call
ResolutionName = Literal["replace", "parallel", "skip"]
_CONTACT = "The contact's id (e.g. 42) or email address."
_RESOLUTION = (
    "How to handle conflicts: replace (stop their other sequences), parallel (enroll anyway; "
    "sends still obey the daily limit) or skip. Leave out unless the user chose."
)


class EnrollContactArgs(WriteArgs):
    contact: ContactRef = Field(description=_CONTACT)
    sequence_id: int = Field(description="The sequence's id (see list_sequences).")
    resolution: ResolutionName | None = Field(None, description=_RESOLUTION)
    dry_run: bool = Field(False, description="Only show what would happen; change nothing.")
    idempotency_key: IdempotencyKey = None


class EnrollResult(WriteResult):
    contact_id: int
    sequence_id: int
    action: Literal["enrolled", "reenrolled", "skipped"]
    reason: str | None = None
    resolution: ResolutionName | None = None
    replaced_enrollment_ids: list[int] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    enrollment: EnrollmentPublic | None = None


def _result(
    outcome: EnrollOutcome, sequence_id: int, resolution: str | None, dry_run: bool
) -> EnrollResult:
    return EnrollResult.model_validate(
        {
            "dry_run": dry_run,
            "contact_id": outcome.contact_id,
            "sequence_id": sequence_id,
            "action": outcome.action,
            "reason": outcome.reason,
            "resolution": resolution,
            "replaced_enrollment_ids": outcome.replaced,
            "conflicts": outcome.conflicts,
            "enrollment": outcome.enrollment,
        }
    )


def enroll_contact(args: EnrollContactArgs, call: Call) -> EnrollResult:
    """Enroll one contact in a sequence.

    If the contact has conflicts (already enrolled, active in another sequence, daily touch
    limit, suppressed, missing merge fields) and no resolution is given, nothing happens and the
    conflicts come back; the user then chooses replace, parallel or skip.

    Args:
        contact: The contact's id or email address.
        sequence_id: The sequence's id.
        resolution: replace, parallel or skip; only when the user chose one.
        dry_run: Show what would happen without enrolling.
        idempotency_key: Optional; a repeated key returns the first result.
    """
    contact_id = contact_id_of(call.scope, args.contact)
    outcome = enrolling.enroll(
        call.scope,
        contact_id,
        args.sequence_id,
        resolution=args.resolution,
        dry_run=args.dry_run,
    )
    return _result(outcome, args.sequence_id, args.resolution, args.dry_run)


class EnrollContactsArgs(WriteArgs):
    contacts: list[ContactRef] = Field(
        min_length=1, max_length=MAX_BULK, description="Contact ids or email addresses."
    )
    sequence_id: int = Field(description="The sequence's id (see list_sequences).")
    resolution: ResolutionName | None = Field(
        None, description=_RESOLUTION + " Contacts whose conflicts forbid it are skipped."
    )
    dry_run: bool = Field(False, description="Only show what would happen; change nothing.")
    idempotency_key: IdempotencyKey = None


class BulkLine(BaseModel):
    contact_id: int
    action: Literal["enrolled", "reenrolled", "skipped"]
    reason: str | None = None
    enrollment_id: int | None = None
    replaced_enrollment_ids: list[int] = Field(default_factory=list)


class BulkEnrollResult(WriteResult):
    sequence_id: int
    resolution: ResolutionName | None
    counts: dict[str, int]
    outcomes: list[BulkLine]


def enroll_contacts(args: EnrollContactsArgs, call: Call) -> BulkEnrollResult:
    """Enroll many contacts in a sequence at once, with one conflict policy for all.

    The user confirms bulk enrollments before they run. Without a resolution, any conflict stops
    the whole call and the conflicts come back; with one, contacts whose conflicts do not allow
    it are skipped with the reason.

    Args:
        contacts: Contact ids or email addresses (up to 1000).
        sequence_id: The sequence's id.
        resolution: replace, parallel or skip, for every conflicted contact.
        dry_run: Show what would happen without enrolling.
        idempotency_key: Optional; a repeated key returns the first result.
    """
    ids = list(dict.fromkeys(contact_ids_of(call.scope, args.contacts)))
    result = enrolling.enroll_many(
        call.scope, args.sequence_id, ids, resolution=args.resolution, dry_run=args.dry_run
    )
    return BulkEnrollResult(
        dry_run=args.dry_run,
        sequence_id=args.sequence_id,
        resolution=args.resolution,
        counts=result.counts,
        outcomes=[
            BulkLine(
                contact_id=o.contact_id,
                action=o.action,
                reason=o.reason,
                enrollment_id=o.enrollment.id if o.enrollment else None,
                replaced_enrollment_ids=o.replaced,
            )
            for o in result.outcomes
        ],
    )


class CheckConflictsArgs(ToolArgs):
    sequence_id: int = Field(description="The sequence's id.")
    contacts: list[ContactRef] = Field(
        min_length=1, max_length=MAX_BULK, description="Contact ids or email addresses."
    )


def check_sequence_conflicts(args: CheckConflictsArgs, call: Call) -> ConflictReport:
    """Check, without changing anything, why contacts should not simply enter a sequence.

    For each contact: its conflicts (code, message, facts) and the resolutions allowed
    (replace, parallel, skip). No conflicts means it can be enrolled as is.

    Args:
        sequence_id: The sequence's id.
        contacts: Contact ids or email addresses.
    """
    ids = contact_ids_of(call.scope, args.contacts)
    return enrolling.check_sequence_conflicts(call.scope, args.sequence_id, ids)


class EnrollmentStatusArgs(ToolArgs):
    enrollment_id: int | None = Field(None, description="The enrollment's id, if known.")
    contact: ContactRef | None = Field(None, description=_CONTACT)
    sequence_id: int | None = Field(None, description="Only the contact's enrollment here.")

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.enrollment_id is None and self.contact is None:
            raise ValueError("give enrollment_id, or contact (optionally with sequence_id)")
        return self


class EnrollmentStatus(BaseModel):
    enrollment: EnrollmentPublic
    why_not_sent: WhyNotSent


class EnrollmentStatusList(BaseModel):
    enrollments: list[EnrollmentStatus]


def get_enrollment_status(args: EnrollmentStatusArgs, call: Call) -> EnrollmentStatusList:
    """Show where a contact stands in a sequence, and why the next step has not gone out yet.

    The explanation names the reason (paused, sequence paused, daily limit, outside the send
    window, waiting for the delay, suppressed, missing merge field, open task, due...).

    Args:
        enrollment_id: The enrollment's id; or
        contact: the contact's id or email (all their enrollments), optionally with
        sequence_id: only their enrollment in this sequence.
    """
    if args.enrollment_id is not None:
        rows = [enrollments.get_enrollment(call.scope, args.enrollment_id)]
    else:
        assert args.contact is not None
        rows = enrollments.list_enrollments(
            call.scope,
            contact_id=contact_id_of(call.scope, args.contact),
            sequence_id=args.sequence_id,
        )
    return EnrollmentStatusList(
        enrollments=[
            EnrollmentStatus(enrollment=row, why_not_sent=why_not_sent(call.scope, row.id))
            for row in rows
        ]
    )


def enroll_contact_tool() -> StructuredTool:
    return write_tool(
        "enroll_contact",
        EnrollContactArgs,
        enroll_contact,
        action="enroll",
        target_type="contact",
        target_id=lambda r: r.get("contact_id"),
    )


def enroll_contacts_tool() -> StructuredTool:
    return write_tool(
        "enroll_contacts",
        EnrollContactsArgs,
        enroll_contacts,
        action="enroll_many",
        target_type="sequence",
        target_id=lambda r: r.get("sequence_id"),
    )


def check_conflicts_tool() -> StructuredTool:
    return read_tool("check_sequence_conflicts", CheckConflictsArgs, check_sequence_conflicts)


def enrollment_status_tool() -> StructuredTool:
    return read_tool("get_enrollment_status", EnrollmentStatusArgs, get_enrollment_status)
