"""Sequence tools: create one, list them, inspect one with its live enrollment counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from cadence.domain.specs import MAX_DELAY_HOURS, SequenceStatus
from cadence.service import sequences
from cadence.service.views import SequencePublic
from cadence.tools.runner import (
    Call,
    IdempotencyKey,
    ToolArgs,
    WriteArgs,
    WriteResult,
    read_tool,
    write_tool,
)

__all__ = ["create_sequence_tool", "get_sequence_tool", "list_sequences_tool"]

Channel = Literal["email", "linkedin", "task"]


class StepArgs(BaseModel):
    channel: Channel = Field(description="email, linkedin (a task to connect or message) or task.")
    delay_hours: int = Field(
        0, ge=0, le=MAX_DELAY_HOURS, description="Hours after the previous step (0 for the first)."
    )
    delay_business_days: int = Field(0, ge=0, le=90, description="Business days to wait, instead.")
    subject: str | None = Field(
        None, max_length=300, description="Email subject; the first email step needs one."
    )
    body: str = Field(
        "", max_length=50_000, description="Email text or task instructions; merge fields allowed."
    )


class SendWindowArgs(BaseModel):
    days: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], description="Weekdays, Monday 0 ... Sunday 6."
    )
    start: str = Field("08:00", description="Local opening time, HH:MM.")
    end: str = Field("18:00", description="Local closing time, HH:MM.")
    holidays: str | None = Field(None, description="Country code whose holidays are skipped.")


class CreateSequenceArgs(WriteArgs):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    steps: list[StepArgs] = Field(min_length=1, max_length=50)
    send_window: SendWindowArgs | None = Field(
        None, description="When steps may go out, in each contact's local time."
    )
    timezone: str | None = Field(
        None, description="IANA zone for contacts without one (default: the workspace's)."
    )
    activate: bool = Field(False, description="Start sending now; otherwise a draft.")
    dry_run: bool = Field(False, description="Only validate; save nothing.")
    idempotency_key: IdempotencyKey = None


class StepSummary(BaseModel):
    number: int
    step_id: int | None
    channel: str
    delay_hours: int
    delay_business_days: int
    subject: str | None
    body: str


class SequenceResult(WriteResult):
    sequence_id: int | None = Field(description="None for a dry run.")
    name: str
    status: str
    steps: list[StepSummary]
    send_window: dict[str, Any] | None


class SequenceSummary(BaseModel):
    sequence_id: int
    name: str
    status: SequenceStatus
    channels: list[str]
    step_count: int
    enrollments: dict[str, int] = Field(description="Enrollments by status.")
    updated_at: datetime


class SequenceList(BaseModel):
    sequences: list[SequenceSummary]


class SequenceDetail(SequenceSummary):
    description: str
    send_window: dict[str, Any] | None
    settings: dict[str, Any]
    steps: list[StepSummary]


def _steps(seq: SequencePublic) -> list[StepSummary]:
    return [
        StepSummary(
            number=i,
            step_id=s.id,
            channel=s.channel.value,
            delay_hours=s.delay_hours,
            delay_business_days=s.delay_business_days,
            subject=s.subject,
            body=s.body,
        )
        for i, s in enumerate(seq.steps, start=1)
    ]


def _counts(call: Call, sequence_id: int) -> dict[str, int]:
    return sequences.enrollment_counts(call.scope, sequence_id)


def _summary(call: Call, seq: SequencePublic) -> dict[str, Any]:
    return {
        "sequence_id": seq.id,
        "name": seq.name,
        "status": seq.status,
        "channels": seq.channels,
        "step_count": len(seq.steps),
        "enrollments": _counts(call, seq.id),
        "updated_at": seq.updated_at,
    }


def create_sequence(args: CreateSequenceArgs, call: Call) -> SequenceResult:
    """Create an outreach sequence: ordered email, LinkedIn and task steps with delays.

    It is saved as a draft unless activate is true. Validated like any sequence: the first
    email step needs a subject, delays are bounded, and merge fields must exist, e.g.
    "Hi {{first_name|there}}" (a fallback after "|" is used when the contact has no value).

    Args:
        name: The sequence's name.
        description: What it is for (optional).
        steps: Ordered steps; each has channel, delay_hours (or delay_business_days) after the
            previous step, subject (email) and body.
        send_window: Days and local hours when steps may go out (optional).
        timezone: Zone for contacts without one (optional).
        activate: Start sending now (default false: a draft).
        dry_run: Validate only, save nothing.
        idempotency_key: Optional; a repeated key returns the first result.
    """
    spec_data: dict[str, Any] = {
        "name": args.name,
        "description": args.description,
        "steps": [s.model_dump() for s in args.steps],
        "send_window": args.send_window.model_dump() if args.send_window else None,
        "settings": {"timezone": args.timezone},
    }
    if args.dry_run:
        spec = sequences.validate_sequence(call.scope, spec_data)
        return SequenceResult(
            dry_run=True,
            sequence_id=None,
            name=spec.name,
            status="active" if args.activate else "draft",
            steps=[
                StepSummary(
                    number=i,
                    step_id=None,
                    **s.model_dump(mode="json", include=set(StepArgs.model_fields)),
                )
                for i, s in enumerate(spec.steps, start=1)
            ],
            send_window=spec.send_window.model_dump() if spec.send_window else None,
        )
    seq = sequences.create_sequence(call.scope, spec_data, activate=args.activate)
    return SequenceResult(
        sequence_id=seq.id,
        name=seq.name,
        status=seq.status.value,
        steps=_steps(seq),
        send_window=seq.send_window,
    )


class ListSequencesArgs(ToolArgs):
    status: SequenceStatus | None = Field(
        None, description="Only sequences in this status: draft, active, paused or archived."
    )


def list_sequences(args: ListSequencesArgs, call: Call) -> SequenceList:
    """List the workspace's sequences with their status, channels and enrollment counts.

    Args:
        status: Only this status (draft, active, paused, archived); all when left out.
    """
    found = sequences.list_sequences(call.scope, status=args.status)
    return SequenceList(
        sequences=[SequenceSummary.model_validate(_summary(call, s)) for s in found]
    )


class GetSequenceArgs(ToolArgs):
    sequence_id: int = Field(description="The sequence's id (see list_sequences).")


def get_sequence(args: GetSequenceArgs, call: Call) -> SequenceDetail:
    """Show one sequence: its steps in order, send window, settings and live enrollment counts.

    Args:
        sequence_id: The sequence's id.
    """
    seq = sequences.get_sequence(call.scope, args.sequence_id)
    return SequenceDetail.model_validate(
        {
            **_summary(call, seq),
            "description": seq.description,
            "send_window": seq.send_window,
            "settings": seq.settings,
            "steps": _steps(seq),
        }
    )


def create_sequence_tool() -> StructuredTool:
    return write_tool(
        "create_sequence",
        CreateSequenceArgs,
        create_sequence,
        action="create_sequence",
        target_type="sequence",
        target_id=lambda r: r.get("sequence_id"),
    )


def list_sequences_tool() -> StructuredTool:
    return read_tool("list_sequences", ListSequencesArgs, list_sequences)


def get_sequence_tool() -> StructuredTool:
    return read_tool("get_sequence", GetSequenceArgs, get_sequence)
