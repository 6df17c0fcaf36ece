"""Classify raw inbound mail: reply, auto-reply, bounce, complaint, delivery report or other.

Order matters: a complaint or bounce often also carries ``Auto-Submitted`` and quotes our
message, so machine reports are recognised first, auto-replies next and people last.
"""

from __future__ import annotations

import re
from datetime import date
from email.message import Message

from cadence.inbound.arf import is_unsubscribe_request, normalise_feedback_type
from cadence.inbound.arf import parse_feedback_report as _parse_arf
from cadence.inbound.autoreply import is_auto_reply, is_auto_reply_subject, return_date
from cadence.inbound.bounce import (
    dsn_recipients,
    ses_recipients,
    text_bounce_recipients,
)
from cadence.inbound.dsn import DsnRecord, parse_dsn_fields
from cadence.inbound.model import BouncedRecipient, InboundKind, InboundMessage
from cadence.inbound.parse import (
    addresses_in,
    header,
    header_date,
    load,
    message_ids_in,
)
from cadence.inbound.ses import SesNotification, parse_ses_notification
from cadence.inbound.structure import Structure, collect
from cadence.inbound.vendors import looks_like_bounce

__all__ = ["classify_message"]

_SUCCESS_ACTIONS = frozenset({"delivered", "deliverable", "relayed", "expanded"})
_REPLY_SUBJECT = re.compile(
    r"^\s*(?:re|aw|sv|antw|antwort|ref|rif|res|odp|vs)\s*(?:\[\d+\])?:", re.I
)
_TEXT_DSN = re.compile(r"(?im)^(?:Final|Original)-Recipient\s*:")


def classify_message(raw: bytes, *, today: date | None = None) -> InboundMessage:
    """Classify one raw inbound message; never raises.

    Args:
        raw: The message as received, any line endings, possibly truncated or huge (only the
            first few MB are parsed).
        today: Reference day for year-less return dates when the message has no usable Date.

    Returns:
        The classification. Malformed input yields ``other`` with whatever headers survived.
    """
    try:
        return _classify(raw if isinstance(raw, bytes) else bytes(raw), today)
    except Exception:  # pragma: no cover - defensive: the contract is "never raises"
        return InboundMessage(kind=InboundKind.OTHER)


def _classify(raw: bytes, today: date | None) -> InboundMessage:
    msg = load(raw)
    parts = collect(msg)
    base = _envelope(msg, parts)
    subject = base.subject

    note = parse_ses_notification(parts.text)
    complaint = _complaint(msg, parts, note)
    if complaint is not None:
        feedback_type, complained = complaint
        return base.model_copy(
            update={
                "kind": InboundKind.COMPLAINT,
                "recipients": complained,
                "feedback_type": feedback_type,
            }
        )

    report = _delivery_report(msg, parts, subject, note)
    if report is not None:
        kind, recipients = report
        return base.model_copy(update={"kind": kind, "recipients": recipients})

    if is_auto_reply(msg, subject, parts.text):
        reference = base.date.date() if base.date is not None else (today or date.today())
        away = addresses_in(header(msg, "From"))[:1] or [""]
        # The person who is away, so callers can pause them the way they pause a bounce.
        absent = [BouncedRecipient(email=away[0], reason="vacation", action="auto-replied")]
        return base.model_copy(
            update={
                "kind": InboundKind.AUTO_REPLY,
                "recipients": absent,
                "return_date": return_date(f"{subject}\n{parts.text}", reference),
            }
        )

    is_reply = bool(base.in_reply_to or base.references or _REPLY_SUBJECT.match(subject))
    return base.model_copy(update={"kind": InboundKind.REPLY if is_reply else InboundKind.OTHER})


def _envelope(msg: Message, parts: Structure) -> InboundMessage:
    """Header facts every classification carries, as an ``other`` message."""
    own_ids = message_ids_in(header(msg, "Message-ID"))
    in_reply_to = message_ids_in(header(msg, "In-Reply-To"))
    references = message_ids_in(header(msg, "References"))
    senders = addresses_in(header(msg, "From"))
    # A person's reply or an auto-reply points at our message through its threading headers.
    original = parts.original_message_id() or (
        in_reply_to[0] if in_reply_to else (references[-1] if references else "")
    )
    return InboundMessage(
        kind=InboundKind.OTHER,
        message_id=own_ids[0] if own_ids else header(msg, "Message-ID").strip(),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=references,
        from_address=senders[0] if senders else "",
        subject=header(msg, "Subject"),
        date=header_date(msg),
        original_message_id=original,
    )


def _complaint(
    msg: Message, parts: Structure, note: SesNotification | None
) -> tuple[str, list[BouncedRecipient]] | None:
    """Feedback type and complained-about recipients, or None when this is no complaint."""
    if parts.feedback_texts or parts.report_type == "feedback-report":
        text = "\n".join(parts.feedback_texts) or parts.text
        report = _parse_arf(text, parts.original)
        return report.feedback_type, _complained(report.recipients, report.feedback_type)
    if note is not None and note.kind == "complaint":
        feedback_type = normalise_feedback_type(note.feedback_type)
        return feedback_type, _complained([r.email for r in note.recipients], feedback_type)
    if is_unsubscribe_request(msg):
        senders = addresses_in(header(msg, "From"))
        return "opt-out", _complained(senders[:1], "opt-out")
    return None


def _complained(addresses: list[str], feedback_type: str) -> list[BouncedRecipient]:
    if not addresses:
        addresses = [""]
    return [
        BouncedRecipient(email=a, reason="feedback", feedback_type=feedback_type) for a in addresses
    ]


def _delivery_report(
    msg: Message, parts: Structure, subject: str, note: SesNotification | None
) -> tuple[InboundKind, list[BouncedRecipient]] | None:
    """Bounce or delivery report, from a DSN, an SES notification or prose; None otherwise."""
    if note is not None and note.kind in ("bounce", "delivery"):
        recipients = ses_recipients(note)
        kind = InboundKind.BOUNCE if note.kind == "bounce" else InboundKind.DELIVERY_REPORT
        return kind, recipients

    records: list[DsnRecord] = []
    dsn_texts = list(parts.dsn_texts)
    if not dsn_texts and _TEXT_DSN.search(parts.text):
        # A report whose MIME structure broke, or one forwarded inline: the fields are text.
        dsn_texts.append(parts.text)
    for text in dsn_texts:
        records.extend(parse_dsn_fields(text)[1])
    if records:
        failed = [r for r in records if r.action not in _SUCCESS_ACTIONS]
        if not failed:
            successes = dsn_recipients(records, parts, msg)
            return InboundKind.DELIVERY_REPORT, successes
        return InboundKind.BOUNCE, dsn_recipients(failed, parts, msg)

    if parts.disposition_notification or parts.report_type == "disposition-notification":
        return InboundKind.DELIVERY_REPORT, []

    sender = f"{header(msg, 'From')} {header(msg, 'Sender')}"
    null_sender = header(msg, "Return-Path").strip() in ("<>", "") and "Return-Path" in msg
    bounce_like = parts.report_type == "delivery-status" or looks_like_bounce(
        subject, sender, parts.text, null_sender
    )
    if not bounce_like or is_auto_reply_subject(subject):
        return None
    return InboundKind.BOUNCE, text_bounce_recipients(msg, parts, subject)
