"""SMTP reply codes, RFC 3463 enhanced status codes and the SMTP command a server answered.

Finding codes in free text is mostly about not finding the wrong ones: IP addresses, dates,
version numbers and queue ids are full of digits, so a status code must stand alone and a reply
code must be one RFC 5321 defines. The pseudo status codes (``5.0.9xx``) follow sisimai, whose
labels the corpus uses: "no enhanced code in the message; this stands for the reason".
"""

from __future__ import annotations

import re

__all__ = [
    "DIAGNOSTIC_CHARS",
    "find_command",
    "find_reply_code",
    "find_status",
    "prefer_status",
    "pseudo_status",
    "status_reason",
]

# Servers say why early; the cap only keeps pathological input from making searches slow.
DIAGNOSTIC_CHARS = 16 * 1024

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)")
_REPLY_WITH_STATUS = re.compile(r"(?<![\w.])([245]\d\d)[ -]'?#?([245]\.\d{1,3}\.\d{1,3})(?!\d)")
_PAIRED = re.compile(r"[245]\d\d[ -]'?#?$")
# Codes RFC 5321 and its extensions define for failures; others in prose are not reply codes.
_REPLY_CODES = frozenset(
    {
        *("421", "450", "451", "452", "453", "454", "455", "458", "459"),
        *("500", "501", "502", "503", "504", "521", "523", "524", "525", "530"),
        *("533", "534", "535", "538", "550", "551", "552", "553", "554", "555", "556"),
    }
)
_REPLY = re.compile(r"(?<![\w.\-/=#+])([245]\d\d)(?=[\s\-\]:;,]|$)")
_PSEUDO = {
    "authfailure": "926",
    "badreputation": "975",
    "blocked": "971",
    "contenterror": "960",
    "exceedlimit": "923",
    "expired": "947",
    "failedstarttls": "976",
    "filtered": "910",
    "hasmoved": "916",
    "hostunknown": "912",
    "mailboxfull": "922",
    "mailererror": "939",
    "mesgtoobig": "934",
    "networkerror": "944",
    "norelaying": "909",
    "notaccept": "932",
    "notcompliantrfc": "974",
    "onhold": "901",
    "policyviolation": "972",
    "rejected": "918",
    "requireptr": "973",
    "securityerror": "970",
    "spamdetected": "980",
    "speeding": "946",
    "suppressed": "903",
    "suspend": "921",
    "systemerror": "930",
    "systemfull": "931",
    "syntaxerror": "902",
    "toomanyconn": "945",
    "userunknown": "911",
    "undefined": "900",
    "virusdetected": "981",
}

# RFC 3463 codes whose meaning is specific enough to name a reason on their own.
_STATUS_REASON = {
    "2.1.5": "delivered",
    "4.1.6": "hasmoved",
    "4.1.7": "rejected",
    "4.1.8": "rejected",
    "4.2.1": "blocked",
    "4.2.2": "mailboxfull",
    "4.2.3": "exceedlimit",
    "4.2.4": "filtered",
    "4.3.1": "systemfull",
    "4.3.2": "notaccept",
    "4.3.3": "systemerror",
    "4.3.5": "systemerror",
    "4.4.1": "expired",
    "4.4.2": "networkerror",
    "4.4.3": "systemerror",
    "4.4.4": "networkerror",
    "4.4.5": "systemfull",
    "4.4.6": "networkerror",
    "4.4.7": "expired",
    "4.4.8": "networkerror",
    "4.5.3": "systemerror",
    "4.6.0": "contenterror",
    "4.7.1": "blocked",
    "4.7.25": "requireptr",
    "4.7.26": "authfailure",
    "5.1.0": "userunknown",
    "5.1.1": "userunknown",
    "5.1.2": "hostunknown",
    "5.1.3": "userunknown",
    "5.1.4": "filtered",
    "5.1.6": "hasmoved",
    "5.1.7": "rejected",
    "5.1.8": "rejected",
    "5.1.9": "systemerror",
    "5.1.10": "notaccept",
    "5.2.0": "filtered",
    "5.2.1": "filtered",
    "5.2.2": "mailboxfull",
    "5.2.3": "exceedlimit",
    "5.2.4": "filtered",
    "5.3.0": "systemerror",
    "5.3.1": "systemfull",
    "5.3.2": "notaccept",
    "5.3.3": "systemerror",
    "5.3.4": "mesgtoobig",
    "5.3.5": "systemerror",
    "5.4.0": "networkerror",
    "5.4.3": "systemerror",
    "5.4.4": "hostunknown",
    "5.4.6": "networkerror",
    "5.4.7": "expired",
    "5.5.2": "syntaxerror",
    "5.5.3": "toomanyconn",
    "5.5.4": "systemerror",
    "5.5.5": "systemerror",
    "5.5.6": "syntaxerror",
    "5.7.13": "suspend",
    "5.7.16": "mesgtoobig",
    "5.7.17": "hasmoved",
    "5.7.18": "hasmoved",
    "5.7.20": "authfailure",
    "5.7.21": "authfailure",
    "5.7.22": "authfailure",
    "5.7.23": "authfailure",
    "5.7.24": "authfailure",
    "5.7.25": "requireptr",
    "5.7.26": "authfailure",
    "5.7.27": "notaccept",
    "5.7.28": "spamdetected",
    "5.7.29": "authfailure",
    "5.7.30": "failedstarttls",
}
for _detail in range(0, 13):
    _STATUS_REASON.setdefault(f"5.6.{_detail}", "contenterror")
    _STATUS_REASON.setdefault(f"5.7.{_detail}", "securityerror")
for _detail in (5, 6, 7, 12, 15):
    _STATUS_REASON[f"4.7.{_detail}"] = "securityerror"

_COMMANDS = (
    (
        re.compile(
            r"in reply to (?:the )?rcpt\b|after rcpt to|>>> rcpt to|rcpt to response"
            r"|did not like our rcpt|\[rcpt_to\]|smtp:rcpt"
            r"|rcpt to:? ?<[^>]*>:? ?(?:\.\.\.)? ?[45]\d\d"
            r"|does not like recipient"
        ),
        "RCPT",
    ),
    (
        re.compile(
            r"in reply to (?:the )?(?:end of )?data\b|after (?:end of )?data\b|>>> data"
            r"|did not like our (?:final )?data|\bdata (?:command|response)|smtp:data|\[data\]"
        ),
        "DATA",
    ),
    (
        re.compile(
            r"in reply to (?:the )?mail from|after mail from|>>> mail from|did not like our mail"
            r"|\[mail_from\]|smtp:mail"
        ),
        "MAIL",
    ),
    (
        re.compile(
            r"in reply to (?:the )?(?:helo|ehlo)|after (?:helo|ehlo)|>>> (?:helo|ehlo)"
            r"|my name was rejected"
        ),
        "EHLO",
    ),
    (re.compile(r"after initial connection|during greeting|greeting wait"), "CONN"),
    (re.compile(r"in reply to (?:the )?starttls|after starttls"), "STARTTLS"),
)
_WEAK_RCPT = re.compile(r"\brcpt\b")


def _status_codes(text: str) -> list[str]:
    """Enhanced codes in ``text``: those a reply code introduces first (the remote server's own
    words), then bare ones, each once."""
    paired: list[str] = []
    bare: list[str] = []
    for match in _STATUS.finditer(text):
        code = ".".join(match.groups())
        if match.group(1) == "2" or int(match.group(2)) > 7:
            continue
        before = text[max(0, match.start() - 6) : match.start()]
        target = paired if _PAIRED.search(before) else bare
        target.append(code)
    return list(dict.fromkeys(paired + bare))


def find_status(text: str) -> str:
    """The most telling RFC 3463 code in free text.

    Specific codes beat ``X.0.0``, and the catch-all ``4.4.7`` (expired) yields to the code of the
    failure that made it expire when the text quotes one.
    """
    codes = _status_codes(text[:DIAGNOSTIC_CHARS])
    specific = [c for c in codes if not c.endswith(".0.0")]
    if len(specific) > 1 and specific[0] == "4.4.7":
        return specific[1]
    if specific:
        return specific[0]
    return codes[0] if codes else ""


def find_reply_code(text: str, status: str = "") -> str:
    """An SMTP reply code in free text: the one introducing ``status`` if any, else the first
    of the same class as ``status``, else the first."""
    if status:
        for paired in _REPLY_WITH_STATUS.finditer(text):
            if paired.group(2) == status and paired.group(1) in _REPLY_CODES:
                return paired.group(1)
    text = text[:DIAGNOSTIC_CHARS]
    found = [m.group(1) for m in _REPLY.finditer(text) if m.group(1) in _REPLY_CODES]
    if not found:
        return ""
    if status:
        for code in found:
            if code[0] == status[0]:
                return code
    return found[0]


def find_command(text: str) -> str:
    """The SMTP command the remote server was answering, when the text tells."""
    lowered = re.sub(r"\s+", " ", text[:DIAGNOSTIC_CHARS].lower())
    best = ""
    best_at = -1
    for pattern, command in _COMMANDS:
        for match in pattern.finditer(lowered):
            if match.start() > best_at:
                best, best_at = command, match.start()
    if not best and _WEAK_RCPT.search(lowered):
        return "RCPT"
    return best


def prefer_status(field: str, in_text: str, reply_code: str = "") -> str:
    """Choose between a Status field and a code quoted in the diagnostic text.

    A generic field (``5.0.0``) or one whose class disagrees with the reply code loses to a
    specific code from the server's own words.
    """
    if not field:
        return in_text
    if not in_text or field == in_text:
        return field
    if reply_code and field[0] != in_text[0]:
        if reply_code[0] == in_text[0]:
            return in_text
        if reply_code[0] == field[0]:
            return field
    if field.endswith(".0.0"):
        return field if in_text.endswith(".0.0") else in_text
    if _has_zero_detail(field) and not _has_zero_detail(in_text):
        return in_text
    if field in ("4.4.7", "4.7.0") or field.startswith("5.3."):
        return in_text
    if field == "5.1.1" and not in_text.startswith("5.5.") and not _has_zero_detail(in_text):
        return in_text
    if field == "5.1.3" and in_text.startswith("5.7."):
        return in_text
    if field[1:4] in (".5.1", ".5.2", ".5.4", ".5.5"):
        return in_text
    return field


def _has_zero_detail(status: str) -> bool:
    parts = status.split(".")
    return len(parts) == 3 and "0" in (parts[1], parts[2])


def status_reason(status: str) -> str:
    """The reason an enhanced status code names by itself, or ""."""
    named = _STATUS_REASON.get(status, "")
    if not named and status[:4] in ("5.6.", "4.6."):
        return "contenterror"
    if not named and status[:4] in ("5.7.", "4.7.") and status not in ("4.7.0",):
        return "securityerror"
    return named


def pseudo_status(reason: str, temporary: bool) -> str:
    """sisimai's stand-in code for a reason when the message carries no enhanced code."""
    detail = _PSEUDO.get(reason)
    if detail is None:
        return ""
    if temporary and reason in ("userunknown", "hostunknown", "hasmoved"):
        temporary = False
    if temporary and reason == "filtered":
        detail = "924"
    return f"{'4' if temporary else '5'}.0.{detail}"
