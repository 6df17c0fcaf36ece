"""Robust MIME loading: raw bytes in, a walkable message and decoded text out, never an exception.

Returned mail is the worst-formed mail there is (truncated copies, wrong charsets, bare CRs,
boundaries that never close), so every helper here degrades to "" or an empty list instead of
raising. Input is capped so a 50 MB attachment costs the same as a 4 MB one.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_TEXT_CHARS",
    "addresses_at",
    "addresses_in",
    "decode_words",
    "header",
    "header_addresses",
    "header_date",
    "load",
    "message_ids_in",
    "normalise_newlines",
    "parse_headers_text",
    "part_text",
    "payload_messages",
    "walk",
]

# Headers and the report come first in every format we know; the rest is usually the attached
# original or an attachment of it, which we never need in full.
MAX_INPUT_BYTES = 4 * 1024 * 1024
MAX_TEXT_CHARS = 512 * 1024
_MAX_PARTS = 200
_MAX_DEPTH = 8

_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}(?![A-Za-z0-9-])"
)
_MESSAGE_ID = re.compile(r"<([^<>\s@]{1,250}@[^<>\s@]{1,250})>")


def normalise_newlines(raw: bytes) -> bytes:
    """Turn CRLF and bare CR line ends into LF, which is what the rest of the code expects."""
    if b"\r" not in raw:
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def load(raw: bytes) -> Message:
    """Parse raw mail into a compat32 Message, capping its size; never raises.

    compat32 is used because the modern policy raises on some malformed headers while the old one
    records a defect and carries on.
    """
    data = normalise_newlines(raw[:MAX_INPUT_BYTES])
    try:
        return email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:  # pragma: no cover - the parser is lenient; this is the last guard
        return Message()


def walk(msg: Message) -> Iterator[tuple[Message, int]]:
    """Yield (part, depth) depth-first, not descending into attached messages.

    Attached ``message/rfc822`` parts are yielded themselves but not entered: their text is the
    original we sent, not the report about it.
    """
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part, depth
        if depth >= _MAX_DEPTH or not part.is_multipart():
            continue
        if _content_type(part).startswith("message/"):
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            children = [p for p in payload if isinstance(p, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def payload_messages(part: Message) -> list[Message]:
    """Sub-messages of a ``message/*`` part (the parsed attachment or DSN field blocks)."""
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def _charset_of(part: Message) -> str:
    try:
        charset = part.get_content_charset() or ""
    except Exception:
        charset = ""
    return charset.strip().strip("\"'").lower()


def decode_bytes(data: bytes, charset: str = "") -> str:
    """Decode bytes with the declared charset, then UTF-8, then Latin-1; never raises."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    if charset:
        try:
            return data.decode(charset, errors="replace")
        except (LookupError, ValueError):
            pass
    return data.decode("latin-1")


def part_text(part: Message) -> str:
    """The decoded text of a leaf part ("" for multiparts), capped at MAX_TEXT_CHARS."""
    try:
        if part.is_multipart():
            return ""
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        try:
            raw = part.get_payload()
        except Exception:
            return ""
        return raw[:MAX_TEXT_CHARS] if isinstance(raw, str) else ""
    return decode_bytes(data[: MAX_TEXT_CHARS * 2], _charset_of(part))[:MAX_TEXT_CHARS]


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words and unfold; tolerate anything."""
    if not value:
        return ""
    text = value
    if "=?" in value:
        try:
            chunks = email.header.decode_header(value)
            pieces: list[str] = []
            for chunk, charset in chunks:
                if isinstance(chunk, bytes):
                    pieces.append(decode_bytes(chunk, (charset or "").lower()))
                else:
                    pieces.append(chunk)
            text = "".join(pieces)
        except Exception:
            text = value
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"\s*\n\s*", " ", text).strip()


def header(msg: Message, name: str) -> str:
    """Decoded value of the first ``name`` header, or ""."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    if value is None:
        return ""
    return decode_words(str(value))


def header_addresses(msg: Message, name: str) -> list[str]:
    """Addresses in every ``name`` header, lower-cased, in order."""
    try:
        values = [str(v) for v in msg.get_all(name) or []]
    except Exception:
        return []
    found: list[str] = []
    for value in values:
        found.extend(addresses_in(value))
    return found


def header_date(msg: Message) -> datetime | None:
    """The Date header as an aware datetime (naive dates are taken as UTC), or None."""
    value = header(msg, "Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def addresses_at(text: str) -> list[tuple[str, int]]:
    """Every e-mail address in ``text`` with its offset, lower-cased, in order."""
    found: list[tuple[str, int]] = []
    for match in _ADDRESS.finditer(text):
        address = match.group(0).strip(".").lower()
        local = address.split("@", 1)[0]
        if local and not local.startswith("."):
            found.append((address, match.start()))
    return found


def addresses_in(text: str) -> list[str]:
    """Every e-mail address in ``text``, lower-cased, in order, duplicates kept."""
    return [address for address, _ in addresses_at(text)]


def message_ids_in(text: str) -> list[str]:
    """Every ``<id@host>`` message id in ``text`` (angle brackets kept), in order."""
    return [f"<{m.group(1)}>" for m in _MESSAGE_ID.finditer(text)]


def parse_headers_text(text: str) -> Message:
    """Parse a block of header lines (e.g. a text/rfc822-headers part) into a Message."""
    try:
        return email.message_from_string(text.lstrip("\n"), policy=email.policy.compat32)
    except Exception:
        return Message()
