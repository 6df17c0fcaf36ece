"""SQLModel tables. Every table is named ``crm_*`` and every row carries ``workspace_id``.

Tables are the store's own shape; what the service returns are the ``*Public`` models in
``cadence.service.views``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cadence.domain.specs import ChannelKind, SequenceStatus
from cadence.domain.states import EnrollmentStatus
from cadence.store.enums import (
    EmailStatus,
    EventType,
    SuppressionReason,
    TaskStatus,
    TouchStatus,
)
from cadence.store.types import JSONType, StrEnumType, UTCDateTime

__all__ = [
    "AuditEntry",
    "Contact",
    "CrmSequence",
    "CrmSequenceEnrollment",
    "CrmSequenceStep",
    "DeadLetter",
    "EngagementEvent",
    "InboundMailbox",
    "Suppression",
    "Task",
    "Touch",
    "Workspace",
]

# 64-bit ids on PostgreSQL; SQLite's rowid alias must be spelled INTEGER.
_ID = BigInteger().with_variant(Integer(), "sqlite")


def _pk() -> Any:
    return Field(default=None, sa_column=Column(_ID, primary_key=True, autoincrement=True))


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(_ID, ForeignKey(target, ondelete=ondelete), nullable=nullable),
    )


def _ws() -> Any:
    return _fk("crm_workspaces.id")


def _when(*, nullable: bool = True) -> Any:
    return Field(default=None if nullable else ..., sa_type=UTCDateTime, nullable=nullable)


def _json() -> Any:
    return Field(default_factory=dict, sa_type=JSONType, nullable=False)


class Workspace(SQLModel, table=True):
    """A tenant: one sales team. Everything else belongs to exactly one."""

    __tablename__ = "crm_workspaces"

    id: int | None = _pk()
    name: str = Field(max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    sender_name: str | None = Field(default=None, max_length=200)
    sender_email: str | None = Field(default=None, max_length=320)
    postal_address: str | None = Field(default=None, max_length=500)
    daily_touch_limit: int | None = None  # None: the setting's default
    custom_fields: list[str] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    created_at: datetime = _when(nullable=False)


class Contact(SQLModel, table=True):
    __tablename__ = "crm_contacts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "email", name="uq_crm_contacts_email"),
        UniqueConstraint("workspace_id", "external_id", name="uq_crm_contacts_external_id"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    external_id: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    industry: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    linkedin_url: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, sa_type=Text)
    attributes: dict[str, Any] = _json()
    email_status: EmailStatus = Field(
        default=EmailStatus.UNKNOWN, sa_type=StrEnumType(EmailStatus), nullable=False
    )
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class CrmSequence(SQLModel, table=True):
    __tablename__ = "crm_sequences"
    __table_args__ = (Index("ix_crm_sequences_workspace_status", "workspace_id", "status"),)

    id: int | None = _pk()
    workspace_id: int = _ws()
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    status: SequenceStatus = Field(
        default=SequenceStatus.DRAFT, sa_type=StrEnumType(SequenceStatus), nullable=False
    )
    # The channels its live steps use, kept by the service whenever steps change.
    channels: list[str] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    send_window: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    settings: dict[str, Any] = _json()
    owner: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)

    @property
    def active(self) -> bool:
        return self.status is SequenceStatus.ACTIVE


class CrmSequenceStep(SQLModel, table=True):
    """A step keeps its id for life; edits change it in place and deletion only marks it."""

    __tablename__ = "crm_sequence_steps"
    __table_args__ = (Index("ix_crm_sequence_steps_sequence", "sequence_id", "position"),)

    id: int | None = _pk()
    workspace_id: int = _ws()
    sequence_id: int = _fk("crm_sequences.id")
    position: int = Field(ge=0)
    channel: ChannelKind = Field(sa_type=StrEnumType(ChannelKind), nullable=False)
    delay_hours: int = Field(default=0)
    delay_business_days: int = Field(default=0)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(default="", sa_type=Text, nullable=False)
    html_body: str | None = Field(default=None, sa_type=Text)
    conditions: dict[str, Any] = _json()
    deleted_at: datetime | None = _when()
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class CrmSequenceEnrollment(SQLModel, table=True):
    """One contact's way through one sequence; the pending rows are the schedule of record."""

    __tablename__ = "crm_sequence_enrollments"
    __table_args__ = (
        UniqueConstraint("contact_id", "sequence_id", name="uq_crm_enrollments_contact_sequence"),
        # The promoter's query: due rows by status and time.
        Index("ix_crm_enrollments_due", "status", "next_send_at"),
        # A contact's live enrollments (conflicts, stop on bounce/unsubscribe).
        Index("ix_crm_enrollments_contact_status", "contact_id", "status"),
        # A sequence's enrollments by status (counts, pause, analytics).
        Index("ix_crm_enrollments_sequence_status", "sequence_id", "status"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    contact_id: int = _fk("crm_contacts.id")
    sequence_id: int = _fk("crm_sequences.id")
    # The step the enrollment is at (stable id) and its 0-based place among the live steps.
    current_step_id: int | None = _fk("crm_sequence_steps.id", nullable=True, ondelete="SET NULL")
    current_step: int = Field(default=0)
    cycle: int = Field(default=1)  # 1, then one more each time a finished contact is re-enrolled
    status: EnrollmentStatus = Field(sa_type=StrEnumType(EnrollmentStatus), nullable=False)
    paused_from: EnrollmentStatus | None = Field(
        default=None, sa_type=StrEnumType(EnrollmentStatus)
    )
    next_send_at: datetime | None = _when()
    paused_until: datetime | None = _when()
    last_touched_at: datetime | None = _when()
    stop_reason: str | None = Field(default=None, max_length=200)
    # The promoter's mark: the current step sits in RQ under this job id since this time.
    job_id: str | None = Field(default=None, max_length=200)
    enqueued_at: datetime | None = _when()
    enrolled_by: str | None = Field(default=None, max_length=200)
    enrolled_at: datetime = _when(nullable=False)
    finished_at: datetime | None = _when()
    updated_at: datetime = _when(nullable=False)


class Touch(SQLModel, table=True):
    """One executed step: reserved before the send, confirmed after it."""

    __tablename__ = "crm_touches"
    __table_args__ = (
        UniqueConstraint(
            "enrollment_id", "step_id", "cycle", name="uq_crm_touches_enrollment_step_cycle"
        ),
        # The daily limit: a contact's touches in a time range.
        Index("ix_crm_touches_contact_time", "contact_id", "touched_at"),
        Index("ix_crm_touches_message_id", "message_id"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    enrollment_id: int = _fk("crm_sequence_enrollments.id")
    contact_id: int = _fk("crm_contacts.id")
    sequence_id: int = _fk("crm_sequences.id")
    step_id: int = _fk("crm_sequence_steps.id")
    cycle: int = Field(default=1)  # the enrollment's cycle: a re-enrollment runs the steps anew
    channel: ChannelKind = Field(sa_type=StrEnumType(ChannelKind), nullable=False)
    status: TouchStatus = Field(sa_type=StrEnumType(TouchStatus), nullable=False)
    touched_at: datetime = _when(nullable=False)
    sent_at: datetime | None = _when()
    message_id: str | None = Field(default=None, max_length=300)
    attempts: int = Field(default=0)
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)


class EngagementEvent(SQLModel, table=True):
    __tablename__ = "crm_engagement_events"
    __table_args__ = (
        Index("ix_crm_events_contact_time", "contact_id", "occurred_at"),
        Index("ix_crm_events_workspace_type_time", "workspace_id", "type", "occurred_at"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    contact_id: int | None = _fk("crm_contacts.id", nullable=True)
    enrollment_id: int | None = _fk(
        "crm_sequence_enrollments.id", nullable=True, ondelete="SET NULL"
    )
    touch_id: int | None = _fk("crm_touches.id", nullable=True, ondelete="SET NULL")
    type: EventType = Field(sa_type=StrEnumType(EventType), nullable=False)
    occurred_at: datetime = _when(nullable=False)
    data: dict[str, Any] = _json()


class Task(SQLModel, table=True):
    """A LinkedIn touch or manual task for the sequence owner; the enrollment waits on it."""

    __tablename__ = "crm_tasks"
    __table_args__ = (
        Index("ix_crm_tasks_owner_status_due", "workspace_id", "owner", "status", "due_at"),
        Index("ix_crm_tasks_enrollment", "enrollment_id"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    enrollment_id: int = _fk("crm_sequence_enrollments.id")
    contact_id: int = _fk("crm_contacts.id")
    step_id: int = _fk("crm_sequence_steps.id")
    touch_id: int | None = _fk("crm_touches.id", nullable=True, ondelete="SET NULL")
    kind: ChannelKind = Field(sa_type=StrEnumType(ChannelKind), nullable=False)
    owner: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_type=Text, nullable=False)
    status: TaskStatus = Field(
        default=TaskStatus.OPEN, sa_type=StrEnumType(TaskStatus), nullable=False
    )
    due_at: datetime = _when(nullable=False)
    completed_at: datetime | None = _when()
    completed_by: str | None = Field(default=None, max_length=200)


class Suppression(SQLModel, table=True):
    """An address never to be mailed again in this workspace, and why."""

    __tablename__ = "crm_suppressions"
    __table_args__ = (UniqueConstraint("workspace_id", "email", name="uq_crm_suppressions_email"),)

    id: int | None = _pk()
    workspace_id: int = _ws()
    email: str = Field(max_length=320)
    contact_id: int | None = _fk("crm_contacts.id", nullable=True, ondelete="SET NULL")
    reason: SuppressionReason = Field(sa_type=StrEnumType(SuppressionReason), nullable=False)
    source: str | None = Field(default=None, max_length=200)
    created_at: datetime = _when(nullable=False)


class DeadLetter(SQLModel, table=True):
    """A step that will not run by itself again: retries ran out, or a send was never confirmed."""

    __tablename__ = "crm_dead_letters"
    __table_args__ = (
        Index("ix_crm_dead_letters_open", "workspace_id", "resolved_at"),
        Index("ix_crm_dead_letters_enrollment", "enrollment_id"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    enrollment_id: int = _fk("crm_sequence_enrollments.id")
    step_id: int | None = _fk("crm_sequence_steps.id", nullable=True, ondelete="SET NULL")
    touch_id: int | None = _fk("crm_touches.id", nullable=True, ondelete="SET NULL")
    job_id: str | None = Field(default=None, max_length=200)
    reason: str = Field(max_length=64)  # retries_exhausted | unconfirmed_send | permanent_error
    error: str | None = Field(default=None, sa_type=Text)
    attempts: int = Field(default=0)
    created_at: datetime = _when(nullable=False)
    resolved_at: datetime | None = _when()
    resolution: str | None = Field(default=None, max_length=32)  # retried | discarded | marked_sent
    resolved_by: str | None = Field(default=None, max_length=200)


class AuditEntry(SQLModel, table=True):
    """Who changed what, through which tool; and the idempotency key that makes a retry harmless."""

    __tablename__ = "crm_audit_log"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key", name="uq_crm_audit_idempotency"),
        Index("ix_crm_audit_workspace_time", "workspace_id", "created_at"),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    actor: str = Field(max_length=200)
    source: str = Field(max_length=100)  # e.g. "tool:enroll_contact", "web", "cli"
    action: str = Field(max_length=100)
    target_type: str | None = Field(default=None, max_length=50)
    target_id: str | None = Field(default=None, max_length=100)
    arguments: dict[str, Any] = _json()
    result: dict[str, Any] = _json()
    idempotency_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = _when(nullable=False)


class InboundMailbox(SQLModel, table=True):
    """How far the IMAP poller has read one mailbox: UIDs up to ``last_uid`` under ``uidvalidity``.

    IMAP UIDs and UIDVALIDITY are unsigned 32-bit numbers, hence the 64-bit columns.
    """

    __tablename__ = "crm_inbound_mailboxes"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "host", "user", "mailbox", name="uq_crm_inbound_mailboxes_mailbox"
        ),
    )

    id: int | None = _pk()
    workspace_id: int = _ws()
    host: str = Field(max_length=255)
    user: str = Field(max_length=320)
    mailbox: str = Field(max_length=255)
    uidvalidity: int | None = Field(default=None, sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger, nullable=False)
    updated_at: datetime = _when(nullable=False)
