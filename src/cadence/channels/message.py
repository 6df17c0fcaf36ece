"""Build one RFC 5322 message from an :class:`~cadence.channels.base.OutgoingEmail`.

Pure and deterministic (given ``now``): no network, no database. The result is a
``multipart/alternative`` message (plain text + HTML) that the SMTP sender, or a host's own
provider, can deliver as it is.
"""

from __future__ import annotations

import email.policy
import html
import re
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

from cadence.channels.base import OutgoingEmail, ThreadRef
from cadence.errors import InvalidEmail, InvalidInput

__all__ = ["POLICY", "build_message", "message_id_for", "reply_subject", "text_to_html"]

#: ``email.policy.SMTP`` (CRLF line endings), except that headers we set pre-formatted
#: (``Message-ID``, ``References``, ``List-Unsubscribe``…) are never re-folded: folding a long URL
#: or message id would make it an RFC 2047 encoded word, which mail clients do not decode there.
POLICY = email.policy.SMTP.clone(refold_source="none")

# Headers this module owns; ``OutgoingEmail.headers`` may not set them.
_RESERVED = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "in-reply-to",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "message-id",
        "mime-version",
        "precedence",
        "references",
        "reply-to",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ":" (RFC 5322 ftext)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_+=-]+")
_DOMAIN_UNSAFE = re.compile(r"[^a-z0-9-]+")
_MSGID = re.compile(r"^<?([!-;=?-~]+@[!-;=?-~]+)>?$")  # no space, no "<" or ">" inside
_RE_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
_MAX_REFERENCES = 20


def message_id_for(touch_key: str, domain: str) -> str:
    """The deterministic ``Message-ID`` of a touch: ``<touch_key.cadence@domain>``, sanitised.

    The same touch always gets the same id, so a retried send is recognisable downstream.

    Args:
        touch_key: Unique id of the touch; characters outside ``[A-Za-z0-9_+=-]`` become ``-``
            and dots separate parts.
        domain: The sending domain; lower-cased, IDNA-encoded, unsafe characters become ``-``.

    Returns:
        The id with angle brackets.

    Raises:
        InvalidInput: ``touch_key`` or ``domain`` has nothing usable left after sanitising.
    """
    parts = (_ID_UNSAFE.sub("-", part).strip("-") for part in touch_key.split("."))
    left = ".".join(part for part in parts if part)
    if not left:
        raise InvalidInput(
            f"touch_key {touch_key!r} is not usable in a Message-ID",
            field="touch_key",
            value=touch_key,
        )
    return f"<{left}.cadence@{_sanitise_domain(domain)}>"


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, existing ``Re:``/``RE[2]:``/``AW:``/``SV:`` prefixes folded into one.

    Raises:
        InvalidInput: The subject is empty once the prefixes are removed.
    """
    base = _single_line(subject, "thread.subject").strip()
    while match := _RE_PREFIX.match(base):
        base = base[match.end() :]
    if not base:
        raise InvalidInput(
            "a follow-up needs its own subject or the thread's", field="subject", value=subject
        )
    return f"Re: {base}"


def text_to_html(text: str) -> str:
    """Escape plain text into HTML: blank lines separate ``<p>``, newlines become ``<br>``."""
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip())
    rendered = (
        "<p>" + "<br>\n".join(html.escape(line) for line in para.split("\n")) + "</p>"
        for para in paragraphs
        if para.strip()
    )
    return "\n".join(rendered)


def build_message(
    email: OutgoingEmail,
    *,
    domain: str,
    now: datetime | None = None,
    unsubscribe_label: str = "Unsubscribe",
) -> EmailMessage:
    """Build the ``multipart/alternative`` message for one touch.

    Threading: when ``email.thread`` is set the message carries ``In-Reply-To`` (the thread's id)
    and ``References`` (the thread's references plus its id); when, in addition, the step has no
    subject of its own, the subject is ``Re: <thread subject>`` (never ``Re: Re:``).

    Args:
        email: What to send.
        domain: Domain of the ``Message-ID`` (usually the workspace's sending domain).
        now: The ``Date`` header (timezone-aware); defaults to the current time.
        unsubscribe_label: Text of the visible unsubscribe link in the footers.

    Returns:
        The message, with policy :data:`POLICY` (``email.policy.SMTP`` line endings).

    Raises:
        InvalidEmail: An address cannot be delivered to.
        InvalidInput: Anything else unusable: CR/LF in a header, a non-http(s) URL, a reserved extra
            header, no subject on a first email, a naive ``now``.
    """
    when = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise InvalidInput("now must be timezone-aware", field="now", value=when)

    msg = EmailMessage(policy=POLICY)
    msg.set_raw("From", _address(email.from_address, email.from_name, "from"))
    msg.set_raw("To", _address(email.to_address, email.to_name, "to"))
    if email.reply_to:
        msg.set_raw("Reply-To", _address(email.reply_to, None, "reply_to"))
    _set_text(msg, "Subject", _subject(email.subject, email.thread))
    msg["Date"] = format_datetime(when.astimezone(UTC))
    msg.set_raw("Message-ID", message_id_for(email.touch_key, domain))
    if email.thread is not None:
        ids = _thread_ids(email.thread)
        msg.set_raw("In-Reply-To", ids[-1])
        msg.set_raw("References", "\n ".join(ids))
    if email.unsubscribe_url:
        url = _url(email.unsubscribe_url, "unsubscribe_url")
        msg.set_raw("List-Unsubscribe", f"<{url}>")
        msg.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    for name, value in email.headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
            raise InvalidInput(f"header {name!r} cannot be set here", field="headers", value=name)
        _set_text(msg, name, _single_line(value, f"headers[{name}]"))

    text = (
        email.text_body.replace("\r\n", "\n").rstrip()
        + _text_footer(email, unsubscribe_label)
        + "\n"
    )
    body_html = email.html_body if email.html_body is not None else text_to_html(email.text_body)
    msg.set_content(text, cte=_cte(text))
    page = _html_document(body_html, _html_footer(email, unsubscribe_label) + _pixel(email))
    msg.add_alternative(page, subtype="html", cte=_cte(page))
    for part in msg.iter_parts():
        del part[
            "MIME-Version"
        ]  # add_alternative repeats it on the part; once at the top is enough
    return msg


def _single_line(value: str, field: str) -> str:
    if "\r" in value or "\n" in value:
        raise InvalidInput(f"{field} must not contain line breaks", field=field, value=value)
    return value


def _sanitise_domain(domain: str) -> str:
    try:
        ascii_domain = domain.strip().rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput(
            f"domain {domain!r} is not a valid domain", field="domain", value=domain
        ) from exc
    labels = (_DOMAIN_UNSAFE.sub("-", label).strip("-") for label in ascii_domain.split("."))
    clean = ".".join(label for label in labels if label)
    if not clean:
        raise InvalidInput(f"domain {domain!r} is not a valid domain", field="domain", value=domain)
    return clean


def _set_text(msg: EmailMessage, name: str, value: str) -> None:
    """Set an unstructured header; non-ASCII text is encoded here, not by the policy's folder.

    The ``email`` folder (3.11) can drop the space between two encoded words when it folds a long
    non-ASCII value; ``email.header.Header`` keeps spaces inside the encoded words.
    """
    if value.isascii():
        msg[name] = value
    else:
        msg.set_raw(name, Header(value, "utf-8", header_name=name).encode(linesep="\n"))


def _address(addr: str, name: str | None, field: str) -> str:
    """One formatted address header value; the domain is IDNA-encoded so no SMTPUTF8 is needed."""
    display = " ".join(_single_line(name or "", f"{field}_name").split())
    try:
        if any(ch.isspace() or ch in "<>,;" for ch in addr.strip()):
            raise ValueError("spaces, brackets and separators are not allowed")
        parsed = Address(addr_spec=addr.strip())
        domain = parsed.domain.encode("idna").decode("ascii")
        return formataddr((display, f"{parsed.username}@{domain}"), charset="utf-8")
    except Exception as exc:  # the email parser raises assorted defects and ValueError/IndexError
        raise InvalidEmail(
            f"{field} address {addr!r} cannot be delivered to ({exc})",
            field=f"{field}_address",
            value=addr,
        ) from exc


def _subject(subject: str, thread: ThreadRef | None) -> str:
    own = _single_line(subject, "subject").strip()
    if own:
        return own
    if thread is None:
        raise InvalidInput(
            "the first email of a thread needs a subject", field="subject", value=subject
        )
    return reply_subject(thread.subject)


def _thread_ids(thread: ThreadRef) -> list[str]:
    """References + the thread's id, normalised, deduplicated, trimmed (first + most recent)."""
    raw = [token for ref in thread.references for token in ref.split()]
    raw.append(thread.message_id.strip())
    ids: list[str] = []
    for token in raw:
        match = _MSGID.match(token)
        if match is None:
            raise InvalidInput(f"{token!r} is not a Message-ID", field="thread", value=token)
        mid = f"<{match.group(1)}>"
        if mid in ids:
            ids.remove(mid)
        ids.append(mid)
    if len(ids) > _MAX_REFERENCES:
        ids = [ids[0], *ids[-(_MAX_REFERENCES - 1) :]]
    return ids


def _url(url: str, field: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ch.isspace() or ord(ch) < 32 or ch in '<>"' for ch in url)
    ):
        raise InvalidInput(f"{field} must be an http(s) URL, got {url!r}", field=field, value=url)
    return url


def _cte(body: str) -> str:
    """7bit when the body allows it, else quoted-printable: never raw 8bit on the wire."""
    if body.isascii() and all(len(line) <= 990 for line in body.splitlines()):
        return "7bit"
    return "quoted-printable"


def _text_footer(email: OutgoingEmail, label: str) -> str:
    lines: list[str] = []
    if email.postal_address:
        lines.append(email.postal_address.strip())
    if email.unsubscribe_url:
        lines.append(f"{label}: {_url(email.unsubscribe_url, 'unsubscribe_url')}")
    return "\n\n" + "\n".join(lines) if lines else ""


def _html_footer(email: OutgoingEmail, label: str) -> str:
    lines: list[str] = []
    if email.postal_address:
        lines.append(
            "<br>\n".join(
                html.escape(line.strip()) for line in email.postal_address.strip().splitlines()
            )
        )
    if email.unsubscribe_url:
        href = html.escape(_url(email.unsubscribe_url, "unsubscribe_url"), quote=True)
        lines.append(f'<a href="{href}">{html.escape(label)}</a>')
    if not lines:
        return ""
    style = "margin-top:24px;font-size:12px;color:#777777"
    return f'\n<p style="{style}">' + "<br>\n".join(lines) + "</p>"


def _pixel(email: OutgoingEmail) -> str:
    if not email.open_pixel_url:
        return ""
    src = html.escape(_url(email.open_pixel_url, "open_pixel_url"), quote=True)
    style = "display:block;border:0;width:1px;height:1px"
    return f'\n<img src="{src}" width="1" height="1" alt="" style="{style}">'


def _html_document(body: str, tail: str) -> str:
    """Insert ``tail`` before ``</body>`` of a full document, or wrap a fragment in one."""
    at = body.lower().rfind("</body>")
    if at >= 0:
        return body[:at] + tail + "\n" + body[at:]
    return (
        '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"></head>\n<body>\n'
        f"{body.strip()}{tail}\n</body>\n</html>\n"
    )
