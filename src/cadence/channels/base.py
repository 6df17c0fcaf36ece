"""The channel contract: what the engine hands a channel, and what it gets back.

A channel turns one :class:`OutgoingEmail` into one delivery attempt and reports the outcome as a
:class:`SendResult`. Delivery problems are *results*, not exceptions: a channel raises only when the
input itself is unusable (a :class:`~cadence.errors.InvalidInput`). A host that wants to plug in its
own provider (an HTTP API, a queue) implements :class:`Channel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol, runtime_checkable

from cadence.errors import (  # re-exported here
    ChannelError,
    PermanentSendError,
    TransientSendError,
)

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelSession",
    "OutgoingEmail",
    "PermanentSendError",
    "SendResult",
    "SendStatus",
    "ThreadRef",
    "TransientSendError",
]

SendStatus = Literal["sent", "bounced", "failed"]


@dataclass(frozen=True)
class ThreadRef:
    """The previous message of a thread, so a follow-up can be sent as a reply to it.

    Attributes:
        message_id: The previous message's ``Message-ID`` (with or without angle brackets).
        references: The previous message's own ``References``, oldest first.
        subject: The subject of the first email of the thread (a ``Re:`` prefix is tolerated).
    """

    message_id: str
    references: tuple[str, ...] = ()
    subject: str = ""


@dataclass(frozen=True)
class OutgoingEmail:
    """Everything needed to build one message; the engine builds it from a touch.

    Attributes:
        touch_key: Unique id of the touch; used in the ``Message-ID`` and in link tokens.
        from_address: Sender address (``rep@example.com``).
        from_name: Sender display name, or ``None``.
        to_address: Recipient address.
        to_name: Recipient display name, or ``None``.
        subject: Rendered subject of this step; ``""`` when the step threads under the first email.
        text_body: Rendered plain text.
        html_body: Rendered, already-escaped HTML, or ``None`` to derive HTML from the text.
        thread: The previous message of the thread for a reply-style follow-up, or ``None``.
        unsubscribe_url: One-click unsubscribe URL (RFC 8058), or ``None``.
        postal_address: The workspace's postal address for the footer (CAN-SPAM), or ``None``.
        open_pixel_url: URL of the open-tracking pixel (HTML part only), or ``None``.
        reply_to: ``Reply-To`` address, or ``None``.
        headers: Extra headers (``X-...`` and the like); structural headers are refused.
    """

    touch_key: str
    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    text_body: str
    html_body: str | None
    thread: ThreadRef | None
    unsubscribe_url: str | None
    postal_address: str | None
    open_pixel_url: str | None = None
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Freeze the extra headers too: a caller mutating its dict must not change this email.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))


@dataclass(frozen=True)
class SendResult:
    """The outcome of one delivery attempt.

    Attributes:
        status: ``"sent"`` (accepted by the server), ``"bounced"`` (the recipient or the content
            was refused for good) or ``"failed"`` (not delivered; see ``transient``).
        message_id: The ``Message-ID`` of the message, with angle brackets.
        transient: True when trying again later may succeed (4xx, connection trouble).
        smtp_code: The server's reply code, or ``None`` when there was no reply.
        detail: Human-readable description (the server's text, or the error).
    """

    status: SendStatus
    message_id: str
    transient: bool
    smtp_code: int | None
    detail: str

    @property
    def ok(self) -> bool:
        """True when the message was accepted for delivery."""
        return self.status == "sent"

    def raise_for_status(self) -> None:
        """Raise the typed error matching this result, or return when it was sent.

        Raises:
            TransientSendError: The attempt failed and may succeed later.
            PermanentSendError: The message bounced or failed for good.
        """
        if self.ok:
            return
        if self.transient:
            raise TransientSendError(self)
        raise PermanentSendError(self)


class ChannelSession(Protocol):
    """An open channel (a connection, a client) that sends many emails in a row."""

    def send(self, email: OutgoingEmail, /) -> SendResult:
        """Deliver one email; report the outcome instead of raising for delivery problems."""
        ...


@runtime_checkable
class Channel(Protocol):
    """A provider that delivers :class:`OutgoingEmail`; implement it to plug in your own.

    ``send`` must not raise for delivery problems (it returns a :class:`SendResult`); it may raise
    :class:`~cadence.errors.InvalidInput` when the email itself cannot be built.
    """

    def send(self, email: OutgoingEmail, /) -> SendResult:
        """Deliver one email on its own."""
        ...

    def session(self) -> AbstractContextManager[ChannelSession]:
        """Open the channel once to deliver a batch: ``with ch.session() as s: s.send(e)``."""
        ...
