"""Signed tokens and the unsubscribe, click and open URLs built from them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.channels import links
from cadence.channels.links import (
    InvalidToken,
    click_url,
    open_pixel_url,
    sign,
    unsubscribe_url,
    verify,
    verify_click,
    verify_open,
    verify_unsubscribe,
)
from cadence.errors import CadenceError, ConfigurationError, InvalidInput

SECRET = "s3cret-signing-key-for-tests"
NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
BASE = "https://links.example.com/t/"


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_sign_and_verify_round_trip() -> None:
    token = sign({"w": 1, "t": "touch-1"}, SECRET, now=NOW)
    assert verify(token, SECRET, max_age=None, now=NOW) == {"w": 1, "t": "touch-1"}
    assert all(ch.isalnum() or ch in "-_." for ch in token)
    assert "=" not in token


@pytest.mark.parametrize("part", [0, 1])
def test_tampered_token_is_rejected(part: int) -> None:
    token = sign({"contact": 41, "workspace": 7}, SECRET, now=NOW)
    pieces = token.split(".")
    if part == 0:  # change the payload and keep the old signature
        body = json.loads(base64.urlsafe_b64decode(pieces[0] + "=" * (-len(pieces[0]) % 4)))
        body["d"]["contact"] = 42
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        pieces[0] = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    else:  # flip one character of the signature
        pieces[1] = ("A" if pieces[1][0] != "A" else "B") + pieces[1][1:]
    with pytest.raises(InvalidToken) as err:
        verify(".".join(pieces), SECRET, max_age=None, now=NOW)
    assert err.value.reason == "bad signature"
    assert isinstance(err.value, CadenceError) and err.value.to_dict()["error"] == "invalid_token"


def test_other_secret_or_purpose_is_rejected() -> None:
    token = sign({"t": "x"}, SECRET, purpose="open", now=NOW)
    with pytest.raises(InvalidToken):
        verify(token, SECRET + "!", max_age=None, now=NOW, purpose="open")
    with pytest.raises(InvalidToken):
        verify(token, SECRET, max_age=None, now=NOW, purpose="click")
    unsubscribe = token_of(
        unsubscribe_url(BASE, SECRET, workspace_id=1, contact_id=2, touch_key="t", now=NOW)
    )
    with pytest.raises(InvalidToken):
        verify_click(unsubscribe, SECRET, now=NOW)


def test_expired_token_is_rejected() -> None:
    token = sign({"t": "x"}, SECRET, now=NOW)
    day = timedelta(days=1)
    assert verify(token, SECRET, max_age=day, now=NOW + day) == {"t": "x"}
    with pytest.raises(InvalidToken) as err:
        verify(token, SECRET, max_age=day, now=NOW + day + timedelta(seconds=1))
    assert err.value.reason == "expired"
    with pytest.raises(InvalidToken):  # issued well in the future: not trusted either
        verify(token, SECRET, max_age=day, now=NOW - timedelta(hours=1))
    assert verify(token, SECRET, max_age=None, now=NOW + 1000 * day) == {"t": "x"}


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "abc", "a.b.c", "!!!.???", "a" * 5000, "e30.", ".e30", "é.é", "Zm9v.Zm9v", "a.b"],
)
def test_garbage_is_an_invalid_token(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(garbage, SECRET, max_age=None, now=NOW)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_string_is_rejected_with_a_typed_error(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(garbage, SECRET, max_age=None, now=NOW)


def test_bad_arguments_are_typed_errors() -> None:
    with pytest.raises(ConfigurationError):
        sign({"a": 1}, "", now=NOW)
    with pytest.raises(InvalidInput):
        sign({"a": True}, SECRET, now=NOW)
    with pytest.raises(InvalidInput):
        sign({"a": 1.5}, SECRET, now=NOW)  # type: ignore[dict-item]
    with pytest.raises(InvalidInput):
        verify(sign({}, SECRET, now=NOW), SECRET, max_age=None, now=datetime(2025, 1, 1))


def test_unsubscribe_url_round_trip() -> None:
    url = unsubscribe_url(BASE, SECRET, workspace_id=7, contact_id=41, touch_key="t-9", now=NOW)
    assert url.startswith("https://links.example.com/t/u/")
    claim = verify_unsubscribe(token_of(url), SECRET, now=NOW + timedelta(days=400))
    assert (claim.workspace_id, claim.contact_id, claim.touch_key) == (7, 41, "t-9")
    assert claim.issued_at == NOW


def test_click_url_round_trip_and_target_must_be_http() -> None:
    target = "https://example.org/pricing?plan=pro&ref=é#top"
    url = click_url(BASE, SECRET, touch_key="t-9", target_url=target, now=NOW)
    assert url.startswith("https://links.example.com/t/c/")
    claim = verify_click(token_of(url), SECRET, now=NOW)
    assert (claim.touch_key, claim.target_url) == ("t-9", target)
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "ftp://x.org/f",
        "http://",
    ):
        with pytest.raises(InvalidInput):
            click_url(BASE, SECRET, touch_key="t-9", target_url=bad, now=NOW)


def test_click_token_with_non_http_target_is_rejected_even_if_signed() -> None:
    token = sign({"t": "t-9", "u": "javascript:alert(1)"}, SECRET, purpose="click", now=NOW)
    with pytest.raises(InvalidToken):
        verify_click(token, SECRET, now=NOW)


def test_open_pixel_url_round_trip() -> None:
    url = open_pixel_url("http://localhost:8000", SECRET, touch_key="t-9", now=NOW)
    assert url.startswith("http://localhost:8000" + links.OPEN_PATH)
    assert verify_open(token_of(url), SECRET, now=NOW).touch_key == "t-9"


@pytest.mark.parametrize("base", ["ftp://x.org", "links.example.com", "https://x.org/?a=1"])
def test_base_url_must_be_plain_http(base: str) -> None:
    with pytest.raises(InvalidInput):
        open_pixel_url(base, SECRET, touch_key="t", now=NOW)
