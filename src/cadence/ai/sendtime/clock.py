"""Local hour-of-week slots and the next UTC instant at a slot, DST-correct via ``zoneinfo``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["local_slot", "next_slot_instant", "zone"]


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    """The ``ZoneInfo`` for ``name``; UTC when the name is missing or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def local_slot(at: datetime, tz: ZoneInfo) -> tuple[int, float]:
    """The local hour-of-week slot of an instant and how far into that hour it falls.

    Args:
        at: An aware instant.
        tz: The zone whose clock is read.

    Returns:
        ``(slot, fraction)``: ``slot = weekday * 24 + hour`` (Monday 00:00 is 0) and the
        fraction of the hour already elapsed, in ``[0, 1)``.
    """
    local = at.astimezone(tz)
    frac = (local.minute * 60 + local.second + local.microsecond / 1e6) / 3600.0
    return local.weekday() * 24 + local.hour, frac


def next_slot_instant(slot: int, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` when ``tz``'s clock starts the local ``slot``.

    When the slot's start does not exist that day (clocks jump forward over it), the instant of
    the jump is used; when it occurs twice (clocks go back), the first occurrence.

    Args:
        slot: Local hour of the week, 0..167.
        tz: The contact's zone.
        after: An aware instant.

    Returns:
        An aware datetime in UTC.
    """
    day, hour = divmod(slot, 24)
    after_utc = after.astimezone(UTC)
    local_date = after_utc.astimezone(tz).date()
    # Start a day early: a zone behind UTC may still be on the previous day's wall clock.
    for offset in range(-1, 16):
        candidate_date = local_date + timedelta(days=offset)
        if candidate_date.weekday() != day:
            continue
        wall = datetime.combine(candidate_date, time(hour), tzinfo=tz)  # fold=0: first/pre-gap
        instant = wall.astimezone(UTC)
        if instant > after_utc:
            return instant
    raise AssertionError("unreachable: a weekday recurs within 16 days")  # pragma: no cover
