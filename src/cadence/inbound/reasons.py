"""From what a server said, the status code and the SMTP stage to a reason and hard/soft.

Reasons use sisimai's vocabulary. The order of checks is the point: specific causes (a full
mailbox, a sender refused at MAIL FROM) win over what a generic status code would suggest, and a
"user unknown" only condemns the address when it answered RCPT TO or came from the reporting
system itself; after DATA it is a content filter speaking.
"""

from __future__ import annotations

import re

from cadence.inbound.codes import DIAGNOSTIC_CHARS, status_reason
from cadence.inbound.phrases import matches

__all__ = ["HARD_REASONS", "classify_reason", "is_hard", "is_vague", "normalise_diagnostic"]

# The address itself is dead: the mailbox or the domain does not exist or has moved for good.
HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})

_MULTILINE_PREFIX = re.compile(r"(?m)^\s*[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?")

# Reasons a bare status name is too vague for: the text gets a second look.
_VAGUE = frozenset(
    {"", "undefined", "onhold", "systemerror", "securityerror", "expired", "networkerror"}
)
_NOT_SENDER = (
    "blocked",
    "requireptr",
    "speeding",
    "toomanyconn",
    "spamdetected",
    "systemerror",
    "systemfull",
    "securityerror",
    "networkerror",
    "expired",
)
_BEFORE_DATA = frozenset({"HELO", "EHLO", "MAIL", "RCPT", "CONN", "STARTTLS"})

_TRANSIENT_DNS = re.compile(r"not found, try again|try again later|temporar|servfail|timed? ?out")


def normalise_diagnostic(text: str) -> str:
    """Lower-case, strip multi-line SMTP prefixes such as ``550-5.7.1`` and collapse spaces.

    Only the first ``DIAGNOSTIC_CHARS`` characters count: servers say why early, and the cap
    keeps pathological input from making the phrase search slow.
    """
    text = text[:DIAGNOSTIC_CHARS]
    text = _MULTILINE_PREFIX.sub(" ", text.replace("=\n", "").replace("=20", " "))
    return re.sub(r"\s+", " ", text).strip().lower()


def is_vague(reason: str, status: str) -> bool:
    """True when a reason says little: nothing recognised, or only a vague status class."""
    if reason in ("onhold", "undefined", ""):
        return True
    return reason in _VAGUE and reason == status_reason(status)


def is_hard(reason: str, status: str = "", reply_code: str = "") -> bool:
    """True when the address is permanently dead (never mail it again).

    A permanent rejection for policy, spam or content reasons is not hard: the address works, the
    message was refused. Nor is anything the server itself calls temporary (a 4.x.x status, or a
    4xx reply when there is no status): the address may work tomorrow.
    """
    if reason not in HARD_REASONS:
        return False
    return not (status.startswith("4") or (not status and reply_code.startswith("4")))


def _userunknown(text: str, status: str, status_name: str, command: str, reply_code: str) -> bool:
    if command == "MAIL":
        return False
    if (
        status[:4] in ("5.1.", "4.1.")
        and status_name != "rejected"
        and matches("userunknown", text)
    ):
        # An addressing-status code (X.1.Y) agreeing with "no such user" is about the mailbox
        # whatever the stage; Microsoft's 5.1.10 RecipientNotFound is the common case.
        return True
    if status_name == "userunknown":
        return not any(
            matches(other, text) for other in ("mailboxfull", "blocked", "hasmoved", "rejected")
        ) or matches("userunknown", text)
    # A relayed SMTP answer saying "user unknown" after DATA is a content filter in disguise; a
    # reporting system's own verdict (no reply code) or an answer to RCPT is about the mailbox.
    address_stage = command == "RCPT" or (not reply_code and command != "DATA")
    return address_stage and matches("userunknown", text)


def _filtered(text: str, status_name: str, command: str) -> bool:
    said_unknown = matches("userunknown", text) or matches("filtered", text)
    if status_name == "filtered":
        return said_unknown
    return command not in _BEFORE_DATA and said_unknown


def _rejected(text: str, status_name: str, command: str) -> bool:
    if status_name == "rejected":
        return True
    if matches("policyviolation", text):
        return False
    if command == "MAIL":
        # A refusal at MAIL FROM is about the sender unless it names another cause.
        return matches("rejected", text) or not any(matches(r, text) for r in _NOT_SENDER)
    if "recipient address rejected" in text or "sender ip address rejected" in text:
        return False
    if command == "MAIL" or (command == "DATA" and status_name != "userunknown"):
        return matches("rejected", text)
    if status_name in _VAGUE or status_name == "userunknown":
        return matches("rejected", text)
    return False


def classify_reason(
    diagnostic: str,
    status: str = "",
    reply_code: str = "",
    *,
    command: str = "",
    action: str = "",
    diagnostic_type: str = "",
) -> str:
    """Name the bounce reason from the server's words, the status code and the SMTP context.

    Args:
        diagnostic: What the remote server (or the reporting MTA) said, raw.
        status: RFC 3463 code, "" if unknown.
        reply_code: SMTP reply code, "" if unknown.
        command: SMTP command being answered (``RCPT``, ``DATA``...), "" if unknown.
        action: RFC 3464 Action value.
        diagnostic_type: ``smtp``, ``x-unix``... from the Diagnostic-Code field.

    Returns:
        A sisimai reason name; ``onhold`` when text exists but says nothing recognisable and
        ``undefined`` when there is nothing to go on.
    """
    if status.startswith("2.") or action in ("delivered", "relayed", "expanded"):
        return "delivered"
    text = normalise_diagnostic(diagnostic)
    name = status_reason(status)

    # A local delivery program's complaint (x-unix) is a mailer error whatever words it uses.
    local_program = diagnostic_type.startswith("x-unix")
    found = "" if local_program else _first_pass(text, status, name, reply_code, command)
    if found:
        return found

    if name not in _VAGUE and not local_program:
        return name
    for reason in _SECOND_PASS:
        if matches(reason, text):
            return reason
    if name:
        return name
    if status[:3] in ("5.6", "4.6"):
        return "contenterror"
    if status[:3] in ("5.7", "4.7"):
        return "securityerror"
    if diagnostic_type.startswith("x-unix"):
        return "mailererror"
    if matches("syntaxerror", text) or reply_code in ("500", "501", "502", "503", "504"):
        return "syntaxerror"
    if action in ("delayed", "expired"):
        return "expired"
    if command in ("EHLO", "HELO", "CONN"):
        return "blocked"
    if matches("vacation", text):
        return "vacation"
    return "onhold" if text else "undefined"


_SECOND_PASS = (
    "mailboxfull",
    "authfailure",
    "badreputation",
    "speeding",
    "spamdetected",
    "virusdetected",
    "policyviolation",
    "norelaying",
    "systemerror",
    "networkerror",
    "suspend",
    "contenterror",
    "systemfull",
    "notaccept",
    "expired",
    "securityerror",
    "mailererror",
)


def _first_pass(text: str, status: str, name: str, reply_code: str, command: str) -> str:
    checks: tuple[tuple[str, bool], ...] = (
        ("mailboxfull", name == "mailboxfull" or matches("mailboxfull", text)),
        (
            "mesgtoobig",
            name == "mesgtoobig" or (name != "exceedlimit" and matches("mesgtoobig", text)),
        ),
        ("exceedlimit", name == "exceedlimit" or matches("exceedlimit", text)),
        ("suspend", reply_code == "525" or matches("suspend", text)),
        ("hasmoved", name == "hasmoved" or matches("hasmoved", text)),
        ("norelaying", matches("norelaying", text)),
        ("authfailure", name == "authfailure" or matches("authfailure", text)),
        ("userunknown", _userunknown(text, status, name, command, reply_code)),
        ("filtered", _filtered(text, name, command)),
        ("requireptr", name == "requireptr" or matches("requireptr", text)),
        ("notcompliantrfc", matches("notcompliantrfc", text)),
        ("badreputation", matches("badreputation", text)),
        ("contenterror", name == "contenterror" and matches("contenterror", text)),
        ("rejected", _rejected(text, name, command)),
        ("notaccept", matches("notaccept", text)),
        ("hostunknown", _hostunknown(text, name, status)),
        ("blocked", matches("blocked_host", text)),
        (
            "spamdetected",
            bool(status)
            and (name == "spamdetected" or command not in _BEFORE_DATA)
            and matches("spamdetected", text),
        ),
        ("speeding", matches("speeding", text)),
        ("toomanyconn", name == "toomanyconn" or matches("toomanyconn", text)),
        ("blocked", name == "blocked" or matches("blocked", text)),
    )
    for reason, hit in checks:
        if hit:
            return reason
    return ""


def _hostunknown(text: str, name: str, status: str) -> bool:
    # A DNS failure the server will retry ("try again", a 4.x.x code) says nothing final about
    # the domain: that is a network error, not an unknown host.
    transient = status.startswith("4") or bool(_TRANSIENT_DNS.search(text))
    if name == "hostunknown":
        return not matches("networkerror", text) or (matches("hostunknown", text) and not transient)
    return matches("hostunknown", text) and not transient
