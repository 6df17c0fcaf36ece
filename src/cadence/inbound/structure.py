"""One pass over a parsed message collecting what classification needs.

Report parts (delivery-status, feedback-report), the returned original (attached, headers-only or
quoted after a marker) and the human-readable text are gathered once so the classifiers never
walk the MIME tree themselves.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email.message import Message

from cadence.inbound.dsn import delivery_status_text
from cadence.inbound.parse import (
    MAX_TEXT_CHARS,
    message_ids_in,
    parse_headers_text,
    part_text,
    payload_messages,
    walk,
)
from cadence.inbound.vendors import split_report

__all__ = ["Structure", "collect"]

_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_FEEDBACK_TYPES = frozenset({"message/feedback-report"})
_ATTACHED_TYPES = frozenset({"message/rfc822", "message/global", "message/partial"})
_HEADER_TYPES = frozenset(
    {
        "text/rfc822-headers",
        "text/rfc822-header",
        "message/global-headers",
        "message/rfc822-headers",
    }
)
_REPORT_CHARS = 64 * 1024
_MESSAGE_ID_LINE = re.compile(r"(?im)^[ \t>]*Message-I[Dd][ \t]*:[ \t]*(<[^<>\s]+>|\S+@\S+)")


@dataclass
class Structure:
    """The pieces of a message classification works from."""

    report_type: str = ""
    dsn_texts: list[str] = field(default_factory=list)
    feedback_texts: list[str] = field(default_factory=list)
    originals: list[Message] = field(default_factory=list)
    text: str = ""
    report: str = ""
    quoted_original: str = ""
    disposition_notification: bool = False

    @property
    def original(self) -> Message | None:
        """The returned copy of our message, when there is one."""
        return self.originals[0] if self.originals else None

    def original_message_id(self) -> str:
        """Message-ID of the returned original: attached, headers-only or quoted."""
        for original in self.originals:
            found = message_ids_in(str(original.get("Message-ID", "") or ""))
            if found:
                return found[0]
            raw = str(original.get("Message-ID", "") or "").strip()
            if "@" in raw:
                return f"<{raw.strip('<>')}>"
        for source in (self.quoted_original, self.text):
            match = _MESSAGE_ID_LINE.search(source)
            if match:
                return f"<{match.group(1).strip('<>')}>"
        return ""


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>|</h\d>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def collect(msg: Message) -> Structure:
    """Walk ``msg`` once and gather its report parts, original and readable text."""
    found = Structure()
    try:
        param = msg.get_param("report-type", "")
    except Exception:
        param = ""
    found.report_type = param.strip().lower() if isinstance(param, str) else ""
    plain: list[str] = []
    markup: list[str] = []
    for part, depth in walk(msg):
        try:
            ctype = part.get_content_type()
        except Exception:
            ctype = "text/plain"
        if ctype in _DSN_TYPES:
            found.dsn_texts.append(delivery_status_text(part))
        elif ctype in _FEEDBACK_TYPES:
            found.feedback_texts.append(delivery_status_text(part))
        elif ctype == "message/disposition-notification":
            found.disposition_notification = True
        elif ctype in _ATTACHED_TYPES and depth > 0:
            found.originals.extend(payload_messages(part)[:1])
        elif ctype in _HEADER_TYPES:
            headers = parse_headers_text(part_text(part))
            if len(headers):
                found.originals.append(headers)
        elif ctype.startswith("multipart/") and not part.is_multipart():
            # The boundary never appears: the parser kept the whole body as one string.
            plain.append(part_text(part))
        elif ctype == "text/plain" or (ctype.startswith("text/") and ctype != "text/html"):
            if _is_attachment(part) and depth > 0:
                continue
            plain.append(part_text(part))
        elif ctype == "text/html":
            markup.append(_html_to_text(part_text(part)))
    texts = plain if any(t.strip() for t in plain) else markup
    epilogue = msg.epilogue if isinstance(msg.epilogue, str) else ""
    found.text = _unquote("\n".join([*texts, epilogue])[:MAX_TEXT_CHARS])
    if "Final-Recipient" in epilogue or "Final-recipient" in epilogue:
        # Several reports saved back to back (an mbox) leave the later ones in the epilogue.
        found.dsn_texts.append(epilogue)
    report, quoted = split_report(found.text)
    found.report = report[:_REPORT_CHARS]
    found.quoted_original = quoted
    if not found.originals and quoted.strip():
        headers = parse_headers_text(_strip_marker(quoted))
        if len(headers):
            found.originals.append(headers)
    return found


def _unquote(text: str) -> str:
    """Undo ``> `` quoting when most of the text is quoted (a forwarded bounce)."""
    lines = text.split("\n")
    quoted = sum(1 for line in lines if line.startswith(">"))
    if quoted < 5 or quoted * 2 < len([line for line in lines if line.strip()]):
        return text
    return "\n".join(re.sub(r"^> ?", "", line) for line in lines)


def _strip_marker(quoted: str) -> str:
    """Drop the marker line(s) before the quoted header block."""
    lines = quoted.split("\n")
    for start, line in enumerate(lines[:6]):
        if re.match(r"^[\w-]+:\s", line):
            return "\n".join(lines[start:])
    return quoted


def _is_attachment(part: Message) -> bool:
    try:
        disposition = str(part.get("Content-Disposition", "") or "").lower()
    except Exception:
        return False
    return disposition.startswith("attachment")
