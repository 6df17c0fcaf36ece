"""Result types of inbound-mail classification.

Both models are frozen pydantic models so a classification can be stored as JSON next to the
raw message and compared later without re-parsing.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BouncedRecipient", "InboundKind", "InboundMessage"]


class InboundKind(StrEnum):
    """What a message that came back to a rep's mailbox is."""

    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    DELIVERY_REPORT = "delivery_report"
    OTHER = "other"


class BouncedRecipient(BaseModel):
    """One recipient a bounce, delivery report or complaint is about.

    Attributes:
        email: The recipient address, lower-cased domain; may be "" when the report names none.
        status: RFC 3463 enhanced status code such as ``5.1.1``. When the message gives none but
            the reason is known, this is sisimai's pseudo code for the reason (``5.0.911`` for
            user_unknown and so on; the ``.9xx`` detail never clashes with a real code).
        reply_code: SMTP reply code such as ``550``, or "".
        hard: True when the address itself is dead and must never be mailed again.
        reason: sisimai's reason name (``userunknown``, ``mailboxfull``, ``feedback``...).
        diagnostic: The server's own words, trimmed, for humans.
        action: RFC 3464 Action (``failed``, ``delayed``, ``delivered``...) when known.
        feedback_type: RFC 5965 Feedback-Type for complaints, else "".
    """

    model_config = ConfigDict(frozen=True)

    email: str = ""
    status: str = ""
    reply_code: str = ""
    hard: bool = False
    reason: str = ""
    diagnostic: str = ""
    action: str = ""
    feedback_type: str = ""


class InboundMessage(BaseModel):
    """The classification of one raw inbound message.

    Attributes:
        kind: What the message is.
        recipients: Failed recipients of a bounce (in report order), delivered ones of a delivery
            report, complained-about ones of a complaint (reason ``feedback``), the absent
            person of an auto-reply (reason ``vacation``); empty for replies and other mail.
        original_message_id: Message-ID of the message we sent, when it can be found in the
            returned headers, an attached copy or quoted text.
        message_id: The inbound message's own Message-ID.
        in_reply_to: Its In-Reply-To Message-ID.
        references: Its References Message-IDs, oldest first.
        from_address: Address in its From header.
        subject: Its decoded Subject.
        date: Its Date header, when parseable.
        return_date: For auto-replies, the day the person says they are back.
        feedback_type: For complaints, the RFC 5965 Feedback-Type of the report.
    """

    model_config = ConfigDict(frozen=True)

    kind: InboundKind = InboundKind.OTHER
    recipients: list[BouncedRecipient] = Field(default_factory=list)
    original_message_id: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = Field(default_factory=list)
    from_address: str = ""
    subject: str = ""
    date: dt.datetime | None = None
    return_date: dt.date | None = None
    feedback_type: str = ""
