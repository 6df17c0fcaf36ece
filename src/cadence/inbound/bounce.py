"""Turn DSN records, SES notifications and prose reports into ``BouncedRecipient`` entries.

Whatever the source, each recipient ends up with the server's words (diagnostic), and the same
steps then derive status, reply code, SMTP command, reason and hard/soft from them.
"""

from __future__ import annotations

import re
from email.message import Message

from cadence.inbound.codes import (
    find_command,
    find_reply_code,
    find_status,
    prefer_status,
    pseudo_status,
)
from cadence.inbound.dsn import DsnRecord
from cadence.inbound.model import BouncedRecipient
from cadence.inbound.parse import header_addresses
from cadence.inbound.reasons import classify_reason, is_hard, is_vague
from cadence.inbound.ses import SesNotification
from cadence.inbound.structure import Structure
from cadence.inbound.vendors import TextRecipient, text_recipients, vendor_reason

__all__ = ["dsn_recipients", "ses_recipients", "text_bounce_recipients"]

_TEMPORARY = re.compile(
    r"\bdelay(?:ed)?\b|warning|temporar(?:y|ily)|will (?:keep|continue|retry)|still trying"
    r"|not yet been delivered|will be retried|deferred|will try again",
    re.IGNORECASE,
)
_PERMANENT = re.compile(r"permanent|gave up|giving up|given up|fatal|failed permanently", re.I)
_DIAGNOSTIC_CAP = 2000


def build_recipient(
    email: str,
    diagnostic: str,
    *,
    status_field: str = "",
    action: str = "",
    diagnostic_type: str = "",
    context: str = "",
    block: str = "",
    temporary: bool = False,
    authoritative: bool = False,
) -> BouncedRecipient:
    """Derive status, reply code, reason and hard/soft for one failed recipient.

    Args:
        email: The recipient address.
        diagnostic: The server's words about this recipient.
        status_field: RFC 3464 Status value, when the report has one.
        action: RFC 3464 Action value.
        diagnostic_type: Diagnostic-Code type (``smtp``, ``x-unix``...).
        context: Wider report text, consulted when ``diagnostic`` alone says nothing.
        block: Report text between this recipient and the next, searched for codes that the
            diagnostic paragraph lacks.
        temporary: The report as a whole says delivery is only delayed.
        authoritative: ``diagnostic`` is a machine-readable field (Diagnostic-Code), so wider
            prose is only consulted when it says nothing at all.
    """
    in_text = find_status(diagnostic) or find_status(block)
    reply = find_reply_code(diagnostic, status_field or in_text) or find_reply_code(
        block, status_field or in_text
    )
    status = prefer_status(status_field, in_text, reply)
    if not reply and status:
        reply = find_reply_code(diagnostic, status)
    command = find_command(diagnostic) or find_command(block) or find_command(context)
    reason = _reason(
        diagnostic, block, context, status, reply, command, action, diagnostic_type, authoritative
    )
    if not status:
        is_temporary = (
            temporary or action == "delayed" or reply.startswith("4")
        ) and not reply.startswith("5")
        status = pseudo_status(reason, is_temporary)
    return BouncedRecipient(
        email=email,
        status=status,
        reply_code=reply,
        hard=is_hard(reason, status, reply),
        reason=reason,
        diagnostic=_tidy(diagnostic or context),
        action=action or ("delayed" if temporary else "failed"),
    )


def _reason(
    diagnostic: str,
    block: str,
    context: str,
    status: str,
    reply: str,
    command: str,
    action: str,
    diagnostic_type: str,
    authoritative: bool,
) -> str:
    """Classify the narrowest text that says something; widen only while the answer is vague."""
    first = ""
    for index, words in enumerate(dict.fromkeys(t for t in (diagnostic, block, context) if t)):
        found = classify_reason(
            words,
            status,
            reply,
            command=command,
            action=action,
            diagnostic_type=diagnostic_type if index == 0 else "",
        )
        if not is_vague(found, status):
            return found
        if authoritative and index == 0 and found not in ("onhold", "undefined"):
            return found
        first = first or found
    hinted = vendor_reason(context or diagnostic)
    if hinted and first in ("onhold", "undefined", ""):
        return hinted
    return first or classify_reason("", status, reply, command=command, action=action)


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:_DIAGNOSTIC_CAP]


def _our_addresses(msg: Message, parts: Structure) -> set[str]:
    """Addresses that are us (the sender and the mailbox the report came to), never recipients."""
    ours: set[str] = set()
    for name in ("To", "Cc", "From", "Sender"):
        ours.update(header_addresses(msg, name))
    original = parts.original
    if original is not None:
        for name in ("From", "Sender", "Reply-To", "Return-Path"):
            ours.update(header_addresses(original, name))
    return ours


def dsn_recipients(
    records: list[DsnRecord], parts: Structure, msg: Message
) -> list[BouncedRecipient]:
    """Recipients of an RFC 3464 report, filling gaps in each record from the prose part."""
    prose: dict[str, str] = {}
    if any(not r.diagnostic for r in records):
        prose = {t.email: t.diagnostic for t in text_recipients(parts.report, set())}
    found: list[BouncedRecipient] = []
    for record in records:
        email = record.email
        diagnostic = record.diagnostic or prose.get(email, "")
        found.append(
            build_recipient(
                email,
                diagnostic,
                status_field=record.status,
                action=record.action,
                diagnostic_type=record.diagnostic_type,
                context=parts.report,
                temporary=record.action == "delayed",
                authoritative=bool(record.diagnostic),
            )
        )
    return found


def ses_recipients(note: SesNotification) -> list[BouncedRecipient]:
    """Recipients of an Amazon SES bounce or delivery notification."""
    temporary = note.bounce_type.lower() == "transient"
    found: list[BouncedRecipient] = []
    for item in note.recipients:
        diagnostic = item.diagnostic
        diagnostic_type = ""
        kind, sep, rest = diagnostic.partition(";")
        if sep and " " not in kind.strip():
            diagnostic_type, diagnostic = kind.strip().lower(), rest.strip()
        found.append(
            build_recipient(
                item.email,
                diagnostic,
                status_field=item.status,
                action=item.action,
                diagnostic_type=diagnostic_type,
                context=note.bounce_subtype,
                temporary=temporary,
            )
        )
    return found


def text_bounce_recipients(msg: Message, parts: Structure, subject: str) -> list[BouncedRecipient]:
    """Recipients of a prose bounce, with fallbacks when the prose names nobody."""
    report = parts.report if parts.report.strip() else parts.text
    temporary = bool(_TEMPORARY.search(subject)) or (
        bool(_TEMPORARY.search(report)) and not _PERMANENT.search(report)
    )
    ours = _our_addresses(msg, parts)
    found = text_recipients(report, ours)
    failed = header_addresses(msg, "X-Failed-Recipients")
    if failed:
        # The MTA's own list of failed addresses beats guessing from prose.
        described = {item.email: item for item in found}
        found = [
            described.get(address) or TextRecipient(email=address, diagnostic=report)
            for address in dict.fromkeys(failed)
        ]
    if not found:
        found = _fallback_recipients(msg, parts, report)
    return [
        build_recipient(
            item.email,
            item.diagnostic,
            context=report,
            block=item.block,
            temporary=temporary,
        )
        for item in found
    ]


def _fallback_recipients(msg: Message, parts: Structure, report: str) -> list[TextRecipient]:
    failed = header_addresses(msg, "X-Failed-Recipients")
    if not failed and parts.original is not None:
        failed = header_addresses(parts.original, "To")[:1]
    if not failed:
        failed = [a for a in header_addresses(msg, "X-Original-To") if a]
    unique = list(dict.fromkeys(failed)) or [""]
    return [TextRecipient(email=address, diagnostic=report) for address in unique]
