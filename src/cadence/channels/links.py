"""Signed tokens for one-click unsubscribe, click redirects and open pixels.

A token is ``<payload>.<signature>``, both urlsafe base64 without padding: the payload is compact
JSON ``{"d": <data>, "i": <issued-at, unix seconds>}`` and the signature is HMAC-SHA256 over the
encoded payload, keyed by the secret *and a purpose*, so an unsubscribe token is never accepted as a
click token. Signatures are compared in constant time. Tokens are signed, not encrypted: the data is
readable by whoever holds the URL, so put ids in it, never secrets.

URLs: ``<base>/u/<token>`` (unsubscribe; GET shows a page, a POST with
``List-Unsubscribe=One-Click`` unsubscribes, RFC 8058), ``<base>/c/<token>`` (click redirect) and
``<base>/o/<token>`` (open pixel).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cadence.errors import (
    ConfigurationError,
    InvalidInput,
    InvalidToken,  # re-exported here
)

__all__ = [
    "CLICK_PATH",
    "OPEN_PATH",
    "UNSUBSCRIBE_PATH",
    "ClickToken",
    "InvalidToken",
    "OpenToken",
    "UnsubscribeToken",
    "click_url",
    "open_pixel_url",
    "sign",
    "unsubscribe_url",
    "verify",
    "verify_click",
    "verify_open",
    "verify_unsubscribe",
]

UNSUBSCRIBE_PATH = "/u/"
CLICK_PATH = "/c/"
OPEN_PATH = "/o/"

_B64 = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_TOKEN = 4096
_MAX_URL = 2048
_CLOCK_SKEW = timedelta(minutes=5)

Payload = dict[str, str | int]


def sign(
    payload: Mapping[str, str | int],
    secret: str,
    *,
    purpose: str = "token",
    now: datetime | None = None,
) -> str:
    """Sign ``payload`` into a compact urlsafe token.

    Args:
        payload: String keys to string or integer values.
        secret: The signing secret (keep it out of the code; any non-empty string).
        purpose: Domain separation: a token only verifies with the purpose it was signed for.
        now: Issue time (timezone-aware); defaults to the current time.

    Returns:
        ``<payload>.<signature>``, safe in a URL path segment.

    Raises:
        InvalidInput: A value is neither ``str`` nor ``int``, or ``now`` is naive.
        ConfigurationError: ``secret`` is empty.
    """
    for key, value in payload.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidInput(
                f"token payload {key!r} must map to str or int", field="payload", value=value
            )
    issued = _aware(now if now is not None else datetime.now(UTC), "now")
    body = json.dumps(
        {"d": dict(payload), "i": int(issued.timestamp())},
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=True,
    )
    encoded = _b64encode(body.encode("ascii"))
    return f"{encoded}.{_b64encode(_signature(encoded, secret, purpose))}"


def verify(
    token: str,
    secret: str,
    *,
    max_age: timedelta | None,
    now: datetime,
    purpose: str = "token",
) -> Payload:
    """Check a token's signature (and age) and return its payload.

    Args:
        token: A token made by :func:`sign`.
        secret: The secret it was signed with.
        max_age: Oldest acceptable token, or ``None`` for no expiry.
        now: The current time (timezone-aware).
        purpose: The purpose it was signed for.

    Returns:
        The payload as signed.

    Raises:
        InvalidToken: Garbage, a bad signature (tampered, other secret or purpose), or expired.
        InvalidInput: ``now`` is naive.
        ConfigurationError: ``secret`` is empty.
    """
    return _check(token, secret, purpose, max_age, now)[0]


def _check(
    token: str, secret: str, purpose: str, max_age: timedelta | None, now: datetime
) -> tuple[Payload, datetime]:
    current = _aware(now, "now")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise InvalidToken("malformed")
    encoded, signature = token.split(".")
    if not _B64.match(encoded) or not _B64.match(signature):
        raise InvalidToken("malformed")
    expected = _signature(encoded, secret, purpose)
    if not hmac.compare_digest(_b64decode(signature), expected):
        raise InvalidToken("bad signature")
    try:
        body = json.loads(_b64decode(encoded))
    except ValueError as exc:  # signed by us, so only reachable with a leaked secret
        raise InvalidToken("malformed") from exc
    data, issued = (body.get("d"), body.get("i")) if isinstance(body, dict) else (None, None)
    if not isinstance(data, dict) or not isinstance(issued, int) or isinstance(issued, bool):
        raise InvalidToken("malformed")
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in data.values()):
        raise InvalidToken("malformed")
    issued_at = datetime.fromtimestamp(issued, UTC)
    age = current - issued_at
    if max_age is not None and (age > max_age or age < -_CLOCK_SKEW):
        raise InvalidToken("expired")
    payload: Payload = data
    return payload, issued_at


@dataclass(frozen=True)
class UnsubscribeToken:
    """What an unsubscribe token says: who unsubscribes, from which touch, since when."""

    workspace_id: int
    contact_id: int
    touch_key: str
    issued_at: datetime


@dataclass(frozen=True)
class ClickToken:
    """What a click token says: the touch and the http(s) target to redirect to."""

    touch_key: str
    target_url: str
    issued_at: datetime


@dataclass(frozen=True)
class OpenToken:
    """What an open-pixel token says: the touch that was opened."""

    touch_key: str
    issued_at: datetime


def unsubscribe_url(
    base_url: str,
    secret: str,
    *,
    workspace_id: int,
    contact_id: int,
    touch_key: str,
    now: datetime | None = None,
) -> str:
    """The one-click unsubscribe URL of a touch: ``<base_url>/u/<token>``.

    Raises:
        InvalidInput: ``base_url`` is not an http(s) URL without query or fragment.
    """
    payload: Payload = {"w": workspace_id, "c": contact_id, "t": touch_key}
    return _link(base_url, UNSUBSCRIBE_PATH, sign(payload, secret, purpose="unsubscribe", now=now))


def click_url(
    base_url: str, secret: str, *, touch_key: str, target_url: str, now: datetime | None = None
) -> str:
    """A click-tracking redirect to ``target_url``: ``<base_url>/c/<token>``.

    The target is inside the signed token, so the redirect cannot be abused as an open redirect.

    Raises:
        InvalidInput: ``target_url`` is not an http(s) URL, or ``base_url`` is unusable.
    """
    target = _http_url(target_url, "target_url")
    payload: Payload = {"t": touch_key, "u": target}
    return _link(base_url, CLICK_PATH, sign(payload, secret, purpose="click", now=now))


def open_pixel_url(
    base_url: str, secret: str, *, touch_key: str, now: datetime | None = None
) -> str:
    """The open-tracking pixel URL of a touch: ``<base_url>/o/<token>``.

    Raises:
        InvalidInput: ``base_url`` is unusable.
    """
    return _link(base_url, OPEN_PATH, sign({"t": touch_key}, secret, purpose="open", now=now))


def verify_unsubscribe(
    token: str, secret: str, *, now: datetime, max_age: timedelta | None = None
) -> UnsubscribeToken:
    """Verify the token of an unsubscribe URL (no expiry by default: unsubscribe must keep working).

    Raises:
        InvalidToken: The token is not a valid unsubscribe token.
    """
    data, issued = _check(token, secret, "unsubscribe", max_age, now)
    workspace, contact, touch = data.get("w"), data.get("c"), data.get("t")
    if not isinstance(workspace, int) or not isinstance(contact, int) or not isinstance(touch, str):
        raise InvalidToken("malformed")
    return UnsubscribeToken(workspace, contact, touch, issued)


def verify_click(
    token: str, secret: str, *, now: datetime, max_age: timedelta | None = None
) -> ClickToken:
    """Verify the token of a click URL; the target is re-checked to be http(s).

    Raises:
        InvalidToken: The token is not a valid click token.
    """
    data, issued = _check(token, secret, "click", max_age, now)
    touch, target = data.get("t"), data.get("u")
    if not isinstance(touch, str) or not isinstance(target, str):
        raise InvalidToken("malformed")
    try:
        target = _http_url(target, "target_url")
    except InvalidInput as exc:
        raise InvalidToken("target is not an http(s) URL") from exc
    return ClickToken(touch, target, issued)


def verify_open(
    token: str, secret: str, *, now: datetime, max_age: timedelta | None = None
) -> OpenToken:
    """Verify the token of an open-pixel URL.

    Raises:
        InvalidToken: The token is not a valid open token.
    """
    data, issued = _check(token, secret, "open", max_age, now)
    touch = data.get("t")
    if not isinstance(touch, str):
        raise InvalidToken("malformed")
    return OpenToken(touch, issued)


def _signature(encoded: str, secret: str, purpose: str) -> bytes:
    if not secret:
        raise ConfigurationError("the link signing secret is empty")
    key = hmac.new(
        secret.encode("utf-8"), b"cadence.links:" + purpose.encode("utf-8"), hashlib.sha256
    )
    return hmac.new(key.digest(), encoded.encode("ascii"), hashlib.sha256).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed") from exc


def _aware(moment: datetime, field: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidInput(f"{field} must be a timezone-aware datetime", field=field, value=moment)
    return moment


def _http_url(url: str, field: str) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or len(url) > _MAX_URL
        or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url)
    ):
        raise InvalidInput(f"{field} must be an http(s) URL, got {url!r}", field=field, value=url)
    return url


def _link(base_url: str, path: str, token: str) -> str:
    base = _http_url(base_url, "base_url")
    parts = urlsplit(base)
    if parts.query or parts.fragment:
        raise InvalidInput(
            "base_url must not have a query or fragment", field="base_url", value=base_url
        )
    return base.rstrip("/") + path + token
