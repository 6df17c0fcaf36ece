"""Generate a synthetic send-time population (JSON lines, one contact per line).

Usage::

    python evals/send_time/generate.py --seed 1 --contacts 5000 --out data.jsonl \
        [--history-mean 6] [--cold-share 0.3] [--proxy-share 0.2] [--role-strength 1] ...

Simulation
==========
Every contact has an **activity curve** ``a(slot)``: the probability that they look at their inbox
during each local hour of the week (168 slots, Monday 00:00 local first). It is built as

    daily(h) = floor + w_role * role_curve(h - shift) + w_company * company_curve(h - shift)
               + w_individual * personal_curve(h)
    shape(d, h) = (daily(h) ** sharpness) * weekday_factor(d) * exp(noise * N(0, 1))
    a = peak * shape / max(shape)

* ``role_curve`` depends on the role family implied by the (free-text) title: executives read
  early in the morning and in the evening and more at weekends, engineers late morning and
  afternoon, sales early, marketing mid-morning, finance around the start and end of day, HR
  mid-morning, operations early; ``other`` is a generic office day.
* Each **company** has its own habit (a random bump, e.g. a 07:00 stand-up culture), shifts its
  members' curves by ``N(0, 1.2 h)`` and sharpens or flattens them (``sharpness``, log-normal).
* Each person adds their own shift, a personal bump at a random hour, day-of-week preferences and
  per-slot noise. ``w_*`` are the normalised ``--role-strength``, ``--company-strength`` and
  ``--individual-strength``; ``--noise`` scales the per-slot noise.
* **Weekday effects**: Tuesday-Wednesday slightly above Monday/Thursday, Friday lower; weekends
  low (role-dependent), scaled by ``--weekday-strength``.

**Reply process.** An email that lands at local slot ``s`` waits in the inbox. In each following
hour ``k`` (0..71) the contact checks with probability ``a(s + k)``; at the first check they open
it with probability ``p_open`` (else ignore it for good), then reply with probability
``r * 0.5 ** (k / half_life)`` (a buried email is answered less; ``--freshness-half-life``) and
click with probability ``p_click``. The **truth** for slot ``s`` is the exact probability of a
reply to an email landing at the start of ``s``::

    truth[s] = p_open * r * sum_k a(s+k) * prod_{j<k} (1 - a(s+j)) * 0.5 ** (k / half_life)

**Histories** are simulated with that same process, at the slots a typical naive tool picks:
steps 2-8 days apart, mostly Tuesday-Thursday, hours around 10:00 or 14:00 with some spread
(``--send-hour-spread``), scheduled in the contact's zone or, for a share of companies
(``--sender-tz-share``), in the *sender's* zone (New York, London or Los Angeles), so contacts
abroad get mail at odd hours. Events are ``sent``, ``delivered`` (seconds later, 85% of the time),
``opened`` (at the check minute), ``clicked`` and ``replied`` (minutes after the open), second
human opens hours later, and stray opens at random times (forwards, previews). Opens are far more
common than replies. ``--proxy-share`` of contacts are behind Apple Mail Privacy Protection: every
email gets an "open" 1-8 s after delivery (sometimes again hours later) and their real opens are
invisible; 3% sit behind a link scanner that fires a burst of opens and clicks on delivery.
``--cold-share`` of contacts have no history at all. Time zones span the Americas, Europe, Asia,
Oceania and Africa including half-hour and 45-minute zones; most people share their company's
zone. A quarter of contacts get a non-default send window.

Different seeds and knobs give different populations; the model must not be tuned to any one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

__all__ = ["ROLE_TITLES", "GeneratorParams", "generate", "main", "write_dataset"]

Array = NDArray[np.float64]
HOURS = 168
HORIZON = 72
_BATCH = 128

# (zone, weight) — continents and half-hour / 45-minute offsets.
ZONES: tuple[tuple[str, float], ...] = (
    ("America/New_York", 10),
    ("America/Chicago", 6),
    ("America/Denver", 2),
    ("America/Los_Angeles", 7),
    ("America/Toronto", 2),
    ("America/Mexico_City", 2),
    ("America/Sao_Paulo", 3),
    ("America/Bogota", 1),
    ("America/St_Johns", 1),
    ("Europe/London", 7),
    ("Europe/Berlin", 5),
    ("Europe/Paris", 4),
    ("Europe/Madrid", 2),
    ("Europe/Amsterdam", 2),
    ("Europe/Helsinki", 1),
    ("Europe/Istanbul", 1),
    ("Asia/Kolkata", 4),
    ("Asia/Kathmandu", 1),
    ("Asia/Tehran", 1),
    ("Asia/Dubai", 2),
    ("Asia/Singapore", 3),
    ("Asia/Shanghai", 2),
    ("Asia/Tokyo", 3),
    ("Asia/Seoul", 1),
    ("Australia/Sydney", 3),
    ("Australia/Adelaide", 1),
    ("Pacific/Auckland", 1),
    ("Africa/Lagos", 1),
    ("Africa/Nairobi", 1),
    ("Africa/Johannesburg", 2),
    ("Africa/Cairo", 1),
)
SENDER_ZONES = ("America/New_York", "Europe/London", "America/Los_Angeles")

# Daily activity bumps per role: (centre hour, width hours, weight); and weekend level.
ROLE_CURVES: dict[str, tuple[tuple[tuple[float, float, float], ...], float]] = {
    "executive": (((6.5, 1.0, 1.0), (12.5, 1.5, 0.35), (20.5, 1.5, 0.8)), 0.45),
    "engineering": (((11.0, 1.5, 0.8), (15.5, 1.8, 1.0), (22.0, 1.5, 0.25)), 0.25),
    "sales": (((7.5, 1.0, 1.0), (9.5, 1.2, 0.6), (16.5, 1.5, 0.45)), 0.15),
    "marketing": (((10.0, 1.5, 1.0), (14.0, 1.5, 0.7)), 0.2),
    "finance": (((8.5, 1.2, 1.0), (13.5, 1.5, 0.5), (17.0, 1.2, 0.6)), 0.15),
    "hr": (((9.5, 1.5, 1.0), (13.0, 1.5, 0.7)), 0.15),
    "operations": (((7.0, 1.2, 0.9), (13.0, 2.0, 0.8)), 0.3),
    "other": (((9.5, 2.0, 1.0), (14.5, 2.0, 0.8)), 0.2),
}
ROLE_TITLES: dict[str, tuple[str, ...]] = {
    "executive": ("CEO", "Co-Founder", "Chief Operating Officer", "President", "Founder & CEO"),
    "engineering": (
        "Senior Software Engineer",
        "VP Engineering",
        "Engineering Manager",
        "Staff Developer",
        "Data Scientist",
        "DevOps Lead",
    ),
    "sales": ("Account Executive", "VP Sales", "Head of Sales", "SDR", "Sales Director"),
    "marketing": ("Marketing Manager", "Head of Growth", "Content Lead", "Brand Director"),
    "finance": ("Controller", "Finance Manager", "VP Finance", "Senior Accountant"),
    "hr": ("HR Business Partner", "Head of People", "Talent Acquisition Lead", "Recruiter"),
    "operations": ("Operations Manager", "Head of Operations", "Supply Chain Lead", "Office Admin"),
    "other": ("Consultant", "Analyst", "Specialist", "Associate"),
}
ROLE_SHARE = {
    "executive": 0.14,
    "engineering": 0.2,
    "sales": 0.18,
    "marketing": 0.12,
    "finance": 0.09,
    "hr": 0.07,
    "operations": 0.1,
    "other": 0.1,
}
WEEKDAY_BASE = np.array([0.95, 1.05, 1.05, 1.0, 0.85])
SEND_DAY_WEIGHTS = np.array([0.14, 0.26, 0.26, 0.22, 0.10, 0.01, 0.01])
WINDOWS: tuple[dict[str, Any], ...] = (
    {"days": [0, 1, 2, 3, 4], "start_hour": 7, "end_hour": 19},
    {"days": [0, 1, 2, 3, 4, 5], "start_hour": 6, "end_hour": 21},
    {"days": [1, 2, 3], "start_hour": 9, "end_hour": 17},
    {"days": [0, 1, 2, 3, 4, 5, 6], "start_hour": 0, "end_hour": 24},
    {"days": [0, 1, 2, 3, 4], "start_hour": 6, "end_hour": 12},
)


@dataclass(frozen=True)
class GeneratorParams:
    """Knobs of the simulation (see the module docstring).

    Attributes:
        seed: RNG seed.
        contacts: Number of contacts.
        history_mean: Mean number of emails per contact with history.
        cold_share: Share of contacts with no history.
        proxy_share: Share of contacts behind Apple Mail Privacy Protection.
        scanner_share: Share behind a link scanner (bursts on delivery).
        role_strength: Weight of the role pattern.
        company_strength: Weight of the company habit; also scales company shift/sharpening.
        individual_strength: Weight of the personal bump; also scales personal shift.
        noise: Log-normal per-slot noise of the activity curve.
        weekday_strength: Scales day-of-week effects (0 = every weekday alike).
        freshness_half_life: Hours after which a waiting email's reply chance halves.
        reply_scale: Multiplies every contact's reply-given-open probability.
        company_size: Mean contacts per company.
        sender_tz_share: Share of companies mailed on the sender's clock, not the contact's.
        send_hour_spread: Spread (hours) of the naive tool's send hour.
        window_share: Share of contacts with a non-default window.
        start: First day of the simulated history (ISO date).
    """

    seed: int = 0
    contacts: int = 1000
    history_mean: float = 6.0
    cold_share: float = 0.3
    proxy_share: float = 0.2
    scanner_share: float = 0.03
    role_strength: float = 1.0
    company_strength: float = 0.6
    individual_strength: float = 0.5
    noise: float = 0.25
    weekday_strength: float = 1.0
    freshness_half_life: float = 6.0
    reply_scale: float = 1.0
    company_size: float = 8.0
    sender_tz_share: float = 0.35
    send_hour_spread: float = 1.5
    window_share: float = 0.25
    start: str = "2024-01-08"


def _bumps(hours: Array, spec: Sequence[tuple[float, float, float]], shift: float) -> Array:
    out = np.zeros_like(hours)
    for centre, width, weight in spec:
        d = (hours - centre - shift + 12.0) % 24.0 - 12.0
        out += weight * np.exp(-0.5 * (d / width) ** 2)
    peak = float(out.max())
    result: Array = out / peak if peak > 0 else out
    return result


@dataclass
class _Company:
    key: int
    name: str
    domain: str
    zone: str
    curve: tuple[tuple[float, float, float], ...]
    shift: float
    sharpness: float
    sender_zone: str | None
    roles: Array


def _make_companies(rng: np.random.Generator, p: GeneratorParams) -> list[_Company]:
    n = max(1, round(p.contacts / p.company_size))
    zones = [z for z, _ in ZONES]
    zw = np.array([w for _, w in ZONES], dtype=np.float64)
    role_p = np.array(list(ROLE_SHARE.values()))
    out = []
    for i in range(n):
        bumps = tuple(
            (
                float(rng.uniform(6.0, 20.0)),
                float(rng.uniform(0.8, 2.0)),
                float(rng.uniform(0.5, 1)),
            )
            for _ in range(int(rng.integers(1, 3)))
        )
        out.append(
            _Company(
                key=i,
                name=f"Company {i:05d} {rng.choice(['Inc', 'Ltd', 'GmbH', 'LLC', ''])}".strip(),
                domain=f"company{i:05d}.example",
                zone=str(rng.choice(zones, p=zw / zw.sum())),
                curve=bumps,
                shift=float(rng.normal(0.0, 1.2 * p.company_strength)),
                sharpness=float(np.exp(rng.normal(0.0, 0.3 * p.company_strength))),
                sender_zone=(
                    str(rng.choice(SENDER_ZONES)) if rng.random() < p.sender_tz_share else None
                ),
                roles=rng.dirichlet(role_p * 8.0),
            )
        )
    return out


def _activity(
    rng: np.random.Generator, p: GeneratorParams, role: str, co: _Company
) -> tuple[Array, float, float, float]:
    """Activity curve (168), p_open, reply-given-open, click-given-open."""
    hours = np.arange(24, dtype=np.float64) + 0.5
    total = p.role_strength + p.company_strength + p.individual_strength
    w_role = p.role_strength / total
    w_co = p.company_strength / total
    w_ind = p.individual_strength / total
    role_spec, weekend = ROLE_CURVES[role]
    shift = co.shift + float(rng.normal(0.0, 0.8 * p.individual_strength))
    personal = ((float(rng.uniform(5.0, 23.0)), float(rng.uniform(0.8, 2.0)), 1.0),)
    daily = (
        0.03
        + w_role * _bumps(hours, role_spec, shift)
        + w_co * _bumps(hours, co.curve, shift)
        + w_ind * _bumps(hours, personal, 0.0)
    )
    daily = daily**co.sharpness
    ws = p.weekday_strength
    weekday = 1.0 + ws * (WEEKDAY_BASE - 1.0) + ws * rng.normal(0.0, 0.12, 5)
    if rng.random() < 0.3 * p.individual_strength:
        weekday[rng.integers(0, 5)] *= 1.0 + ws * rng.uniform(0.3, 0.8)
    weekend_level = weekend * float(np.exp(rng.normal(0.0, 0.4)))
    weekend_level = 1.0 - min(1.0, ws) * (1.0 - weekend_level)
    days = np.concatenate([np.clip(weekday, 0.2, None), [weekend_level, weekend_level * 0.9]])
    shape = days[:, None] * daily[None, :] * np.exp(rng.normal(0.0, p.noise, (7, 24)))
    peak = 0.15 + 0.75 * float(rng.beta(3.0, 3.0))
    act: Array = np.clip(peak * (shape / shape.max()).ravel(), 0.0005, 0.95)
    p_open = float(rng.beta(6.0, 4.0))
    r_reply = min(0.9, p.reply_scale * float(rng.beta(1.5, 18.0)))
    p_click = float(rng.beta(1.5, 12.0))
    return act, p_open, r_reply, p_click


def _truth(act: Array, scale: Array, half_life: float) -> Array:
    """Exact reply probability per landing slot for a batch: ``act`` (m, 168), ``scale`` (m,)."""
    idx = (np.arange(HOURS)[:, None] + np.arange(HORIZON)[None, :]) % HOURS
    a = act[:, idx]  # (m, 168, 72)
    survive = np.cumprod(1.0 - a, axis=2)
    before = np.concatenate([np.ones((*a.shape[:2], 1)), survive[:, :, :-1]], axis=2)
    fresh = 0.5 ** (np.arange(HORIZON) / half_life)
    out: Array = scale[:, None] * ((a * before) @ fresh)
    return out


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _history(
    rng: np.random.Generator,
    p: GeneratorParams,
    co: _Company,
    tz: ZoneInfo,
    act: Array,
    p_open: float,
    r_reply: float,
    p_click: float,
    kind: str,
) -> list[dict[str, str]]:
    n_sends = 1 + int(rng.poisson(max(0.0, p.history_mean - 1.0)))
    sched_tz = _zone(co.sender_zone) if co.sender_zone else tz
    day = date.fromisoformat(p.start) + timedelta(days=int(rng.integers(0, 200)))
    events: list[tuple[datetime, str]] = []
    fresh_hl = p.freshness_half_life
    gaps = rng.integers(2, 9, n_sends)
    wants = rng.choice(7, size=n_sends, p=SEND_DAY_WEIGHTS)
    hours = rng.normal(0.0, p.send_hour_spread, n_sends)
    minutes = rng.integers(0, 30, n_sends)
    u = rng.random((n_sends, 12)).tolist()  # uniform draws for the per-email coin flips
    checks = rng.random((n_sends, HORIZON))
    steps = np.arange(HORIZON)
    for j in range(n_sends):
        uj = u[j]
        day += timedelta(days=int(gaps[j]))
        day += timedelta(days=(int(wants[j]) - day.weekday()) % 7)
        centre = 10.0 if uj[0] < 0.7 else 14.0
        hour = min(20, max(5, round(centre + float(hours[j]))))
        sent = datetime.combine(day, time(hour, int(minutes[j])), tzinfo=sched_tz).astimezone(UTC)
        events.append((sent, "sent"))
        landed = sent + timedelta(seconds=1.0 + 19.0 * uj[1])
        if uj[2] < 0.85:
            events.append((landed, "delivered"))
        if kind == "proxy":
            events.append((landed + timedelta(seconds=1.0 + 7.0 * uj[3]), "opened"))
            if uj[4] < 0.3:
                events.append((landed + timedelta(hours=1.0 + 39.0 * uj[5]), "opened"))
        elif kind == "scanner":
            for _ in range(int(rng.integers(2, 5))):
                jitter = timedelta(seconds=float(rng.uniform(0.5, 40.0)))
                events.append((landed + jitter, "opened" if rng.random() < 0.7 else "clicked"))
        if uj[6] < 0.05:
            events.append((landed + timedelta(hours=72.0 * uj[7]), "opened"))
        local = landed.astimezone(tz)
        slot = local.weekday() * 24 + local.hour
        frac = (local.minute * 60 + local.second) / 3600.0
        probs = act[(slot + steps) % HOURS]
        probs[0] *= 1.0 - frac
        hit = np.flatnonzero(checks[j] < probs)
        if hit.size == 0 or uj[8] >= p_open:
            continue
        k = int(hit[0])
        start = frac if k == 0 else 0.0
        seen = landed + timedelta(hours=k - frac + start + (1.0 - start) * uj[9])
        if seen <= landed:
            seen = landed + timedelta(seconds=90)
        if kind != "proxy":
            events.append((seen, "opened"))
            if uj[10] < 0.25:
                events.append((seen + timedelta(hours=float(rng.uniform(1.0, 30.0))), "opened"))
        if uj[11] < p_click:
            events.append((seen + timedelta(minutes=float(rng.exponential(3.0)) + 0.2), "clicked"))
        if rng.random() < r_reply * 0.5 ** (k / fresh_hl):
            delay = float(rng.lognormal(math.log(12.0), 0.8))
            events.append((seen + timedelta(minutes=delay), "replied"))
    events.sort(key=lambda e: e[0])
    return [{"type": t, "at": _iso(ts)} for ts, t in events]


def generate(params: GeneratorParams) -> Iterator[dict[str, Any]]:
    """Yield one dataset row per contact (see the module docstring for the format).

    Args:
        params: Simulation knobs.

    Yields:
        ``{"contact", "history", "truth", ["window"], "meta"}`` dictionaries; ``meta`` carries
        the simulated role family and kind (``normal``/``proxy``/``scanner``/``cold``) for
        segment reports, and is not meant to be used by a model.
    """
    rng = np.random.default_rng(params.seed)
    companies = _make_companies(rng, params)
    zones = [z for z, _ in ZONES]
    zw = np.array([w for _, w in ZONES], dtype=np.float64)
    zw /= zw.sum()
    roles = list(ROLE_SHARE)
    sizes = rng.pareto(1.5, len(companies)) + 1.0
    membership = rng.choice(len(companies), size=params.contacts, p=sizes / sizes.sum())
    batch: list[tuple[dict[str, Any], Array, float]] = []
    for i in range(params.contacts):
        co = companies[int(membership[i])]
        role = roles[int(rng.choice(len(roles), p=co.roles))]
        zone_name = co.zone if rng.random() < 0.8 else str(rng.choice(zones, p=zw))
        tz = _zone(zone_name)
        act, p_open, r_reply, p_click = _activity(rng, params, role, co)
        u = rng.random()
        if u < params.cold_share:
            kind = "cold"
        elif u < params.cold_share + (1 - params.cold_share) * params.proxy_share:
            kind = "proxy"
        elif rng.random() < params.scanner_share:
            kind = "scanner"
        else:
            kind = "normal"
        history = (
            []
            if kind == "cold"
            else _history(rng, params, co, tz, act, p_open, r_reply, p_click, kind)
        )
        title: str | None = str(rng.choice(ROLE_TITLES[role])) if rng.random() > 0.05 else None
        use_domain = rng.random() < 0.85
        row: dict[str, Any] = {
            "contact": {
                "id": f"c{params.seed}-{i:06d}",
                "timezone": zone_name,
                "title": title,
                "company": co.name,
                "domain": co.domain if use_domain else None,
            },
            "history": history,
            "truth": {},
            "meta": {"role": role, "kind": kind, "company": co.key},
        }
        if rng.random() < params.window_share:
            row["window"] = WINDOWS[int(rng.integers(0, len(WINDOWS)))]
        batch.append((row, act, p_open * r_reply))
        if len(batch) == _BATCH or i == params.contacts - 1:
            truths = _truth(
                np.array([b[1] for b in batch]),
                np.array([b[2] for b in batch]),
                params.freshness_half_life,
            )
            for (done, _, _), truth in zip(batch, np.round(truths, 6).tolist(), strict=True):
                done["truth"] = {"reply_prob_by_local_hour_of_week": truth}
                yield done
            batch = []


def write_dataset(path: str | Path, params: GeneratorParams) -> int:
    """Write the dataset as JSON lines; returns the number of rows written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with target.open("w", encoding="utf-8") as fh:
        for row in generate(params):
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
            n += 1
    return n


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    defaults = GeneratorParams()
    ap.add_argument("--seed", type=int, default=defaults.seed)
    ap.add_argument("--contacts", type=int, default=defaults.contacts)
    ap.add_argument("--out", type=Path, default=None, help="output path (default: stdout)")
    for name, value in asdict(defaults).items():
        if name in ("seed", "contacts", "start"):
            continue
        ap.add_argument(f"--{name.replace('_', '-')}", type=float, default=value)
    ap.add_argument("--start", default=defaults.start)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = vars(_parser().parse_args(argv))
    out = args.pop("out")
    params = GeneratorParams(**args)
    if out is None:
        for row in generate(params):
            sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
    else:
        n = write_dataset(out, params)
        print(f"wrote {n} contacts to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
