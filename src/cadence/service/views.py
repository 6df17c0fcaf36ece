"""What the service returns: plain, JSON-able models, never the tables themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from cadence.domain.specs import ChannelKind, SequenceStatus
from cadence.domain.states import EnrollmentStatus
from cadence.store.enums import EmailStatus

__all__ = [
    "ContactPublic",
    "EnrollmentPublic",
    "SequencePublic",
    "StepPublic",
    "WorkspacePublic",
]


class _View(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class WorkspacePublic(_View):
    id: int
    name: str
    timezone: str
    sender_name: str | None
    sender_email: str | None
    postal_address: str | None
    daily_touch_limit: int | None
    custom_fields: list[str]


class ContactPublic(_View):
    id: int
    external_id: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    title: str | None
    industry: str | None
    timezone: str | None
    linkedin_url: str | None
    attributes: dict[str, Any]
    email_status: EmailStatus


class StepPublic(_View):
    id: int
    position: int
    channel: ChannelKind
    delay_hours: int
    delay_business_days: int
    subject: str | None
    body: str
    html_body: str | None
    conditions: dict[str, Any]


class SequencePublic(_View):
    id: int
    name: str
    description: str
    status: SequenceStatus
    active: bool
    channels: list[str]
    send_window: dict[str, Any] | None
    settings: dict[str, Any]
    steps: list[StepPublic]
    created_at: datetime
    updated_at: datetime


class EnrollmentPublic(_View):
    id: int
    contact_id: int
    sequence_id: int
    current_step_id: int | None
    current_step: int
    status: EnrollmentStatus
    next_send_at: datetime | None
    stop_reason: str | None
    enrolled_at: datetime
    finished_at: datetime | None
