"""Send windows, delays and due times in the contact's local time, DST and holidays included."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.domain import calendar as calendar_module
from cadence.domain.schedule import (
    ALWAYS_OPEN,
    Delay,
    SendWindow,
    due_at,
    is_open,
    local_day_bounds,
    next_open,
    parse_window,
)
from cadence.errors import InvalidInput

NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = frozenset(range(7))
OFFICE = SendWindow()  # Monday to Friday, 08:00-18:00
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tz)


# --- next_open and is_open ------------------------------------------------------------------------


def test_open_instant_is_returned_unchanged_in_utc() -> None:
    at = local(NEW_YORK, 2026, 3, 4, 10, 15, 30, 123)  # a Wednesday
    result = next_open(at, OFFICE, NEW_YORK)
    assert result == at
    assert result.tzinfo is UTC


def test_before_window_waits_for_start_same_day() -> None:
    at = local(NEW_YORK, 2026, 3, 4, 6, 0)
    assert next_open(at, OFFICE, NEW_YORK) == local(NEW_YORK, 2026, 3, 4, 8, 0)


def test_overdue_step_waits_for_next_window() -> None:
    # Due at 10:00 but the worker only sees it at 22:00: it must not go out at night.
    now = local(NEW_YORK, 2026, 3, 3, 22, 0)
    assert not is_open(now, OFFICE, NEW_YORK)
    assert next_open(now, OFFICE, NEW_YORK) == local(NEW_YORK, 2026, 3, 4, 8, 0)


def test_friday_after_hours_waits_until_monday() -> None:
    at = local(NEW_YORK, 2026, 3, 6, 18, 0)  # Friday; the end is exclusive
    assert next_open(at, OFFICE, NEW_YORK) == local(NEW_YORK, 2026, 3, 9, 8, 0)


def test_window_start_is_inclusive_and_end_exclusive() -> None:
    assert is_open(local(NEW_YORK, 2026, 3, 4, 8, 0), OFFICE, NEW_YORK)
    assert is_open(local(NEW_YORK, 2026, 3, 4, 17, 59, 59, 999999), OFFICE, NEW_YORK)
    assert not is_open(local(NEW_YORK, 2026, 3, 4, 18, 0), OFFICE, NEW_YORK)
    assert not is_open(local(NEW_YORK, 2026, 3, 4, 7, 59, 59, 999999), OFFICE, NEW_YORK)


def test_holiday_is_closed_all_day() -> None:
    window = SendWindow(holidays="US")
    thanksgiving = local(NEW_YORK, 2026, 11, 26, 11, 0)
    assert not is_open(thanksgiving, window, NEW_YORK)
    assert is_open(thanksgiving, OFFICE, NEW_YORK)
    assert next_open(thanksgiving, window, NEW_YORK) == local(NEW_YORK, 2026, 11, 27, 8, 0)


def test_observed_holiday_is_closed() -> None:
    # 4 July 2026 is a Saturday; the federal holiday is observed on Friday the 3rd.
    assert not is_open(local(NEW_YORK, 2026, 7, 3, 9, 0), SendWindow(holidays="US"), NEW_YORK)


def test_subdivision_holidays_differ_from_each_other() -> None:
    epiphany = local(ZoneInfo("Europe/Berlin"), 2026, 1, 6, 9, 0)  # a holiday in Bavaria only
    assert not is_open(epiphany, SendWindow(holidays="DE-BY"), ZoneInfo("Europe/Berlin"))
    assert is_open(epiphany, SendWindow(holidays="DE-BE"), ZoneInfo("Europe/Berlin"))


def test_window_is_read_on_the_contacts_clock_not_the_callers() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    at = local(tokyo, 2026, 3, 4, 23, 0)  # 09:00 in New York
    assert is_open(at, OFFICE, NEW_YORK)
    assert not is_open(at, OFFICE, tokyo)
    assert next_open(at, OFFICE, tokyo) == local(tokyo, 2026, 3, 5, 8, 0)


def test_window_start_in_spring_forward_gap() -> None:
    # 02:30 does not exist in New York on 8 March 2026: the window opens at the jump, 03:00 EDT.
    window = SendWindow(days=EVERY_DAY, start=time(2, 30), end=time(12, 0))
    result = next_open(local(NEW_YORK, 2026, 3, 8, 0, 0), window, NEW_YORK)
    assert result == utc(2026, 3, 8, 7, 0)
    assert result.astimezone(NEW_YORK).time() == time(3, 0)
    assert not is_open(result - timedelta(microseconds=1), window, NEW_YORK)


def test_window_end_in_spring_forward_gap_closes_at_the_jump() -> None:
    window = SendWindow(days=EVERY_DAY, start=time(1, 0), end=time(2, 30))
    last = utc(2026, 3, 8, 7, 0) - timedelta(microseconds=1)  # 01:59:59.999999 EST
    assert is_open(last, window, NEW_YORK)
    assert not is_open(utc(2026, 3, 8, 7, 0), window, NEW_YORK)
    assert next_open(utc(2026, 3, 8, 7, 0), window, NEW_YORK) == local(NEW_YORK, 2026, 3, 9, 1, 0)


def test_window_start_in_fall_back_hour_uses_first_occurrence() -> None:
    window = SendWindow(days=EVERY_DAY, start=time(1, 30), end=time(9, 0))
    result = next_open(local(NEW_YORK, 2026, 11, 1, 0, 0), window, NEW_YORK)
    # Aware datetimes at an ambiguous wall time never compare equal across zones (PEP 495), so
    # compare in UTC and read the fold back.
    assert result == utc(2026, 11, 1, 5, 30)
    shown = result.astimezone(NEW_YORK)
    assert (shown.time(), shown.fold) == (time(1, 30), 0)


def test_fall_back_hour_inside_window_is_open_both_times() -> None:
    window = SendWindow(days=EVERY_DAY, start=time(1, 0), end=time(1, 30))
    first_close = utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert not is_open(first_close, window, NEW_YORK)
    second_pass = next_open(first_close, window, NEW_YORK)
    assert second_pass == utc(2026, 11, 1, 6, 0)
    shown = second_pass.astimezone(NEW_YORK)
    assert (shown.time(), shown.fold) == (time(1, 0), 1)


def test_always_open_never_moves_a_step() -> None:
    at = local(ZoneInfo("Asia/Kathmandu"), 2026, 12, 25, 23, 59, 59, 999999)
    assert is_open(at, ALWAYS_OPEN, ZoneInfo("Asia/Kathmandu"))
    assert next_open(at, ALWAYS_OPEN, ZoneInfo("Asia/Kathmandu")) == at


# --- local_day_bounds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "hours", "starts_at"),
    [
        ("America/New_York", date(2026, 3, 4), 24, time(0, 0)),
        ("America/New_York", date(2026, 3, 8), 23, time(0, 0)),
        ("America/New_York", date(2026, 11, 1), 25, time(0, 0)),
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5, time(0, 0)),
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5, time(0, 0)),
        ("Asia/Kathmandu", date(2026, 3, 8), 24, time(0, 0)),
        # Chile springs forward at midnight: the Sunday starts at 01:00.
        ("America/Santiago", date(2026, 9, 6), 23, time(1, 0)),
        # Lebanon falls back at midnight: the Saturday gets the extra hour.
        ("Asia/Beirut", date(2026, 10, 24), 25, time(0, 0)),
    ],
)
def test_local_day_bounds_follow_the_local_calendar_day(
    zone: str, day: date, hours: float, starts_at: time
) -> None:
    tz = ZoneInfo(zone)
    noon = local(tz, day.year, day.month, day.day, 12, 0)
    start, end = local_day_bounds(noon, tz)
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(tz).date() == day
    assert start.astimezone(tz).time() == starts_at
    assert (end - timedelta(microseconds=1)).astimezone(tz).date() == day
    assert end.astimezone(tz).date() == day + timedelta(days=1)


# --- due_at ---------------------------------------------------------------------------------------


def test_hours_delay_is_elapsed_time_across_dst() -> None:
    # Saturday noon EST + 24 h is Sunday 13:00 EDT: 24 real hours, not "same time tomorrow".
    previous = local(NEW_YORK, 2026, 3, 7, 12, 0)
    result = due_at(previous, Delay(hours=24), None, NEW_YORK)
    assert result - previous == timedelta(hours=24)
    assert result.astimezone(NEW_YORK).time() == time(13, 0)


def test_business_days_keep_wall_clock_across_dst() -> None:
    previous = local(NEW_YORK, 2026, 3, 6, 10, 0)  # Friday, EST
    result = due_at(previous, Delay(business_days=1), OFFICE, NEW_YORK)
    assert result == local(NEW_YORK, 2026, 3, 9, 10, 0) == utc(2026, 3, 9, 14, 0)  # EDT


def test_business_days_skip_weekend_and_holiday() -> None:
    previous = local(NEW_YORK, 2026, 11, 25, 10, 0)  # Wednesday before Thanksgiving
    window = SendWindow(holidays="US")
    # Thursday is Thanksgiving, Friday is the first business day, Monday the second.
    assert due_at(previous, Delay(business_days=2), window, NEW_YORK) == local(
        NEW_YORK, 2026, 11, 30, 10, 0
    )
    assert due_at(previous, Delay(business_days=2), OFFICE, NEW_YORK) == local(
        NEW_YORK, 2026, 11, 27, 10, 0
    )


def test_business_days_follow_window_days() -> None:
    window = SendWindow(days=frozenset({1, 3}))  # Tuesdays and Thursdays
    previous = local(NEW_YORK, 2026, 3, 3, 9, 0)  # Tuesday
    assert due_at(previous, Delay(business_days=2), window, NEW_YORK) == local(
        NEW_YORK, 2026, 3, 10, 9, 0
    )


def test_business_days_without_window_are_weekdays_any_time() -> None:
    previous = local(NEW_YORK, 2026, 3, 6, 23, 0)  # Friday night
    assert due_at(previous, Delay(business_days=1), None, NEW_YORK) == local(
        NEW_YORK, 2026, 3, 9, 23, 0
    )


def test_business_day_landing_in_gap_is_due_at_the_jump() -> None:
    previous = local(NEW_YORK, 2026, 3, 7, 2, 30)
    assert due_at(previous, Delay(business_days=1), ALWAYS_OPEN, NEW_YORK) == utc(2026, 3, 8, 7, 0)


def test_delay_ending_after_hours_waits_for_window() -> None:
    previous = local(NEW_YORK, 2026, 3, 4, 17, 0)
    assert due_at(previous, Delay(hours=2), OFFICE, NEW_YORK) == local(NEW_YORK, 2026, 3, 5, 8, 0)


def test_hours_are_added_before_business_days() -> None:
    previous = local(NEW_YORK, 2026, 3, 5, 10, 0)  # Thursday
    # +20 h is Friday 06:00, +1 business day is Monday 06:00, the window opens at 08:00.
    result = due_at(previous, Delay(hours=20, business_days=1), OFFICE, NEW_YORK)
    assert result == local(NEW_YORK, 2026, 3, 9, 8, 0)


def test_zero_delay_is_next_open() -> None:
    enrolled = local(NEW_YORK, 2026, 3, 7, 9, 0)  # Saturday
    assert due_at(enrolled, Delay(), OFFICE, NEW_YORK) == local(NEW_YORK, 2026, 3, 9, 8, 0)
    assert due_at(enrolled, Delay(), None, NEW_YORK) == enrolled


# --- errors ---------------------------------------------------------------------------------------


NAIVE = datetime(2026, 3, 4, 10, 0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: next_open(NAIVE, OFFICE, NEW_YORK), "at"),
        (lambda: is_open(NAIVE, OFFICE, NEW_YORK), "at"),
        (lambda: local_day_bounds(NAIVE, NEW_YORK), "at"),
        (lambda: due_at(NAIVE, Delay(hours=1), OFFICE, NEW_YORK), "previous"),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    assert caught.value.to_dict()["field"] == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": frozenset()}, "days"),
        ({"days": frozenset({0, 7})}, "days"),
        ({"days": frozenset({True})}, "days"),
        ({"days": "01234"}, "days"),
        ({"days": [1.0]}, "days"),
        ({"days": [[1]]}, "days"),
        ({"start": time(18, 0), "end": time(8, 0)}, "end"),  # overnight
        ({"start": time(9, 0), "end": time(9, 0)}, "end"),
        ({"start": time(8, 0, 30)}, "start"),
        ({"end": time(18, 0, tzinfo=UTC)}, "end"),
        ({"start": "08:00"}, "start"),
        ({"holidays": "XX"}, "holidays"),
        ({"holidays": "US-ZZ"}, "holidays"),
        ({"holidays": ""}, "holidays"),
    ],
)
def test_invalid_window_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        SendWindow(**kwargs)
    assert caught.value.field == field
    assert caught.value.value == kwargs[field]


def test_holiday_code_is_stored_canonical() -> None:
    assert SendWindow(holidays="us-ca").holidays == "US-CA"
    assert SendWindow(holidays="GB-ENG").holidays == "GB-ENG"
    assert SendWindow(days=[0, 2]).days == frozenset({0, 2})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hours": -1}, "hours"),
        ({"hours": 2161}, "hours"),
        ({"hours": 1.5}, "hours"),
        ({"business_days": 91}, "business_days"),
        ({"business_days": True}, "business_days"),
    ],
)
def test_invalid_delay_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Delay(**kwargs)
    assert caught.value.field == field


# --- JSON form ------------------------------------------------------------------------------------


def test_parse_window_reads_the_json_form() -> None:
    data = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00", "holidays": "US"}
    window = parse_window(data)
    assert window == SendWindow(holidays="US")
    assert window.to_dict() == data


def test_parse_window_accepts_hours_and_end_of_day() -> None:
    assert parse_window({"start_hour": 9, "end_hour": 17}) == SendWindow(
        start=time(9), end=time(17)
    )
    assert parse_window({"end_hour": 24}).end == time.max
    assert parse_window({"start": "7:30", "end": "24:00"}) == SendWindow(
        start=time(7, 30), end=time.max
    )
    assert parse_window({}) == SendWindow()


def test_always_open_round_trips_through_json() -> None:
    stored = json.dumps(ALWAYS_OPEN.to_dict())
    assert json.loads(stored) == {
        "days": [0, 1, 2, 3, 4, 5, 6],
        "start": "00:00",
        "end": "24:00",
        "holidays": None,
    }
    assert parse_window(json.loads(stored)) == ALWAYS_OPEN


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"start_hr": 9}, "start_hr"),
        ({"start": "09:00", "start_hour": 9}, "start_hour"),
        ({"start": "8am"}, "start"),
        ({"start": "25:00"}, "start"),
        ({"start": "24:00"}, "start"),
        ({"end": "18:60"}, "end"),
        ({"start_hour": 24}, "start_hour"),
        ({"end_hour": 0}, "end_hour"),
        ({"end_hour": "17"}, "end_hour"),
        ({"days": [7]}, "days"),
        ({"days": None}, "days"),
        ({"start": "19:00"}, "end"),
        ({"holidays": "Narnia"}, "holidays"),
    ],
)
def test_parse_window_rejects_bad_input(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_window(data)
    assert caught.value.field == field


def test_holiday_calendar_is_built_once_per_code_and_year(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[str, int]] = []
    real = holidays.country_holidays

    def counting(country: str, **kwargs: Any) -> Any:
        built.append((country, kwargs["years"]))
        return real(country, **kwargs)

    calendar_module.holiday_dates.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", counting)
    try:
        window = SendWindow(holidays="GB-ENG")
        london = ZoneInfo("Europe/London")
        for day in range(1, 29):
            is_open(local(london, 2026, 2, day, 9, 0), window, london)
            next_open(local(london, 2026, 2, day, 20, 0), window, london)
        assert built == [("GB", 2026)]
    finally:
        calendar_module.holiday_dates.cache_clear()


# --- properties over many zones -------------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",  # -03:30 with DST
    "America/Santiago",  # southern DST, switching at midnight
    "America/Sao_Paulo",  # DST abolished
    "America/Havana",  # switches at midnight
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Africa/Casablanca",  # DST suspended for Ramadan
    "Asia/Beirut",  # falls back at midnight
    "Asia/Tehran",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Tokyo",
    "Australia/Adelaide",  # +09:30 / +10:30
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST
    "Australia/Brisbane",
    "Pacific/Auckland",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
]
CALENDARS = [None, None, "US", "GB-ENG", "DE-BY", "AU-NSW", "CL"]
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
INTERESTING_MINUTES = [0, 30, 60, 90, 120, 150, 165, 180, 210, 1380, 1410, 1439]


def _transitions(tz: ZoneInfo) -> list[datetime]:
    """Offset changes in [FIRST, LAST): daily sampling, then bisection to the second."""
    found: list[datetime] = []
    day = FIRST
    while day < LAST:
        following = day + timedelta(days=1)
        if day.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = day, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(microsecond=0))
        day = following
    return found


TRANSITIONS = {zone: _transitions(ZoneInfo(zone)) for zone in ZONES}


def test_property_zones_include_dst_transitions_in_both_hemispheres() -> None:
    assert TRANSITIONS["Australia/Lord_Howe"] and TRANSITIONS["America/New_York"]
    assert not TRANSITIONS["Asia/Kolkata"] and not TRANSITIONS["UTC"]


@st.composite
def zoned_instants(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    """A zone and an instant, often within two days of one of its transitions."""
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    near_transition: bool = draw(st.booleans())
    if near_transition and TRANSITIONS[zone]:
        anchor = draw(st.sampled_from(TRANSITIONS[zone]))
        shift = draw(
            st.one_of(
                st.integers(-2880, 2880).map(lambda minutes: timedelta(minutes=minutes)),
                st.integers(-172800, 172800).map(lambda seconds: timedelta(seconds=seconds)),
            )
        )
        at = anchor + shift
    else:
        at = draw(
            st.datetimes(
                FIRST.replace(tzinfo=None), LAST.replace(tzinfo=None), timezones=st.just(UTC)
            )
        )
    # Callers may pass any aware datetime; the contact's zone must not depend on it. Compare such
    # instants for equality in UTC: an ambiguous local time never equals another zone's (PEP 495).
    return tz, at.astimezone(draw(st.sampled_from([UTC, tz, ZoneInfo("Asia/Tokyo")])))


def _clock(minutes: int) -> time:
    return time.max if minutes == 1440 else time(minutes // 60, minutes % 60)


@st.composite
def windows(draw: st.DrawFn) -> SendWindow:
    minute = st.one_of(st.sampled_from(INTERESTING_MINUTES), st.integers(0, 1439))
    start = draw(minute)
    end = draw(st.one_of(st.integers(start + 1, 1440), st.sampled_from([1440, start + 1])))
    return SendWindow(
        days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        start=_clock(start),
        end=_clock(min(end, 1440)),
        holidays=draw(st.sampled_from(CALENDARS)),
    )


@lru_cache(maxsize=256)
def _oracle_holidays(code: str, year: int) -> frozenset[date]:
    country, _, subdivision = code.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def oracle_open(moment: datetime, window: SendWindow, tz: ZoneInfo) -> bool:
    """Straight from the definition: the contact's clock shows an open day and time."""
    wall = moment.astimezone(tz)
    day, clock = wall.date(), wall.time()
    if day.weekday() not in window.days:
        return False
    if window.holidays and day in _oracle_holidays(window.holidays, day.year):
        return False
    return window.start <= clock and (window.end == time.max or clock < window.end)


def assert_no_open_minute_before(
    at: datetime, result: datetime, window: SendWindow, tz: ZoneInfo
) -> None:
    """Windows and transitions sit on whole UTC minutes here, so minute steps see every opening."""
    if result == at.astimezone(UTC):
        return
    assert not oracle_open(at, window, tz)
    step = at.astimezone(UTC).replace(second=0, microsecond=0) + MINUTE
    while step < result:
        assert not oracle_open(step, window, tz), f"open at {step} before {result}"
        step += MINUTE


PROPERTY = settings(max_examples=150, deadline=None, database=None)


@PROPERTY
@given(zoned_instants(), windows())
def test_next_open_is_the_earliest_open_instant(
    case: tuple[ZoneInfo, datetime], window: SendWindow
) -> None:
    tz, at = case
    result = next_open(at, window, tz)
    assert result.tzinfo is UTC
    assert result >= at
    assert is_open(result, window, tz)
    assert oracle_open(result, window, tz)
    assert_no_open_minute_before(at, result, window, tz)
    assert next_open(result, window, tz) == result


@PROPERTY
@given(zoned_instants(), windows())
def test_is_open_matches_the_wall_clock_definition(
    case: tuple[ZoneInfo, datetime], window: SendWindow
) -> None:
    tz, at = case
    assert is_open(at, window, tz) == oracle_open(at, window, tz)
    assert (next_open(at, window, tz) == at.astimezone(UTC)) == is_open(at, window, tz)


@PROPERTY
@given(zoned_instants())
def test_local_day_bounds_contain_at_and_last_a_local_day(case: tuple[ZoneInfo, datetime]) -> None:
    tz, at = case
    start, end = local_day_bounds(at, tz)
    assert start <= at < end
    assert end - start in {timedelta(hours=h) for h in (23, 23.5, 24, 24.5, 25)}
    day = at.astimezone(tz).date()
    assert start.astimezone(tz).date() == day
    assert (start - timedelta(microseconds=1)).astimezone(tz).date() < day
    assert (end - timedelta(microseconds=1)).astimezone(tz).date() == day
    assert end.astimezone(tz).date() > day


@PROPERTY
@given(
    zoned_instants(),
    st.one_of(st.none(), windows()),
    st.builds(Delay, hours=st.integers(0, 200), business_days=st.integers(0, 10)),
)
def test_due_at_is_never_before_previous_plus_hours(
    case: tuple[ZoneInfo, datetime], window: SendWindow | None, delay: Delay
) -> None:
    tz, previous = case
    result = due_at(previous, delay, window, tz)
    # In UTC: adding to a ZoneInfo datetime is wall-clock arithmetic and drops the fold.
    after_hours = previous.astimezone(UTC) + timedelta(hours=delay.hours)
    assert result.tzinfo is UTC
    assert result >= after_hours
    if window is not None:
        assert is_open(result, window, tz)
    if not delay.business_days:
        assert result == next_open(after_hours, window or ALWAYS_OPEN, tz)
        return
    counted = window or SendWindow()
    day, last = after_hours.astimezone(tz).date(), result.astimezone(tz).date()
    open_days = 0
    while day < last:
        day += timedelta(days=1)
        open_days += counted.is_open_day(day)
    assert open_days >= delay.business_days


@settings(max_examples=100, deadline=None, database=None)
@given(windows())
def test_window_json_round_trips(window: SendWindow) -> None:
    assert parse_window(json.loads(json.dumps(window.to_dict()))) == window
