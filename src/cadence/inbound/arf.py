"""Complaints: RFC 5965 feedback reports and unsubscribe requests.

A feedback report names the complaining mailbox in Original-Rcpt-To (or Removal-Recipient); older
reports only carry the returned message, whose To header then names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from cadence.inbound.parse import addresses_in, header, header_addresses

__all__ = [
    "FeedbackReport",
    "is_unsubscribe_request",
    "normalise_feedback_type",
    "parse_feedback_report",
]

_FIELD = re.compile(r"(?im)^([A-Za-z][A-Za-z0-9-]+)[ \t]*:[ \t]*(.*(?:\n[ \t]+.*)*)")
_FEEDBACK_TYPES = {
    "abuse": "abuse",
    "fraud": "fraud",
    "opt-out": "opt-out",
    "optout": "opt-out",
    "opt out": "opt-out",
    "unsubscribe": "opt-out",
    "not-spam": "not-spam",
    "virus": "virus",
    "auth-failure": "auth-failure",
    "dkim": "auth-failure",
    "other": "other",
}
_UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*(?:unsubscribe|remove me|opt[ -]?out)\b", re.IGNORECASE)


@dataclass
class FeedbackReport:
    """The fields of a feedback report that matter to us."""

    feedback_type: str = "other"
    recipients: list[str] = field(default_factory=list)
    original_mail_from: str = ""


def normalise_feedback_type(value: str) -> str:
    """Map a Feedback-Type (or a vendor's complaint type) onto RFC 5965's names."""
    cleaned = value.strip().lower().split(";")[0].strip()
    return _FEEDBACK_TYPES.get(cleaned, cleaned or "other")


def parse_feedback_report(text: str, original: Message | None) -> FeedbackReport:
    """Read a ``message/feedback-report`` body; fall back to the returned message's To."""
    report = FeedbackReport()
    recipients: list[str] = []
    removal: list[str] = []
    for name, value in _FIELD.findall(text):
        key = name.lower()
        if key == "feedback-type":
            report.feedback_type = normalise_feedback_type(value)
        elif key == "original-rcpt-to":
            recipients.extend(addresses_in(value))
        elif key == "removal-recipient":
            removal.extend(addresses_in(value))
        elif key == "original-mail-from":
            found = addresses_in(value)
            report.original_mail_from = found[0] if found else ""
    chosen = recipients or removal
    if not chosen and original is not None:
        chosen = header_addresses(original, "To")[:1]
    report.recipients = list(dict.fromkeys(chosen))
    return report


def is_unsubscribe_request(msg: Message) -> bool:
    """A mail-client unsubscribe (RFC 2369 ``mailto:`` List-Unsubscribe) is an opt-out.

    Clients such as Apple Mail send these automatically with the subject "unsubscribe"; a person
    typing the same subject means the same thing.
    """
    if msg.get("X-Apple-Unsubscribe") is not None:
        return True
    return bool(_UNSUBSCRIBE_SUBJECT.match(header(msg, "Subject")))
