"""Amazon SES notifications delivered by e-mail (SNS topic subscriptions): JSON, not MIME.

The body is one JSON document with ``notificationType`` Bounce, Complaint or Delivery. Long lines
are sometimes broken by relays that insert ``!`` + newline + space (sendmail's line splitting),
which is undone before decoding.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SesNotification", "parse_ses_notification"]

_START = re.compile(r'\{\s*"(?:notificationType|eventType)"')


@dataclass
class SesRecipient:
    """One recipient of an SES notification."""

    email: str
    status: str = ""
    action: str = ""
    diagnostic: str = ""


@dataclass
class SesNotification:
    """What an SES notification says."""

    kind: str
    bounce_type: str = ""
    bounce_subtype: str = ""
    feedback_type: str = ""
    recipients: list[SesRecipient] = field(default_factory=list)
    message_id: str = ""


def _decode(body: str) -> dict[str, Any] | None:
    for candidate in (body, re.sub(r"!\n ", "", body), re.sub(r"!?\n ?", "", body)):
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            inner = value.get("Message")
            # An SNS envelope carries the SES event as a JSON string in "Message".
            if isinstance(inner, str) and "notificationType" in inner:
                return _decode(inner.strip())
            return value
    return None


def _salvage(text: str) -> dict[str, Any] | None:
    """Rebuild the fields we need from JSON a relay has truncated or wrapped beyond repair."""
    flat = re.sub(r"!?\n ?", "", text).replace('\\"', '"')
    kind = re.search(r'"(?:notificationType|eventType)"\s*:\s*"(\w+)"', flat)
    if not kind:
        return None
    recipients: list[dict[str, str]] = []
    starts = [m for m in re.finditer(r'"emailAddress"\s*:\s*"([^"]+)"', flat)]
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(flat)
        chunk = flat[match.end() : min(end, match.end() + 600)].split("}", 1)[0]
        item = {"emailAddress": match.group(1)}
        for key in ("status", "action", "diagnosticCode"):
            found = re.search(rf'"{key}"\s*:\s*"([^"]*)"', chunk)
            if found:
                item[key] = found.group(1)
        recipients.append(item)
    bounce_type = re.search(r'"bounceType"\s*:\s*"(\w+)"', flat)
    feedback = re.search(r'"complaintFeedbackType"\s*:\s*"([\w-]+)"', flat)
    return {
        "notificationType": kind.group(1),
        "bounce": {
            "bounceType": bounce_type.group(1) if bounce_type else "",
            "bouncedRecipients": recipients,
        },
        "complaint": {
            "complaintFeedbackType": feedback.group(1) if feedback else "",
            "complainedRecipients": recipients,
        },
        "delivery": {"recipients": [r["emailAddress"] for r in recipients]},
    }


def _load(text: str) -> dict[str, Any] | None:
    match = _START.search(text)
    if match:
        decoded = _decode(text[match.start() :])
        if decoded is not None:
            return decoded
    envelope = re.search(r'\{\s*"Type"\s*:\s*"Notification"', text)
    if envelope:
        decoded = _decode(text[envelope.start() :])
        if decoded is not None:
            return decoded
    return _salvage(text)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_ses_notification(text: str) -> SesNotification | None:
    """Decode an SES notification found in ``text``, or None when there is none."""
    if "notificationType" not in text and "eventType" not in text:
        return None
    data = _load(text)
    if data is None:
        return None
    kind = _str(data.get("notificationType") or data.get("eventType")).lower()
    mail = data.get("mail")
    message_id = _str(mail.get("messageId")) if isinstance(mail, dict) else ""
    note = SesNotification(kind=kind, message_id=message_id)
    if kind == "bounce":
        bounce = _dict(data.get("bounce"))
        note.bounce_type = _str(bounce.get("bounceType"))
        note.bounce_subtype = _str(bounce.get("bounceSubType"))
        for item in bounce.get("bouncedRecipients") or []:
            if isinstance(item, dict):
                note.recipients.append(
                    SesRecipient(
                        email=_str(item.get("emailAddress")).lower(),
                        status=_str(item.get("status")),
                        action=_str(item.get("action")).lower(),
                        diagnostic=_str(item.get("diagnosticCode")),
                    )
                )
    elif kind == "complaint":
        complaint = _dict(data.get("complaint"))
        note.feedback_type = _str(complaint.get("complaintFeedbackType")) or "abuse"
        for item in complaint.get("complainedRecipients") or []:
            if isinstance(item, dict):
                note.recipients.append(SesRecipient(email=_str(item.get("emailAddress")).lower()))
    elif kind == "delivery":
        delivery = _dict(data.get("delivery"))
        for address in delivery.get("recipients") or []:
            note.recipients.append(SesRecipient(email=_str(address).lower(), action="delivered"))
    return note
