"""Local-time arithmetic and holiday calendars behind :mod:`cadence.domain.schedule`.

Between two changes of UTC offset, a zone's wall time is UTC plus a constant, so a question about
wall time ("the first instant whose clock shows 08:00 on an open day") is solved with naive
arithmetic one constant-offset stretch at a time. ``zoneinfo`` has no public list of
transitions; we find them by sampling the offset hourly and bisecting to the second. That is exact
for tzdata, whose transitions fall on whole seconds and never come twice within an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from cadence.errors import InvalidInput

__all__ = ["canonical_holiday_code", "earliest_instant", "first_instant_at", "holiday_dates"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_SAMPLE_SECONDS = 3600
# No zone is more than 14 h from UTC, so this far before a wall time its clock is always behind it.
_BEFORE_ANY_WALL = timedelta(hours=16)


def earliest_instant(
    start: datetime, tz: ZoneInfo, next_wall: Callable[[datetime], datetime]
) -> datetime:
    """The earliest instant at or after ``start`` whose local wall time suits ``next_wall``.

    Args:
        start: An aware instant.
        tz: The zone whose clock is read.
        next_wall: Given a naive wall time ``w``, the earliest acceptable wall time at or after
            ``w`` (``w`` itself if acceptable).

    Returns:
        The instant, in UTC.
    """
    moment = start.astimezone(UTC)
    while True:
        offset = _offset(moment, tz)
        wall = (moment + offset).replace(tzinfo=None)
        target = next_wall(wall)
        if target == wall:
            return moment
        candidate = (target - offset).replace(tzinfo=UTC)
        transition = _next_transition(moment, candidate, tz)
        if transition is None:
            return candidate
        # The clock jumps before showing the target, so nothing in this stretch is acceptable;
        # after the jump it may show an acceptable time at once (a window start in a gap).
        moment = transition


def first_instant_at(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant whose local wall time is at or after ``wall`` (naive), in UTC.

    An ambiguous wall time gives its first occurrence (``fold=0``); one in a spring-forward gap
    gives the transition, the first instant that exists after it.
    """
    floor = (wall - _BEFORE_ANY_WALL).replace(tzinfo=UTC)
    return earliest_instant(floor, tz, lambda seen: max(seen, wall))


def _next_transition(low: datetime, high: datetime, tz: ZoneInfo) -> datetime | None:
    """The first instant in ``(low, high]`` where the UTC offset differs from that at ``low``."""
    base = _offset(low, tz)
    left, stop = (low - _EPOCH) // _SECOND, (high - _EPOCH) // _SECOND
    while left < stop:
        right = min(left + _SAMPLE_SECONDS, stop)
        if _offset_at_second(right, tz) != base:
            while right - left > 1:
                middle = (left + right) // 2
                if _offset_at_second(middle, tz) == base:
                    left = middle
                else:
                    right = middle
            return _EPOCH + timedelta(seconds=right)
        left = right
    return None


def _offset_at_second(second: int, tz: ZoneInfo) -> timedelta:
    return _offset(_EPOCH + timedelta(seconds=second), tz)


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    offset = moment.astimezone(tz).utcoffset()
    if offset is None:
        raise InvalidInput(f"time zone {tz} gives no UTC offset", field="tz", value=str(tz))
    return offset


@lru_cache(maxsize=1024)
def holiday_dates(code: str, year: int) -> frozenset[date]:
    """The public holidays (observed days included) of a canonical calendar code in one year.

    Cached per (code, year): building a calendar costs about a millisecond and this runs per send.
    """
    country, _, subdivision = code.partition("-")
    calendar = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(day for day in calendar if day.year == year)


@lru_cache(maxsize=1)
def _supported_calendars() -> dict[str, list[str]]:
    supported: dict[str, list[str]] = holidays_lib.list_supported_countries(include_aliases=False)
    return supported


def canonical_holiday_code(code: object) -> str:
    """Check a ``"US"`` / ``"US-CA"`` style code against the ``holidays`` package.

    Returns:
        The code as the package spells it (``"us-ca"`` gives ``"US-CA"``).

    Raises:
        InvalidInput: on field ``holidays``, for an unknown country or subdivision.
    """
    if not isinstance(code, str):
        raise InvalidInput(
            f"holidays must be a calendar code such as 'US' or 'DE-BY', got {code!r}",
            field="holidays",
            value=code,
        )
    country, dash, subdivision = code.strip().partition("-")
    subdivisions = _supported_calendars().get(country.upper())
    if subdivisions is None:
        raise InvalidInput(
            f"unknown holiday calendar {code!r}: the holidays package has no country {country!r}",
            field="holidays",
            value=code,
        )
    if not dash:
        return country.upper()
    match = next((known for known in subdivisions if known.upper() == subdivision.upper()), None)
    if match is None:
        raise InvalidInput(
            f"unknown holiday calendar {code!r}: {country.upper()} has no subdivision "
            f"{subdivision!r}",
            field="holidays",
            value=code,
        )
    return f"{country.upper()}-{match}"
