"""Pause and resume: a whole sequence, or one contact's enrollment in it."""

from __future__ import annotations

from typing import Literal

from langchain_core.tools import StructuredTool
from pydantic import Field

from cadence.domain.specs import SequenceStatus
from cadence.errors import InvalidInput, NotFound
from cadence.service import enrollments, sequences
from cadence.service.records import ContactRef, contact_id_of
from cadence.service.views import EnrollmentPublic
from cadence.tools.runner import (
    Call,
    IdempotencyKey,
    WriteArgs,
    WriteResult,
    write_tool,
)

__all__ = ["pause_sequence_tool", "resume_sequence_tool"]


class PauseArgs(WriteArgs):
    sequence_id: int = Field(description="The sequence's id.")
    contact: ContactRef | None = Field(
        None,
        description="Only this contact's enrollment (id or email); leave out for the whole "
        "sequence.",
    )
    idempotency_key: IdempotencyKey = None


class PauseResult(WriteResult):
    scope: Literal["sequence", "enrollment"]
    sequence_id: int
    sequence_status: str | None = None
    enrollment: EnrollmentPublic | None = None


def _enrollment_id(call: Call, sequence_id: int, contact: ContactRef) -> int:
    contact_id = contact_id_of(call.scope, contact)
    rows = enrollments.list_enrollments(call.scope, sequence_id=sequence_id, contact_id=contact_id)
    if not rows:
        raise NotFound("enrollment of contact in sequence", f"{contact_id} in {sequence_id}")
    return rows[0].id


def pause_sequence(args: PauseArgs, call: Call) -> PauseResult:
    """Pause a whole sequence, or one contact's enrollment in it; each keeps its place.

    Pausing a whole sequence stops every send in it and is confirmed by the user first.

    Args:
        sequence_id: The sequence's id.
        contact: Only this contact (id or email); leave out to pause the whole sequence.
        idempotency_key: Optional; a repeated key returns the first result.
    """
    if args.contact is None:
        seq = sequences.pause_sequence(call.scope, args.sequence_id)
        return PauseResult(scope="sequence", sequence_id=seq.id, sequence_status=seq.status.value)
    row = enrollments.pause_enrollment(
        call.scope, _enrollment_id(call, args.sequence_id, args.contact)
    )
    return PauseResult(scope="enrollment", sequence_id=args.sequence_id, enrollment=row)


def resume_sequence(args: PauseArgs, call: Call) -> PauseResult:
    """Resume a paused sequence, or one contact's paused enrollment, where it stopped.

    Resuming a draft sequence starts it. Steps that fell due while paused go out when the send
    window next opens.

    Args:
        sequence_id: The sequence's id.
        contact: Only this contact (id or email); leave out to resume the whole sequence.
        idempotency_key: Optional; a repeated key returns the first result.
    """
    if args.contact is None:
        current = sequences.get_sequence(call.scope, args.sequence_id)
        if current.status is SequenceStatus.ARCHIVED:
            raise InvalidInput(
                f"sequence {args.sequence_id} is archived and cannot be resumed",
                field="sequence_id",
                value=args.sequence_id,
            )
        seq = sequences.activate_sequence(call.scope, args.sequence_id)
        return PauseResult(scope="sequence", sequence_id=seq.id, sequence_status=seq.status.value)
    row = enrollments.resume_enrollment(
        call.scope, _enrollment_id(call, args.sequence_id, args.contact)
    )
    return PauseResult(scope="enrollment", sequence_id=args.sequence_id, enrollment=row)


def _target_type(args: PauseArgs) -> str:
    return "sequence" if args.contact is None else "enrollment"


def _target(result: dict[str, object]) -> object:
    enrollment = result.get("enrollment")
    if isinstance(enrollment, dict):
        return enrollment.get("id")
    return result.get("sequence_id")


def pause_sequence_tool() -> StructuredTool:
    return write_tool(
        "pause_sequence",
        PauseArgs,
        pause_sequence,
        action="pause",
        target_type=_target_type,
        target_id=_target,
    )


def resume_sequence_tool() -> StructuredTool:
    return write_tool(
        "resume_sequence",
        PauseArgs,
        resume_sequence,
        action="resume",
        target_type=_target_type,
        target_id=_target,
    )
