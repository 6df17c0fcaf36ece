"""Auto-replies (RFC 3834 and vendor habits) and the return date an out-of-office states.

Dates in out-of-office text rarely carry a year ("back on Monday 12 January"), so every date is
resolved against a reference day (the message's Date, else the caller's ``today``) as the next
such day on or after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import Message

__all__ = ["is_auto_reply", "is_auto_reply_subject", "return_date"]

_SUBJECT = re.compile(
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[ -]?(?:reply|response|respon[dc]er)"
    r"|auto:|abwesenheit|automatische antwort|réponse automatique|reponse automatique|absence"
    r"|risposta automatica|fuori sede|respuesta automática|respuesta automatica|fuera de la oficina"
    r"|automatisch antwoord|afwezig|au(?:ss|ß)er haus|on (?:vacation|holiday|leave)"
    r"|vacation (?:reply|notice|message)|away (?:from|until)|i am away|ooo\b|autosvar"
    r"|automaattinen vastaus|odpowiedź automatyczna|automatická odpověď",
    re.IGNORECASE,
)
_BODY = re.compile(
    r"out of (?:the )?office|i (?:am|'m) (?:currently )?(?:away|out|on (?:vacation|holiday|leave))"
    r"|on (?:annual |parental |maternity |sick )?leave|limited access to (?:my )?e-?mail"
    r"|(?:will|shall) (?:be )?(?:back|return)|upon my return|returning (?:to the office )?on"
    r"|away from (?:the|my) (?:office|desk)|bin (?:bis|ab)|abwesend|je suis absent"
    r"|this is an automatic|automatically generated|auto-?reply",
    re.IGNORECASE,
)
_HEADER_FLAGS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
    "X-Autoresponse",
    "X-AutoReply-From",
    "X-Mail-Autoreply",
    "X-Vacation",
)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "januar", "janvier", "enero", "gennaio", "januari", "jänner"),
            ("feb", "february", "februar", "février", "fevrier", "febrero", "febbraio", "februari"),
            ("mar", "march", "märz", "maerz", "mars", "marzo", "maart"),
            ("apr", "april", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio", "mei"),
            ("jun", "june", "juni", "juin", "junio", "giugno"),
            ("jul", "july", "juli", "juillet", "julio", "luglio"),
            ("aug", "august", "août", "aout", "agosto", "augustus"),
            ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
            ("oct", "october", "oktober", "octobre", "octubre", "ottobre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dezember", "décembre", "decembre", "diciembre", "dicembre"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon", "montag", "lundi", "lunes", "lunedì", "maandag"),
            ("tuesday", "tue", "tues", "dienstag", "mardi", "martes", "martedì", "dinsdag"),
            ("wednesday", "wed", "mittwoch", "mercredi", "miércoles", "mercoledì", "woensdag"),
            ("thursday", "thu", "thur", "thurs", "donnerstag", "jeudi", "jueves", "donderdag"),
            ("friday", "fri", "freitag", "vendredi", "viernes", "venerdì", "vrijdag"),
            ("saturday", "sat", "samstag", "samedi", "sábado", "sabato", "zaterdag"),
            ("sunday", "sun", "sonntag", "dimanche", "domingo", "domenica", "zondag"),
        )
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(map(re.escape, _WEEKDAYS), key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|er|\.)?"
_DATE_PATTERNS = (
    ("iso", re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")),
    ("numeric", re.compile(r"\b(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?\b(?![/.]\d)")),
    (
        "day_month",
        re.compile(
            rf"\b(\d{{1,2}}){_ORD}(?:\s+of)?\s+({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE
        ),
    ),
    (
        "month_day",
        re.compile(
            rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}){_ORD}(?!\d)(?:,?\s+(\d{{4}}))?", re.IGNORECASE
        ),
    ),
    (
        "weekday",
        re.compile(
            rf"\b(?:on\s+|next\s+)?({_WEEKDAY_RE})\b\.?"
            rf"(?!,?\s*(?:the\s+)?(?:\d|(?:{_MONTH_RE})\b))",
            re.IGNORECASE,
        ),
    ),
    ("relative", re.compile(r"\b(tomorrow|morgen|demain|mañana)\b", re.IGNORECASE)),
    (
        "ordinal",
        re.compile(
            rf"\bthe (\d{{1,2}})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?(?:{_MONTH_RE})\b)",
            re.IGNORECASE,
        ),
    ),
)
_RETURN_CUE = re.compile(
    r"\b(?:back|return(?:ing|s)?|until|till|through|thru|resum\w*|zurück|wieder|bis|retour"
    r"|jusqu|de vuelta|hasta|rientro|fino al|terug|tot en met)\b",
    re.IGNORECASE,
)


def is_auto_reply_subject(subject: str) -> bool:
    """True when a subject starts like an out-of-office or other automatic answer.

    Only the start counts: "Automatic reply: <our subject>" is an auto-reply, while a person's
    "Re: holiday absence policy" is not.
    """
    return bool(_SUBJECT.match(subject.strip()))


def is_auto_reply(msg: Message, subject: str, body: str) -> bool:
    """True for out-of-office and other automatic answers to a message we sent.

    RFC 3834 ``Auto-Submitted: auto-replied`` and the vendor flags decide alone; ``Precedence``
    and ``X-Auto-Response-Suppress`` (also set on bulk mail and calendar traffic) need a subject
    or body that sounds like an automatic answer.
    """
    auto_submitted = str(msg.get("Auto-Submitted", "") or "").strip().lower()
    if auto_submitted.startswith("auto-replied"):
        return True
    if any(msg.get(name) is not None for name in _HEADER_FLAGS):
        return True
    precedence = str(msg.get("Precedence", "") or "").strip().lower()
    if precedence == "auto_reply":
        return True
    if is_auto_reply_subject(subject):
        return True
    weak_header = (
        precedence in ("bulk", "junk", "list")
        or msg.get("X-Auto-Response-Suppress") is not None
        or auto_submitted.startswith("auto-")
    )
    return weak_header and bool(_BODY.search(body[:5000]))


def _candidates(text: str, reference: date) -> Iterator[tuple[int, bool, date]]:
    """(position, needs a return cue, date) for every date-like phrase in ``text``."""
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            # Bare weekdays, "tomorrow" and year-less 10.30-style numbers are only dates when a
            # return cue introduces them.
            needs_cue = kind in ("weekday", "relative", "ordinal") or (
                kind == "numeric" and not match.group(3)
            )
            for resolved in _resolve(kind, match.groups(), reference):
                yield match.start(), needs_cue, resolved


def _resolve(kind: str, groups: tuple[str | None, ...], reference: date) -> list[date]:
    if kind == "iso":
        return _valid(int(groups[0] or 0), int(groups[1] or 0), int(groups[2] or 0))
    if kind == "numeric":
        first, second, year = int(groups[0] or 0), int(groups[1] or 0), groups[2]
        readings = [(second, first), (first, second)]  # day/month first, then month/day
        found: list[date] = []
        for month, day in readings:
            found.extend(_with_year(year, month, day, reference))
        return _nearest(found, reference)
    if kind == "day_month":
        month = _MONTHS.get((groups[1] or "").lower(), 0)
        return _with_year(groups[2], month, int(groups[0] or 0), reference)
    if kind == "month_day":
        month = _MONTHS.get((groups[0] or "").lower(), 0)
        return _with_year(groups[2], month, int(groups[1] or 0), reference)
    if kind == "ordinal":
        day = int(groups[0] or 0)
        for offset in range(0, 3):
            month_index = reference.month - 1 + offset
            found = _valid(reference.year + month_index // 12, month_index % 12 + 1, day)
            if found and found[0] >= reference:
                return found
        return []
    if kind == "weekday":
        weekday = _WEEKDAYS[(groups[0] or "").lower()]
        ahead = (weekday - reference.weekday()) % 7 or 7
        return [reference + timedelta(days=ahead)]
    return [reference + timedelta(days=1)]


def _valid(year: int, month: int, day: int) -> list[date]:
    try:
        return [date(year, month, day)]
    except ValueError:
        return []


def _with_year(year: str | None, month: int, day: int, reference: date) -> list[date]:
    if year:
        number = int(year)
        if number < 100:
            number += 2000
        return _valid(number, month, day)
    for offset in (0, 1):
        found = _valid(reference.year + offset, month, day)
        if found and found[0] >= reference:
            return found
    return []


def _nearest(found: list[date], reference: date) -> list[date]:
    future = sorted(d for d in found if d >= reference)
    return future[:1] if future else []


def return_date(text: str, reference: date) -> date | None:
    """The day an out-of-office says its author is back, or None.

    A date right after a return cue ("back", "returning", "until"...) wins; otherwise the
    latest plausible date on or after ``reference`` that is not absurdly far away.
    """
    text = re.sub(r"\s+", " ", text[:8000])
    cued: list[tuple[int, date]] = []
    others: list[date] = []
    for start, needs_cue, resolved in _candidates(text, reference):
        if resolved < reference or resolved > reference + timedelta(days=400):
            continue
        window = text[max(0, start - 60) : start]
        if _RETURN_CUE.search(window):
            cue_at = max(m.end() for m in _RETURN_CUE.finditer(window))
            cued.append((len(window) - cue_at, resolved))
        elif not needs_cue:
            others.append(resolved)
    if cued:
        cued.sort(key=lambda item: (item[0], -item[1].toordinal()))
        return cued[0][1]
    return max(others) if others else None
