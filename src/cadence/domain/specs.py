"""What callers hand to Cadence: sequences, steps and contacts, validated at the boundary.

Pydantic does the checking; ``parse`` turns its errors into ``CadenceError`` subclasses whose
message names the field and the value, so every edge reports the same thing.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cadence.errors import InvalidEmail, InvalidInput, InvalidStep

__all__ = [
    "MAX_DELAY_HOURS",
    "ChannelKind",
    "ContactSpec",
    "SendWindowSpec",
    "SequenceSettings",
    "SequenceSpec",
    "SequenceStatus",
    "StepConditions",
    "StepSpec",
    "normalize_email",
    "parse",
]

MAX_DELAY_HOURS = 2160  # 90 days
_ATTR_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


class ChannelKind(StrEnum):
    EMAIL = "email"
    LINKEDIN = "linkedin"
    TASK = "task"


class SequenceStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


def normalize_email(value: str) -> str:
    """The lower-cased, validated form of an address.

    Raises:
        InvalidEmail: the address is malformed.
    """
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(
            f"email {value!r} is not valid: {exc}", field="email", value=value
        ) from None
    return checked.normalized.lower()


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class StepConditions(_Spec):
    """When a step is skipped rather than executed."""

    skip_if_opened: bool = False
    skip_if_clicked: bool = False


class StepSpec(_Spec):
    """One step of a sequence. ``id`` keeps an existing step when a sequence is edited."""

    id: int | None = None
    channel: ChannelKind
    delay_hours: int = Field(0, ge=0, le=MAX_DELAY_HOURS)
    delay_business_days: int = Field(0, ge=0, le=90)
    subject: str | None = Field(None, max_length=300)
    body: str = Field("", max_length=50_000)
    html_body: str | None = Field(None, max_length=200_000)
    conditions: StepConditions = StepConditions()

    @model_validator(mode="after")
    def _email_needs_body(self) -> StepSpec:
        if self.channel is ChannelKind.EMAIL and not self.body:
            raise ValueError("an email step needs a body")
        return self


class SendWindowSpec(_Spec):
    """Days (Monday 0) and local hours when steps may go out; ``holidays`` is a country code."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: str = "08:00"
    end: str = "18:00"
    holidays: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> SendWindowSpec:
        from cadence.domain.schedule import parse_window

        parse_window(self.model_dump())
        return self


class SequenceSettings(_Spec):
    allow_reenroll: bool = False
    final_wait_hours: int | None = Field(None, ge=0, le=MAX_DELAY_HOURS)
    timezone: str | None = None  # for contacts without one; else the workspace's
    smart_send_time: bool = False  # send each step at the contact's best hour (send-time model)
    track_opens: bool = False  # an open pixel in HTML emails (opens are weak, noisy evidence)

    _zone = field_validator("timezone")(_check_zone)


class SequenceSpec(_Spec):
    """A whole sequence as a caller describes it."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    steps: tuple[StepSpec, ...] = Field(min_length=1, max_length=50)
    send_window: SendWindowSpec | None = None
    settings: SequenceSettings = SequenceSettings()

    @model_validator(mode="after")
    def _first_email_has_subject(self) -> SequenceSpec:
        for step in self.steps:
            if step.channel is ChannelKind.EMAIL:
                if not step.subject:
                    raise ValueError("the first email step needs a subject")
                break
        ids = [s.id for s in self.steps if s.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("a step id appears twice")
        return self

    @property
    def channels(self) -> list[ChannelKind]:
        return list(dict.fromkeys(s.channel for s in self.steps))


AttrValue = str | int | float | bool | None


class ContactSpec(_Spec):
    """A contact to create or update; matched by ``external_id`` first, then by email."""

    email: str | None = None
    external_id: str | None = Field(None, max_length=200)
    first_name: str | None = Field(None, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=300)
    title: str | None = Field(None, max_length=300)
    industry: str | None = Field(None, max_length=200)
    timezone: str | None = None
    linkedin_url: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=20_000)
    attributes: dict[str, AttrValue] = Field(default_factory=dict)

    _zone = field_validator("timezone")(_check_zone)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return normalize_email(value)
        except InvalidEmail as exc:
            raise ValueError(exc.message) from exc

    @field_validator("linkedin_url")
    @classmethod
    def _linkedin(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://([a-z0-9-]+\.)*linkedin\.com/", value, re.I):
            raise ValueError("a LinkedIn URL starts with https://www.linkedin.com/")
        return value or None

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, AttrValue]) -> dict[str, AttrValue]:
        from cadence.domain.templates import STANDARD_FIELDS

        for key in value:
            if not _ATTR_KEY.match(key):
                raise ValueError(f"attribute name {key!r} must be lower_snake_case")
            if key in STANDARD_FIELDS:
                raise ValueError(f"attribute name {key!r} is a standard field")
        return value

    @model_validator(mode="after")
    def _identified(self) -> ContactSpec:
        if not self.email and not self.external_id:
            raise ValueError("a contact needs an email or an external_id")
        return self


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: M | dict[str, Any]) -> M:
    """Validate ``data`` as ``model``, raising a typed error that names the field and value.

    Raises:
        InvalidStep: a step of a sequence is wrong.
        InvalidEmail: an email address is wrong.
        InvalidInput: anything else is wrong.
    """
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _typed(model, exc) from None
    except InvalidInput:
        raise


def _typed(model: type[BaseModel], exc: ValidationError) -> InvalidInput:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    field = ".".join(loc) if loc else model.__name__
    value = err.get("input")
    message = str(err["msg"]).removeprefix("Value error, ")
    shown = repr(value) if not isinstance(value, dict) else "{…}"
    if len(shown) > 80:
        shown = shown[:77] + "…"
    if loc[:1] == ["steps"] and len(loc) >= 2 and loc[1].isdigit():
        where = f"step {int(loc[1]) + 1}" + (f" {'.'.join(loc[2:])}" if loc[2:] else "")
        return InvalidStep(f"{where}: {message} (got {shown})", field=field, value=value)
    text = f"{field}: {message} (got {shown})"
    if loc[-1:] == ["email"]:
        return InvalidEmail(text, field=field, value=value)
    return InvalidInput(text, field=field, value=value)
