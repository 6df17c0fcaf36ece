"""Bounces without a machine-readable report: find who failed and what the server said.

qmail, Exim, Gmail, Yahoo, Domino, Courier, old Sendmail, Exchange 2003 and most webmail
providers write the report as prose followed by a copy of the message. The shapes differ but the
ideas repeat: a preamble, one block per failed address (the address at the start of a line, then
the server's words), and a marker line before the returned message. This module parses those
ideas rather than any one vendor's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cadence.inbound.parse import addresses_at

__all__ = [
    "TextRecipient",
    "looks_like_bounce",
    "split_report",
    "text_recipients",
    "vendor_reason",
]

# Services whose reports never quote an SMTP answer but whose cause is known from the service:
# a Google Groups "could not post" notice (sent in the poster's language) is a refusal of the
# sender, not a problem with the group's address.
_VENDOR_REASONS = ((re.compile(r"groups\.google\.com/support", re.IGNORECASE), "rejected"),)

_COPY_MARKER = re.compile(
    r"(?im)^[ \t>*=_-]{0,80}(?:"
    r"(?:this is |here is |following is |below is |enclosed is )?a copy of (?:the |your )?"
    r"(?:original |returned )?message|"
    r"below this line is a copy|"
    r"(?:original|returned|unsent|undelivered|rejected) (?:message|mail|e-?mail)"
    r"(?: headers?)?(?: (?:follows?|below|is attached|attached|as follows))?[ \t:.*=_-]*$|"
    r"(?:original|returned) message follows|"
    r"(?:the )?(?:original )?message headers? (?:follows?|below)|"
    r"(?:the )?headers? of (?:the |your )?(?:original )?message|"
    r"original message headers|"
    r"content-type: (?:message/rfc822|text/rfc822-headers)"
    r")"
)
_HEADER_LINE = re.compile(
    r"^(?:Return-Path|Received|Message-I[Dd]|From|To|Subject|Date|MIME-Version|Mime-Version"
    r"|DKIM-Signature|Delivered-To|Reply-To|Content-Type|Authentication-Results|X-[\w-]+"
    r"|Sender|Cc|References|In-Reply-To|User-Agent)\s*:",
    re.IGNORECASE,
)
_ANY_FIELD = re.compile(r"^[\w-]+:\s")
_HEADER_SCAN_LINES = 5000
_STRONG_HEADER = re.compile(r"^(?:Received|Message-I[Dd]|From|Date|Return-Path|Subject)\s*:", re.I)

_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|returning message|delivery (?:status )?notification"
    r"|delivery (?:has )?fail|mail delivery|failure notice|delivery failure|non.?deliver"
    r"|nondeliver|mail system error|delayed|could not be delivered|not delivered|rejected"
    r"|error sending|delivery problem|unzustellbar|non remis|no entregado|unable to deliver"
    r"|delivery report|delivery status|failed delivery|bounce|message you sent blocked"
    r"|devuelto|zurückgeschickt|non recapitabile|mail not delivered|loop alert|are not member",
    re.IGNORECASE,
)
# Phrases only mail software writes, and phrases a person might also write.
_BODY_MECHANICAL = re.compile(
    r"qmail-send|mail delivery (?:software|system|failed)|transcript of session|fatal errors"
    r"|following (?:address(?:es)?|recipients?)(?: or groups)? (?:had|failed|could not)"
    r"|delivery (?:to the following|has failed)|error (?:has )?occurred while attempting to"
    r" deliver|there was an error delivering|remote host said|smtp error|returned to sender"
    r"|delivery status notification|wasn'?t able to deliver|not a member of this"
    r"|duplicated message-id",
    re.IGNORECASE,
)
_BODY_GENERAL = re.compile(
    r"could not be delivered|was not delivered|(?:couldn'?t|could not) deliver|delivery failed"
    r"|permanent(?:ly)? (?:error|fail)|undeliverable|unable to deliver|did not reach"
    r"|not be delivered|delivery attempts|message was not sent|failed to deliver"
    r"|rejected your message|delivery problem|could not reach|no such user|user unknown"
    r"|mailbox (?:is )?full",
    re.IGNORECASE,
)
_DAEMON = re.compile(
    r"mailer-?daemon|postmaster|mail-?daemon|mail delivery (?:system|subsystem)|bounce"
    r"|mdaemon|mail ?administrator|nobody@|noreply-dmarc|returned mail",
    re.IGNORECASE,
)
_NOT_RECIPIENT_CONTEXT = re.compile(
    r"mail from|envelope-from|contact|please|postmaster|return-path|reply-to|sender|"
    r"from:|\bfrom <|administrator|helpdesk|help desk|support|webmaster|abuse",
    re.IGNORECASE,
)


_MAX_PARAGRAPHS = 4
# Reports are short; these caps only bound the work on hostile or absurd input.
_REPORT_CHARS = 64 * 1024
_LINE_CHARS = 4096
_MAX_RECIPIENTS = 100
_ENOUGH_LETTERS = 12


_AFTER_RCPT = re.compile(r"rcpt to: ?<$")
_LEADING = re.compile(r"(?:[<\"'(*-]|to: ?<?|[245]\d\d[ -]?(?:[245]\.\d+\.\d+ )?<?)?")


@dataclass
class TextRecipient:
    """One failed address found in a prose report and the text about it."""

    email: str
    diagnostic: str
    block: str = ""


def vendor_reason(text: str) -> str:
    """Reason implied by a known service's wording, or ""."""
    for pattern, reason in _VENDOR_REASONS:
        if pattern.search(text):
            return reason
    return ""


def looks_like_bounce(subject: str, sender: str, body: str, null_sender: bool) -> bool:
    """Decide from prose alone whether a message is a non-delivery report.

    A daemon sender (or empty Return-Path) plus one bounce phrase in the subject or body is
    enough; otherwise (a list manager, a forwarded bounce) the subject must say it and the body
    must use wording only mail software writes, so a person's "I couldn't deliver" is no bounce.
    """
    head = body[:20000]
    subject_hit = bool(_SUBJECT.search(subject))
    mechanical = bool(_BODY_MECHANICAL.search(head))
    if null_sender or _DAEMON.search(sender):
        return subject_hit or mechanical or bool(_BODY_GENERAL.search(head))
    return subject_hit and mechanical


def split_report(text: str) -> tuple[str, str]:
    """Split prose bounce text into (report, returned original).

    The original starts at the first copy marker, or at the first block of at least three
    consecutive header lines, whichever comes first.
    """
    cut = len(text)
    marker = _COPY_MARKER.search(text)
    if marker:
        cut = marker.start()
    header_at = _header_block_start(text[: cut + 2000] if marker else text)
    if header_at is not None and header_at < cut:
        cut = header_at
    return text[:cut], text[cut:]


def _line_kind(line: str) -> str:
    """Classify a line: S telling header, H header, F other field, C continuation, or ""."""
    if _HEADER_LINE.match(line):
        return "S" if _STRONG_HEADER.match(line) else "H"
    if line[:1] in (" ", "\t") and line.strip():
        return "C"
    if _ANY_FIELD.match(line):
        return "F"
    return ""


def _header_block_start(text: str) -> int | None:
    """Offset of the first run of 3+ header lines including 2+ telling ones (Received, From...)."""
    lines = text.split("\n", _HEADER_SCAN_LINES)[:_HEADER_SCAN_LINES]
    kinds = [_line_kind(line) for line in lines]
    offset = 0
    for i, line in enumerate(lines):
        if kinds[i] in ("S", "H"):
            run = strong = 0
            for kind in kinds[i : i + 40]:
                if kind == "C" and run:
                    continue
                if kind not in ("S", "H", "F"):
                    break
                run += 1
                strong += kind == "S"
            if run >= 3 and strong >= 2:
                return offset
        offset += len(line) + 1
    return None


def _is_strong(line: str, start: int) -> bool:
    """The address leads its line (maybe after ``<``, quotes, a reply code or ``RCPT TO:``)."""
    before = line[max(0, start - 40) : start].lower()
    if _AFTER_RCPT.search(before):
        return True
    if start >= 40:
        return False
    return bool(_LEADING.fullmatch(before.strip()))


def text_recipients(report: str, exclude: set[str]) -> list[TextRecipient]:
    """Failed addresses in report order, each with the report text that concerns it.

    Addresses leading a line are preferred; only when none does are addresses mentioned in
    sentences used. The text for an address runs from its first mention to the next address's.
    """
    lines = report[:_REPORT_CHARS].split("\n")
    strong: list[tuple[str, int]] = []
    weak: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        addresses = _addresses_with_positions(line)
        if not addresses:
            continue
        words = line.lower()
        for email, _ in addresses:
            words = words.replace(email, " ")
        mentioned_aside = bool(_NOT_RECIPIENT_CONTEXT.search(words))
        for email, start in addresses:
            if email in exclude or _is_daemon_address(email):
                continue
            if _is_strong(line, start):
                strong.append((email, index))
            elif not mentioned_aside:
                weak.append((email, index))
    chosen = strong or weak
    first_line: dict[str, int] = {}
    for email, index in chosen:
        if len(first_line) >= _MAX_RECIPIENTS:
            break
        first_line.setdefault(email, index)
    ordered = sorted(first_line.items(), key=lambda item: item[1])
    found: list[TextRecipient] = []
    for position, (email, start) in enumerate(ordered):
        end = ordered[position + 1][1] if position + 1 < len(ordered) else len(lines)
        block = "\n".join(lines[start:end]).strip()
        about = _about(lines[start:end], email)
        found.append(TextRecipient(email=email, diagnostic=about, block=block))
    return found


def _about(lines: list[str], email: str) -> str:
    """The paragraph that names ``email``, plus following ones while it says too little alone.

    "addr: Mailbox full" is complete; Gmail and Domino put the address alone and explain in
    the next paragraphs.
    """
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    taken: list[str] = []
    for paragraph in paragraphs[:_MAX_PARAGRAPHS]:
        taken.extend(paragraph)
        said = " ".join(taken).lower().replace(email, "")
        if len(re.sub(r"[\W_]+", "", said)) >= _ENOUGH_LETTERS:
            break
    return "\n".join(taken).strip()


def _addresses_with_positions(line: str) -> list[tuple[str, int]]:
    found: dict[str, int] = {}
    for address, start in addresses_at(line[:_LINE_CHARS]):
        found.setdefault(address, start)
    return list(found.items())


def _is_daemon_address(email: str) -> bool:
    local = email.split("@", 1)[0]
    return local in ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "abuse")
