"""Behaviour of the send-time model (``cadence.ai.sendtime``) on small hand-built workspaces."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence.ai.sendtime import (
    ContactProfile,
    EngagementEvent,
    SendTimeModel,
    Window,
    company_key,
    role_family,
)
from cadence.errors import InvalidInput

NY = "America/New_York"
MONDAY = date(2024, 1, 8)  # weeks before any DST change in New York


def _at(day: date, hour: int, minute: int = 0, tz: str = NY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _send(cid: str, at: datetime) -> list[EngagementEvent]:
    return [
        EngagementEvent(cid, "sent", at),
        EngagementEvent(cid, "delivered", at + timedelta(seconds=4)),
    ]


def _background(n: int = 60, seed: int = 1) -> tuple[list[ContactProfile], list[EngagementEvent]]:
    """A workspace of ordinary contacts: mailed Tue-Thu mornings, opening within a few hours."""
    rng = random.Random(seed)
    contacts: list[ContactProfile] = []
    events: list[EngagementEvent] = []
    for i in range(n):
        cid = f"bg{i}"
        tz = rng.choice([NY, "Europe/Berlin", "America/Los_Angeles"])
        contacts.append(
            ContactProfile(cid, tz, title="Account Executive", company=f"Acme {i % 12}")
        )
        for week in range(6):
            day = MONDAY + timedelta(weeks=week, days=rng.choice([1, 2, 3]))
            sent = _at(day, rng.choice([9, 10, 11]), rng.randrange(30), tz)
            events += _send(cid, sent)
            if rng.random() < 0.6:
                opened = sent + timedelta(minutes=rng.randrange(20, 300))
                events.append(EngagementEvent(cid, "opened", opened))
                if rng.random() < 0.15:
                    events.append(EngagementEvent(cid, "replied", opened + timedelta(minutes=9)))
    return contacts, events


def _thursday_replier(cid: str = "thu") -> list[EngagementEvent]:
    """Mailed at assorted times; always opens and replies on Thursday at about 15:00 local."""
    events: list[EngagementEvent] = []
    sends = [(1, 10), (2, 9), (3, 8), (2, 16), (1, 11), (3, 10), (2, 13), (1, 15)]
    for week, (weekday, hour) in enumerate(sends):
        monday = MONDAY + timedelta(weeks=week)
        events += _send(cid, _at(monday + timedelta(days=weekday), hour))
        thursday = monday + timedelta(days=3)
        events.append(EngagementEvent(cid, "opened", _at(thursday, 15, 2 + week)))
        events.append(EngagementEvent(cid, "replied", _at(thursday, 15, 12 + week)))
    return events


def test_contact_who_replies_on_thursday_afternoons_gets_thursday_15() -> None:
    contacts, events = _background()
    contacts.append(ContactProfile("thu", NY, title="VP Sales", company="Acme 1"))
    events += _thursday_replier()
    for seed in range(4):  # exploration must not override strong evidence
        rec = SendTimeModel(seed=seed).fit(events, contacts).recommend(contacts[-1])
        assert (rec.day, rec.hour) == (3, 15)
        assert rec.slot == 3 * 24 + 15
        assert rec.level == "contact"
        assert rec.evidence["contact"] >= 8


def test_cold_contact_at_an_early_company_gets_early_morning() -> None:
    contacts, events = _background()
    for i in range(8):
        cid = f"early{i}"
        contacts.append(
            ContactProfile(cid, NY, title="Engineer", company="Dawn Corp", domain="dawn.example")
        )
        for week in range(5):
            sent = _at(MONDAY + timedelta(weeks=week, days=1 + i % 3), 10, 5 * i)
            events += _send(cid, sent)
            next_morning = _at(MONDAY + timedelta(weeks=week, days=2 + i % 3), 7, 3 + i)
            events.append(EngagementEvent(cid, "opened", next_morning))
            if week % 2 == 0:
                events.append(EngagementEvent(cid, "replied", next_morning + timedelta(minutes=11)))
    model = SendTimeModel(seed=3).fit(events, contacts)
    newcomer = ContactProfile("new", NY, title="Staff Engineer", domain="www.dawn.example")
    wide = Window(days=frozenset(range(5)), start_hour=5, end_hour=20)
    hours = [SendTimeModel(seed=s).fit(events, contacts).recommend(newcomer, wide).hour
             for s in range(2)]  # fmt: skip
    rec = model.recommend(newcomer, wide)
    assert all(5 <= h <= 8 for h in [rec.hour, *hours])
    assert rec.level == "company"
    assert rec.evidence["contact"] == 0
    assert rec.evidence["company"] > 0
    # The default window (08-18) cannot reach 07:00: the earliest allowed hours win.
    assert model.recommend(newcomer).hour <= 9


def test_apple_proxy_opens_do_not_move_the_recommendation() -> None:
    contacts, events = _background()
    contacts.append(ContactProfile("thu", NY, title="VP Sales", company="Acme 1"))
    events += _thursday_replier()
    proxied = list(events)
    for ev in events:
        if ev.contact_id == "thu" and ev.type == "delivered":
            # Privacy proxy: an "open" seconds after every delivery, and a scanner burst.
            proxied.append(EngagementEvent("thu", "opened", ev.at + timedelta(seconds=3)))
            for k in range(3):
                proxied.append(EngagementEvent("thu", "opened", ev.at + timedelta(seconds=9 + k)))
    plain = SendTimeModel(seed=0).fit(events, contacts)
    noisy = SendTimeModel(seed=0).fit(proxied, contacts)
    a, b = plain.recommend(contacts[-1]), noisy.recommend(contacts[-1])
    assert (a.day, a.hour) == (b.day, b.hour) == (3, 15)
    assert b.evidence["contact"] <= a.evidence["contact"]


def test_a_contact_whose_only_opens_are_instant_is_not_sent_at_those_instants() -> None:
    contacts, events = _background()
    contacts.append(ContactProfile("mpp", NY, title="Account Executive", company="Acme 3"))
    base = list(events)
    for week in range(6):
        sent = _at(MONDAY + timedelta(weeks=week), 8)  # Monday 08:00, never the usual habit
        base += _send("mpp", sent)
    proxied = list(base)
    for ev in base:
        if ev.contact_id == "mpp" and ev.type == "delivered":
            proxied.append(EngagementEvent("mpp", "opened", ev.at + timedelta(seconds=2)))
    for seed in range(3):
        rec = SendTimeModel(seed=seed).fit(proxied, contacts).recommend(contacts[-1])
        assert rec.evidence["contact"] == 0  # the instant opens are not counted
        assert rec.level == "company"
        assert rec.slot != 8  # and do not pull the contact towards Monday 08:00


@pytest.mark.parametrize(
    "window",
    [
        Window(),
        Window(days=frozenset({5, 6}), start_hour=10, end_hour=12),
        Window(days=frozenset({2}), start_hour=22, end_hour=2),
        Window(days=frozenset({0, 4}), start_hour=0, end_hour=24),
    ],
)
def test_recommendations_respect_the_window(window: Window) -> None:
    contacts, events = _background()
    contacts.append(ContactProfile("thu", NY, title="VP Sales", company="Acme 1"))
    events += _thursday_replier()
    model = SendTimeModel(seed=5).fit(events, contacts)
    extra = [ContactProfile(f"x{i}", "Asia/Kolkata", title=None) for i in range(10)]
    for contact in contacts + extra:
        rec = model.recommend(contact, window)
        assert rec.day in window.days
        assert rec.hour in window.hours
        assert rec.slot == rec.day * 24 + rec.hour


def test_next_at_is_dst_correct() -> None:
    contacts, events = _background()
    model = SendTimeModel(seed=0).fit(events, contacts)
    monday_9 = Window(days=frozenset({0}), start_hour=9, end_hour=10)
    contact = ContactProfile("someone", NY)
    # New York springs forward on Sunday 2024-03-10: Monday 09:00 EDT is 13:00 UTC, not 14:00.
    rec = model.recommend(contact, monday_9, after=datetime(2024, 3, 8, 12, tzinfo=UTC))
    assert rec.next_at == datetime(2024, 3, 11, 13, tzinfo=UTC)
    # The week before, still EST.
    rec = model.recommend(contact, monday_9, after=datetime(2024, 3, 1, 12, tzinfo=UTC))
    assert rec.next_at == datetime(2024, 3, 4, 14, tzinfo=UTC)
    # Strictly after: asking at the very instant gives the following week.
    rec = model.recommend(contact, monday_9, after=datetime(2024, 3, 11, 13, tzinfo=UTC))
    assert rec.next_at == datetime(2024, 3, 18, 13, tzinfo=UTC)
    # London falls back on Sunday 2024-10-27: Monday 09:00 GMT is 09:00 UTC.
    london = ContactProfile("uk", "Europe/London")
    rec = model.recommend(london, monday_9, after=datetime(2024, 10, 25, 12, tzinfo=UTC))
    assert rec.next_at == datetime(2024, 10, 28, 9, tzinfo=UTC)
    # A slot skipped by the jump (Sunday 02:00 in New York) maps to the jump itself.
    sunday_2 = Window(days=frozenset({6}), start_hour=2, end_hour=3)
    rec = model.recommend(contact, sunday_2, after=datetime(2024, 3, 9, 12, tzinfo=UTC))
    assert rec.next_at == datetime(2024, 3, 10, 7, tzinfo=UTC)
    assert rec.next_at.astimezone(ZoneInfo(NY)).hour == 3
    # A zone east of UTC whose local date is ahead of the UTC date.
    tokyo = ContactProfile("jp", "Asia/Tokyo")
    rec = model.recommend(tokyo, monday_9, after=datetime(2024, 3, 10, 23, 30, tzinfo=UTC))
    assert rec.next_at == datetime(2024, 3, 11, 0, tzinfo=UTC)
    assert model.recommend(contact, monday_9).next_at is None


def test_exploration_spreads_cold_contacts_but_not_wildly() -> None:
    contacts, events = _background(n=80)
    model = SendTimeModel(seed=11).fit(events, contacts)
    cold = [ContactProfile(f"cold{i}", NY, title="Sales Director", company="Acme 2")
            for i in range(60)]  # fmt: skip
    slots = Counter(model.recommend(c).slot for c in cold)
    greedy = SendTimeModel(seed=11, explore=0).fit(events, contacts)
    best = {greedy.recommend(c).slot for c in cold}
    assert len(best) == 1  # without exploration, everyone gets the same slot
    assert 2 <= len(slots) <= 20
    best_slot = best.pop()
    assert slots.most_common(1)[0][1] >= 6
    near = sum(n for s, n in slots.items() if abs(s % 24 - best_slot % 24) <= 3)
    assert near >= 0.7 * len(cold)
    # Reproducible and independent of call order.
    again = SendTimeModel(seed=11).fit(events, contacts)
    assert [again.recommend(c).slot for c in reversed(cold)] == [
        model.recommend(c).slot for c in reversed(cold)
    ]


def test_slot_probabilities_and_recommendation_agree() -> None:
    contacts, events = _background()
    contacts.append(ContactProfile("thu", NY, title="VP Sales", company="Acme 1"))
    events += _thursday_replier()
    model = SendTimeModel(seed=0).fit(events, contacts)
    probs = model.slot_probabilities(contacts[-1])
    assert len(probs) == 168
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert max(range(168), key=probs.__getitem__) == 3 * 24 + 15
    rec = model.recommend(contacts[-1])
    assert rec.expected_reply_prob == pytest.approx(probs[rec.slot])
    # A frequent replier is far likelier to reply than the background.
    assert max(probs) > max(model.slot_probabilities(contacts[0]))


def test_unfitted_model_and_empty_workspace_fall_back_to_the_prior() -> None:
    rec = SendTimeModel(explore=0).recommend(ContactProfile("a", NY))
    assert rec.level == "prior"
    assert 0 <= rec.day <= 4 and 8 <= rec.hour < 18
    empty = SendTimeModel(explore=0).fit([], [ContactProfile("a", NY)])
    assert empty.recommend(ContactProfile("a", NY)).level == "prior"
    assert SendTimeModel(seed=-3).recommend(ContactProfile("b", "Not/AZone")).level == "prior"


def test_input_validation() -> None:
    with pytest.raises(InvalidInput):
        Window(days=frozenset({7}))
    with pytest.raises(InvalidInput):
        Window(start_hour=9, end_hour=9)
    with pytest.raises(InvalidInput):
        EngagementEvent("a", "opened", datetime(2024, 1, 1))
    with pytest.raises(InvalidInput):
        SendTimeModel(explore=-1)
    with pytest.raises(InvalidInput):
        SendTimeModel().recommend(ContactProfile("a", NY), after=datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("title", "family"),
    [
        ("CEO", "executive"),
        ("Co-Founder & CTO", "executive"),
        ("VP of Sales", "sales"),
        ("Senior Software Engineer", "engineering"),
        ("Head of Growth Marketing", "marketing"),
        ("Financial Controller", "finance"),
        ("HR Business Partner", "hr"),
        ("Talent Acquisition Lead", "hr"),
        ("Operations Manager", "operations"),
        ("Consultant", "other"),
        (None, "other"),
    ],
)
def test_role_family(title: str | None, family: str) -> None:
    assert role_family(title) == family


def test_company_key() -> None:
    assert company_key("Acme, Inc.", "www.Acme.com") == "d:acme.com"
    assert company_key("Acme Inc", "jane@gmail.com") == "c:acme"
    assert company_key("ACME LLC", None) == company_key("acme", None)
    assert company_key(None, None) is None
