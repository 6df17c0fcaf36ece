"""When a sequence step may go out: send windows and delays in the contact's local time.

Pure functions: no I/O and no clock reads; every "now" is a parameter and every result is UTC.

A window is a set of *wall-clock* times. An instant is open when, read on the contact's clock, its
date is an open day (weekday in ``days`` and not a public holiday of ``holidays``) and its time of
day is in ``[start, end)``. Daylight saving time makes that set irregular, and every function here
agrees with :func:`is_open` on it:

* a start (or end) that falls in a spring-forward gap takes effect at the transition, the first
  instant that exists after it;
* a fall-back hour that lies in the window is open both times the clock shows it, so the first
  occurrence (``fold=0``) comes first.

The time-zone arithmetic and the holiday calendars live in :mod:`cadence.domain.calendar`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from cadence.domain.calendar import (
    canonical_holiday_code,
    earliest_instant,
    first_instant_at,
    holiday_dates,
)
from cadence.errors import InvalidInput

__all__ = [
    "ALWAYS_OPEN",
    "Delay",
    "SendWindow",
    "due_at",
    "is_open",
    "local_day_bounds",
    "next_open",
    "parse_window",
]

_WEEKDAYS = frozenset({0, 1, 2, 3, 4})
# Every real window opens within weeks; this bound only turns a logic error into an exception.
_SEARCH_DAYS = 3660
_MAX_HOURS = 2160
_MAX_BUSINESS_DAYS = 90
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_WINDOW_KEYS = frozenset({"days", "start", "end", "start_hour", "end_hour", "holidays"})


# --- validation -----------------------------------------------------------------------------------


def _require_aware(name: str, value: object) -> None:
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime, got {value!r}", field=name, value=value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{name} must be timezone-aware, got naive {value.isoformat()}", field=name, value=value
        )


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"{name} must be an integer {low}..{high}, got {value!r}", field=name, value=value
        )


def _check_days(days: object) -> frozenset[int]:
    found: frozenset[object] = frozenset()
    if isinstance(days, Iterable) and not isinstance(days, str | bytes):
        try:
            found = frozenset(days)
        except TypeError:  # unhashable members
            found = frozenset()
    valid = all(type(day) is int and 0 <= day <= 6 for day in found)
    if not found or not valid:
        raise InvalidInput(
            f"days must be a non-empty set of weekday numbers 0..6 (Monday is 0), got {days!r}",
            field="days",
            value=days,
        )
    return frozenset(day for day in found if isinstance(day, int))


def _check_clock(name: str, value: object, *, end_of_day_ok: bool) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidInput(
            f"{name} must be a local time of day without tzinfo, got {value!r}",
            field=name,
            value=value,
        )
    if end_of_day_ok and value == time.max:
        return
    if value.second or value.microsecond:
        raise InvalidInput(
            f"{name} must be on a whole minute, got {value}", field=name, value=value
        )


def _format_clock(value: time) -> str:
    return "24:00" if value == time.max else f"{value.hour:02d}:{value.minute:02d}"


@dataclass(frozen=True)
class SendWindow:
    """When steps may go out, in the contact's local time.

    Attributes:
        days: Open weekdays, ``date.weekday()`` numbering (Monday is 0). Any iterable of ints is
            accepted and stored as a frozenset.
        start: Local opening time, inclusive, on a whole minute.
        end: Local closing time, exclusive, on a whole minute. ``time.max`` means the end of the
            day (24:00). Must be after ``start``: overnight windows are not supported.
        holidays: A ``holidays`` package calendar, ``"US"`` or ``"US-CA"`` style (country, then an
            optional subdivision); its public holidays (observed days included) are closed. Stored
            canonical: ``"us-ca"`` becomes ``"US-CA"``.

    Raises:
        InvalidInput: naming the field at fault, if any of the above does not hold.
    """

    days: frozenset[int] = _WEEKDAYS
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", _check_days(self.days))
        _check_clock("start", self.start, end_of_day_ok=False)
        _check_clock("end", self.end, end_of_day_ok=True)
        if self.start >= self.end:
            raise InvalidInput(
                f"window end {_format_clock(self.end)} must be after start "
                f"{_format_clock(self.start)}; overnight windows are not supported",
                field="end",
                value=self.end,
            )
        if self.holidays is not None:
            object.__setattr__(self, "holidays", canonical_holiday_code(self.holidays))

    def is_open_day(self, day: date) -> bool:
        """Whether ``day`` (a local calendar date) is open: an open weekday and not a holiday."""
        if day.weekday() not in self.days:
            return False
        return self.holidays is None or day not in holiday_dates(self.holidays, day.year)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the store keeps; :func:`parse_window` reads it back to an equal window."""
        return {
            "days": sorted(self.days),
            "start": _format_clock(self.start),
            "end": _format_clock(self.end),
            "holidays": self.holidays,
        }


ALWAYS_OPEN = SendWindow(days=frozenset(range(7)), start=time(0, 0), end=time.max)
"""Every day, all day: ``end=time.max`` is read as 24:00, so no instant is closed."""

# Business days when a step has no window: Monday to Friday, no holiday calendar.
_BUSINESS_WEEK = SendWindow()


@dataclass(frozen=True)
class Delay:
    """How long to wait after the previous step.

    Attributes:
        hours: Elapsed hours, 0..2160. Real time, so 24 hours across a DST change is 24 hours.
        business_days: Open days of the window to skip, 0..90, keeping the local wall-clock time.
    """

    hours: int = 0
    business_days: int = 0

    def __post_init__(self) -> None:
        _check_int("hours", self.hours, 0, _MAX_HOURS)
        _check_int("business_days", self.business_days, 0, _MAX_BUSINESS_DAYS)


def parse_window(data: Mapping[str, Any]) -> SendWindow:
    """Read a window from its JSON form.

    Accepts ``{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00", "holidays": "US"}``.
    ``start_hour`` (0..23) and ``end_hour`` (1..24) may replace ``start`` and ``end``; ``"24:00"``
    or ``end_hour: 24`` mean the end of the day. Missing keys take the :class:`SendWindow`
    defaults.

    Args:
        data: The mapping, as stored or as received at an edge.

    Returns:
        The validated window.

    Raises:
        InvalidInput: naming the field, for an unknown key or a bad value.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"send window must be a mapping, got {data!r}", field="window", value=data
        )
    unknown = sorted(str(key) for key in data if key not in _WINDOW_KEYS)
    if unknown:
        raise InvalidInput(
            f"unknown send window field {unknown[0]!r}", field=unknown[0], value=data[unknown[0]]
        )
    default = SendWindow()
    return SendWindow(
        days=data.get("days", default.days),
        start=_parse_bound(data, "start", default.start),
        end=_parse_bound(data, "end", default.end),
        holidays=data.get("holidays"),
    )


def is_open(at: datetime, window: SendWindow, tz: ZoneInfo) -> bool:
    """Whether a step may go out at ``at``.

    Args:
        at: An aware instant, in any time zone.
        window: The send window.
        tz: The contact's time zone.

    Returns:
        True if ``at``, read on the contact's clock, is inside the window.

    Raises:
        InvalidInput: if ``at`` is naive.
    """
    _require_aware("at", at)
    return _wall_is_open(at.astimezone(tz).replace(tzinfo=None), window)


def next_open(at: datetime, window: SendWindow, tz: ZoneInfo) -> datetime:
    """The earliest instant at or after ``at`` inside the window.

    An overdue step therefore waits for the next window rather than going out at night.

    Args:
        at: An aware instant, in any time zone.
        window: The send window.
        tz: The contact's time zone.

    Returns:
        That instant, in UTC; ``at`` itself (in UTC) if the window is open then.

    Raises:
        InvalidInput: if ``at`` is naive.
    """
    _require_aware("at", at)
    return earliest_instant(at, tz, lambda wall: _next_open_wall(wall, window))


def due_at(previous: datetime, delay: Delay, window: SendWindow | None, tz: ZoneInfo) -> datetime:
    """When the next step is due.

    ``delay.hours`` are added first, as elapsed time. ``delay.business_days`` then moves the local
    date forward over that many open days (``window.days`` minus its holidays; Monday to Friday if
    there is no window), keeping the local wall-clock time; if that time does not exist on the
    day reached (spring forward), the step is due when the clock jumps. Finally the result is
    moved to :func:`next_open`.

    Args:
        previous: When the previous step went out, or when the contact was enrolled; aware.
        delay: The wait.
        window: The send window, or None to send at any time.
        tz: The contact's time zone.

    Returns:
        The due instant in UTC, never earlier than ``previous + delay.hours``.

    Raises:
        InvalidInput: if ``previous`` is naive.
    """
    _require_aware("previous", previous)
    # Aware arithmetic in a ZoneInfo keeps wall time; hours must be elapsed, so add them in UTC.
    moment = previous.astimezone(UTC) + timedelta(hours=delay.hours)
    if delay.business_days:
        counted = window or _BUSINESS_WEEK
        wall = moment.astimezone(tz).replace(tzinfo=None)
        day, remaining = wall.date(), delay.business_days
        while remaining:
            day += timedelta(days=1)
            if counted.is_open_day(day):
                remaining -= 1
        moment = first_instant_at(datetime.combine(day, wall.time()), tz)
    return moment if window is None else next_open(moment, window, tz)


def local_day_bounds(at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The contact's local calendar day containing ``at``, for per-day limits.

    Args:
        at: An aware instant, in any time zone.
        tz: The contact's time zone.

    Returns:
        ``(start, end)`` in UTC, end exclusive. A DST day is shorter or longer by the zone's
        shift: 23 or 25 hours mostly, 23.5 or 24.5 in Australia/Lord_Howe, 22 or 26 in
        Antarctica/Troll. A day whose midnight is skipped starts when the clock jumps.

    Raises:
        InvalidInput: if ``at`` is naive.
    """
    _require_aware("at", at)
    return _day_bounds(tz, at.astimezone(tz).date())


@lru_cache(maxsize=65_536)
def _day_bounds(tz: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    # Contacts share zones and days: finding the transitions once per (zone, day) is enough.
    midnight = datetime.combine(day, time())
    return first_instant_at(midnight, tz), first_instant_at(midnight + timedelta(days=1), tz)


# --- windows on the wall clock --------------------------------------------------------------------


def _wall_is_open(wall: datetime, window: SendWindow) -> bool:
    clock = wall.time()
    before_end = window.end == time.max or clock < window.end
    return window.start <= clock and before_end and window.is_open_day(wall.date())


def _next_open_wall(wall: datetime, window: SendWindow) -> datetime:
    """The earliest naive wall time at or after ``wall`` inside the window."""
    if _wall_is_open(wall, window):
        return wall
    day = wall.date()
    if wall.time() < window.start and window.is_open_day(day):
        return datetime.combine(day, window.start)
    for _ in range(_SEARCH_DAYS):
        day += timedelta(days=1)
        if window.is_open_day(day):
            return datetime.combine(day, window.start)
    raise InvalidInput(
        f"send window never opens within {_SEARCH_DAYS} days of {wall:%Y-%m-%d}",
        field="window",
        value=window.to_dict(),
    )


# --- parsing --------------------------------------------------------------------------------------


def _parse_bound(data: Mapping[str, Any], name: str, default: time) -> time:
    hour_key = f"{name}_hour"
    if name in data and hour_key in data:
        raise InvalidInput(
            f"give {name} or {hour_key}, not both", field=hour_key, value=data[hour_key]
        )
    if hour_key in data:
        hour = data[hour_key]
        low, high = (1, 24) if name == "end" else (0, 23)
        _check_int(hour_key, hour, low, high)
        return time.max if hour == 24 else time(hour)
    value = data.get(name, default)
    if isinstance(value, time):
        return value
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        if name == "end" and (hour, minute) == (24, 0):
            return time.max
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise InvalidInput(
        f"{name} must be a time such as '08:00', got {value!r}", field=name, value=value
    )
