"""Typed errors raised by Cadence.

Everything Cadence raises on purpose is a ``CadenceError``. Each carries a message that names the
field and the value at fault, so an edge (the CLI, the web app, an agent tool) can show it as it is.

    CadenceError                 anything Cadence refuses to do
    ├── InvalidInput             bad input at a boundary (field, value)
    │   ├── InvalidStep          a sequence step that cannot run (channel, delay, body, subject)
    │   ├── UnknownMergeField    a template names a field no contact can have
    │   ├── InvalidEmail         an email address that cannot be delivered to
    │   ├── ResolutionNotAllowed a resolution one of the contact's conflicts does not allow
    │   ├── TemplateError        a template that does not parse or that the sandbox refuses
    │   └── EmptyMessage         an inbound-mail webhook that delivered no message
    ├── InvalidToken             a signed link that is malformed, tampered with or expired
    ├── NotFound                 unknown id, or an id that belongs to another workspace
    ├── InvalidTransition        a state change the transition table does not allow
    ├── SequenceNotEnrollable    enrolling into a draft, paused or archived sequence
    ├── EnrollmentConflict       enrolling met conflicts and no resolution was given
    │   └── AlreadyEnrolled      the contact is already in this sequence
    ├── ChannelError             a delivery attempt did not succeed (``result`` says how)
    │   ├── TransientSendError   4xx or a connection problem: may succeed later
    │   └── PermanentSendError   5xx: refused for good
    ├── StepFailed               a step failed transiently inside a job; RQ retries it
    ├── MailboxError             an IMAP mailbox could not be read
    └── ConfigurationError       Cadence is set up wrongly (settings, database, Redis)

Translate only at the edges: an HTTP 4xx in ``web``, an exit code in the CLI, a tool message for
the model. Inside, errors propagate typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadence.channels.base import SendResult

__all__ = [
    "AlreadyEnrolled",
    "CadenceError",
    "ChannelError",
    "ConfigurationError",
    "EmptyMessage",
    "EnrollmentConflict",
    "InvalidEmail",
    "InvalidInput",
    "InvalidStep",
    "InvalidToken",
    "InvalidTransition",
    "MailboxError",
    "NotFound",
    "PermanentSendError",
    "ResolutionNotAllowed",
    "SequenceNotEnrollable",
    "StepFailed",
    "TemplateError",
    "TransientSendError",
    "UnknownMergeField",
]


class CadenceError(Exception):
    """Base of every error Cadence raises on purpose."""

    code = "cadence_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description for tools and HTTP responses."""
        return {"error": self.code, "message": self.message}


class InvalidInput(CadenceError):
    """Bad input at a boundary; ``field`` and ``value`` name what was wrong."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.field is not None:
            out["field"] = self.field
        return out


class InvalidStep(InvalidInput):
    """A sequence step that cannot run."""

    code = "invalid_step"


class UnknownMergeField(InvalidInput):
    """A template uses a merge field that is neither standard nor a known custom attribute."""

    code = "unknown_merge_field"

    def __init__(self, merge_field: str, *, step: int | None, where: str) -> None:
        at = f"step {step} {where}" if step is not None else where
        super().__init__(
            f"unknown merge field {{{{{merge_field}}}}} in {at}",
            field=where,
            value=merge_field,
        )
        self.merge_field = merge_field
        self.step = step


class InvalidEmail(InvalidInput):
    """An email address that cannot be delivered to."""

    code = "invalid_email"


class ResolutionNotAllowed(InvalidInput):
    """A resolution that one of the contact's conflicts does not allow."""

    code = "resolution_not_allowed"


class NotFound(CadenceError):
    """An id that does not exist in this workspace (it may exist in another; we do not say)."""

    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class InvalidTransition(CadenceError):
    """A state change that the transition table does not allow."""

    code = "invalid_transition"

    def __init__(self, state: str, event: str, *, target: str | None = None) -> None:
        to = f" to {target!r}" if target else ""
        super().__init__(f"cannot {event} an enrollment in state {state!r}{to}")
        self.state = state
        self.event = event
        self.target = target


class SequenceNotEnrollable(CadenceError):
    """Enrolling into a sequence whose status does not take new enrollments."""

    code = "sequence_not_enrollable"


class EnrollmentConflict(CadenceError):
    """Enrolling met conflicts and no resolution was given; ``report`` lists them."""

    code = "enrollment_conflict"

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if hasattr(self.report, "model_dump"):
            out["report"] = self.report.model_dump(mode="json")
        return out


class AlreadyEnrolled(EnrollmentConflict):
    """The contact already has an enrollment in this sequence (its only conflict)."""

    code = "already_enrolled"

    def __init__(self, contact_id: int, sequence_id: int, report: Any = None) -> None:
        super().__init__(
            f"contact {contact_id} is already enrolled in sequence {sequence_id}", report
        )
        self.contact_id = contact_id
        self.sequence_id = sequence_id


class ConfigurationError(CadenceError):
    """Cadence is set up wrongly: a setting, the database or Redis."""

    code = "configuration_error"


class TemplateError(InvalidInput):
    """A template that does not parse or uses something the sandbox refuses."""

    code = "invalid_template"


class EmptyMessage(InvalidInput):
    """A webhook delivered no message at all."""

    code = "empty_message"


class InvalidToken(CadenceError):
    """A token that is malformed, tampered with, signed for another purpose, or expired."""

    code = "invalid_token"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid token: {reason}")
        self.reason = reason


class ChannelError(CadenceError):
    """A delivery attempt did not succeed; ``result`` holds the details."""

    code = "channel_error"

    def __init__(self, result: SendResult) -> None:
        code = f" {result.smtp_code}" if result.smtp_code is not None else ""
        super().__init__(f"{result.status}{code}: {result.detail} ({result.message_id})")
        self.result = result


class TransientSendError(ChannelError):
    """A delivery attempt failed in a way that may succeed later (4xx, connection problems)."""

    code = "transient_send_error"


class PermanentSendError(ChannelError):
    """A delivery attempt was refused for good (5xx: bounce, rejected sender, bad credentials)."""

    code = "permanent_send_error"


class StepFailed(CadenceError):
    """A step failed transiently; RQ retries it."""

    code = "step_failed"


class MailboxError(CadenceError):
    """The mailbox could not be read: connection, TLS, login or protocol failure."""

    code = "mailbox_error"
