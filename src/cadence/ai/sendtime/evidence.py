"""From raw engagement events to at-risk intervals and per-slot counts.

Each email (a ``sent`` and its ``delivered``, or either alone) starts an exposure at the moment it
landed. For each engagement type (open, click, reply) the contact is *at risk* from that moment
until their first such engagement with the email, the next email, or a 72-hour horizon, whichever
comes first. The first engagement is counted in the local hour-of-week slot it happened in; the
time at risk is kept per slot it covered (:class:`Evidence` ``cells``/``hours``), so rates can be
estimated as ``count / time at risk`` per slot. A contact always mailed at 10:00 who answers at
15:00 adds risk to 10:00..15:00 and a count at 15:00: the estimate does not simply echo when the
sender happened to send. (How much of a censored interval counts is decided by the model: most
emails are never opened at all, see :mod:`cadence.ai.sendtime.model`.)

Engagement that cannot be a human is dropped: anything less than ``MIN_HUMAN_DELAY`` after the
email landed (Apple Mail Privacy Protection prefetch, link scanners, auto-replies), and bursts of
``BURST_SIZE`` or more opens/clicks within ``BURST_GAP``. A contact whose emails get such instant
opens at least half the time is treated as behind a proxy: none of their opens count, only
clicks and replies.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from cadence.ai.sendtime.clock import local_slot
from cadence.ai.sendtime.types import HOURS_PER_WEEK, EngagementEvent

__all__ = [
    "BURST_GAP",
    "BURST_SIZE",
    "ENGAGEMENT_TYPES",
    "HORIZON_HOURS",
    "MIN_HUMAN_DELAY",
    "Evidence",
    "collect_evidence",
]

MIN_HUMAN_DELAY = 60.0  # seconds after landing
BURST_GAP = 120.0  # seconds between opens/clicks of one burst
BURST_SIZE = 3
PAIR_WINDOW = 3600.0  # a "delivered" this soon after a "sent" is the same email
HORIZON_HOURS = 72
PROXY_SHARE = 0.5
ENGAGEMENT_TYPES: tuple[str, ...] = ("opened", "clicked", "replied")

_CODE = {"sent": 0, "delivered": 1, "opened": 2, "clicked": 3, "replied": 4}


@dataclass(frozen=True)
class Evidence:
    """What the events say, for ``n`` contacts and ``r`` at-risk intervals.

    Attributes:
        counts: ``(3, n, 168)`` first engagements per email, by type (open, click, reply), in the
            local slot they happened in.
        row_contact: ``(r,)`` contact row of each at-risk interval.
        row_kind: ``(r,)`` engagement type of each interval (0 open, 1 click, 2 reply).
        row_hit: ``(r,)`` whether the interval ended in that engagement (else it was censored).
        cells: ``(r, 73)`` local slot of each hour the interval may cover.
        hours: ``(r, 73)`` hours at risk in each of those cells (0 past the interval's end).
        events: ``(n,)`` engagement events counted (the sum of ``counts`` over types and slots).
        messages: ``(n,)`` emails that landed.
        replies: ``(n,)`` emails replied to within the horizon.
        proxy: ``(n,)`` whether the contact's opens were discarded as machine opens.
        send_slots: ``(168,)`` how many emails landed in each local slot, all contacts.
        open_delays: Hours from landing to each counted first open (contacts not behind a proxy).
        open_replied: Whether that email was replied to.
    """

    counts: NDArray[np.float64]
    row_contact: NDArray[np.int64]
    row_kind: NDArray[np.int64]
    row_hit: NDArray[np.bool_]
    cells: NDArray[np.int64]
    hours: NDArray[np.float32]
    events: NDArray[np.int64]
    messages: NDArray[np.int64]
    replies: NDArray[np.int64]
    proxy: NDArray[np.bool_]
    send_slots: NDArray[np.float64]
    open_delays: NDArray[np.float64]
    open_replied: NDArray[np.bool_]

    def exposure(self, weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """``(3, n, 168)`` hours at risk per type, contact and slot.

        Args:
            weights: Optional ``(r,)`` weight of each interval.
        """
        n = self.counts.shape[1]
        target = (self.row_kind * n + self.row_contact)[:, None] * HOURS_PER_WEEK + self.cells
        hours = self.hours if weights is None else self.hours * weights[:, None]
        flat = np.bincount(target.ravel(), weights=hours.ravel(), minlength=3 * n * HOURS_PER_WEEK)
        out: NDArray[np.float64] = flat.astype(np.float64).reshape(3, n, HOURS_PER_WEEK)
        return out


@dataclass
class _Rows:
    """Column buffers: one row per (email, engagement type) at-risk interval."""

    contact: list[int] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    slot: list[int] = field(default_factory=list)
    frac: list[float] = field(default_factory=list)
    hours: list[float] = field(default_factory=list)
    hit_slot: list[int] = field(default_factory=list)  # -1 when the interval was censored
    open_delay: list[float] = field(default_factory=list)
    open_replied: list[bool] = field(default_factory=list)


def _machine_bursts(engagements: list[tuple[float, int]]) -> set[int]:
    """Indices (into ``engagements``) of opens/clicks that belong to a burst."""
    marks: set[int] = set()
    idx = [i for i, (_, code) in enumerate(engagements) if code in (2, 3)]
    start = 0
    for j in range(1, len(idx) + 1):
        if j == len(idx) or engagements[idx[j]][0] - engagements[idx[j - 1]][0] > BURST_GAP:
            if j - start >= BURST_SIZE:
                marks.update(idx[start:j])
            start = j
    return marks


def _contact(
    row: int,
    evs: list[tuple[float, int]],
    tz: ZoneInfo,
    rows: _Rows,
    send_slots: NDArray[np.float64],
) -> tuple[int, int, int, bool]:
    """Process one contact's events; returns (events, messages, replies, proxy)."""
    evs.sort()
    sent: list[float | None] = []
    delivered: list[float | None] = []
    engagements: list[tuple[float, int]] = []
    for ts, code in evs:
        if code == 0:
            sent.append(ts)
            delivered.append(None)
        elif code == 1:
            last_sent = sent[-1] if sent else None
            if last_sent is not None and delivered[-1] is None and ts - last_sent <= PAIR_WINDOW:
                delivered[-1] = ts
            else:
                sent.append(None)
                delivered.append(ts)
        else:
            engagements.append((ts, code))
    if not sent:
        return 0, 0, 0, False
    firsts = [min(t for t in (s, d) if t is not None) for s, d in zip(sent, delivered, strict=True)]
    lands = [max(t for t in (s, d) if t is not None) for s, d in zip(sent, delivered, strict=True)]
    bursts = _machine_bursts(engagements)
    n_msg = len(firsts)
    first_by_type: list[dict[int, float]] = [{} for _ in range(n_msg)]
    instant_open = [False] * n_msg
    horizon = HORIZON_HOURS * 3600.0
    for i, (ts, code) in enumerate(engagements):
        m = bisect_right(firsts, ts) - 1
        if m < 0:
            continue
        if ts - lands[m] < MIN_HUMAN_DELAY or i in bursts:
            if code == 2:
                instant_open[m] = True
            continue
        if ts - lands[m] > horizon:
            continue
        first_by_type[m].setdefault(code, ts)
    proxy = sum(instant_open) >= PROXY_SHARE * n_msg
    n_events = 0
    n_replies = 0
    for m in range(n_msg):
        start = lands[m]
        opened_at = None if proxy else first_by_type[m].get(2)
        if opened_at is not None:
            rows.open_delay.append((opened_at - start) / 3600.0)
            rows.open_replied.append(4 in first_by_type[m])
        slot, frac = local_slot(datetime.fromtimestamp(start, UTC), tz)
        send_slots[slot] += 1.0
        stop = start + horizon
        if m + 1 < n_msg:
            stop = min(stop, firsts[m + 1])
        for t_idx, code in enumerate((2, 3, 4)):
            if code == 2 and proxy:
                continue
            hit = first_by_type[m].get(code)
            end = stop if hit is None else hit
            hit_slot = -1
            if hit is not None:
                hit_slot, _ = local_slot(datetime.fromtimestamp(hit, UTC), tz)
                n_events += 1
                n_replies += code == 4
            rows.contact.append(row)
            rows.kind.append(t_idx)
            rows.slot.append(slot)
            rows.frac.append(frac)
            rows.hours.append(max(0.0, (end - start) / 3600.0))
            rows.hit_slot.append(hit_slot)
    return n_events, n_msg, n_replies, proxy


def collect_evidence(
    events: Iterable[EngagementEvent], contacts: Mapping[str, tuple[int, ZoneInfo]]
) -> Evidence:
    """Turn events into at-risk intervals and per-slot counts for the given contacts.

    Args:
        events: Engagement events, any order; events of unknown contacts are ignored.
        contacts: Contact id to ``(row, zone)``; rows must be ``0..n-1``.

    Returns:
        The :class:`Evidence`, one row per contact.
    """
    n = len(contacts)
    per_contact: dict[int, list[tuple[float, int]]] = {}
    for ev in events:
        entry = contacts.get(ev.contact_id)
        if entry is not None:
            per_contact.setdefault(entry[0], []).append((ev.at.timestamp(), _CODE[ev.type]))
    send_slots = np.zeros(HOURS_PER_WEEK)
    n_events = np.zeros(n, dtype=np.int64)
    n_msgs = np.zeros(n, dtype=np.int64)
    n_replies = np.zeros(n, dtype=np.int64)
    proxy = np.zeros(n, dtype=np.bool_)
    rows = _Rows()
    zones = {row: tz for row, tz in contacts.values()}
    for row, evs in per_contact.items():
        e, m, r, p = _contact(row, evs, zones[row], rows, send_slots)
        n_events[row], n_msgs[row], n_replies[row], proxy[row] = e, m, r, p

    contact = np.asarray(rows.contact, dtype=np.int64)
    kind = np.asarray(rows.kind, dtype=np.int64)
    hit_slot = np.asarray(rows.hit_slot, dtype=np.int64)
    k = np.arange(HORIZON_HOURS + 1)
    frac = np.asarray(rows.frac, dtype=np.float64)[:, None]
    length = np.asarray(rows.hours, dtype=np.float64)[:, None]
    hours = (np.clip(k + 1.0 - frac, 0.0, length) - np.clip(k - frac, 0.0, length)).astype(
        np.float32
    )
    cells = (np.asarray(rows.slot, dtype=np.int64)[:, None] + k) % HOURS_PER_WEEK
    hit = hit_slot >= 0
    target = (kind * n + contact)[hit] * HOURS_PER_WEEK + hit_slot[hit]
    counts = np.bincount(target, minlength=3 * n * HOURS_PER_WEEK).astype(np.float64)
    return Evidence(
        counts=counts.reshape(3, n, HOURS_PER_WEEK),
        row_contact=contact,
        row_kind=kind,
        row_hit=hit,
        cells=cells,
        hours=hours,
        events=n_events,
        messages=n_msgs,
        replies=n_replies,
        proxy=proxy,
        send_slots=send_slots,
        open_delays=np.asarray(rows.open_delay, dtype=np.float64),
        open_replied=np.asarray(rows.open_replied, dtype=np.bool_),
    )
