"""``SendTimeModel``: when each contact engages, by local hour of the week, pooled hierarchically.

1. Events become at-risk intervals per email and engagement type (:mod:`.evidence`), with
   machine opens (privacy proxies, scanners, instant auto-replies) dropped.
2. Rates per local slot are a chain of multiplicative Gamma-Poisson refinements
   ``prior -> workspace -> role family -> company -> contact`` on kernel-pooled counts and
   exposure (:mod:`.hierarchy`, :mod:`.pooling`), with a per-contact responsiveness factor.
   Opens, clicks and replies are each divided by their workspace rate and weighted
   0.3 / 0.6 / 1.0 (an open is weak evidence, a reply strong).
3. A cure model decides how much of an unanswered interval counts as exposure: most emails are
   never engaged with, so hours after the contact was probably looking count little, while
   hours of inactivity (nights, weekends) keep the email live. Steps 2-3 alternate (EM).
4. A slot's value is the freshness-discounted chance of a first open soon after landing
   (:mod:`.value`); reply probabilities scale it to the contact's pooled reply rate.
5. ``recommend`` takes the best allowed slot of one smoothed posterior draw (Thompson sampling
   seeded by model seed and contact id), so thin evidence explores and strong evidence exploits.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from cadence.ai.sendtime.clock import next_slot_instant, zone
from cadence.ai.sendtime.evidence import Evidence, collect_evidence
from cadence.ai.sendtime.hierarchy import (
    DEFAULT_KAPPA,
    WORKSPACE_KAPPA,
    Hierarchy,
    fit_hierarchy,
)
from cadence.ai.sendtime.pooling import prior_shape, slot_kernel
from cadence.ai.sendtime.rates import ReplyRates, fit_reply_rates
from cadence.ai.sendtime.roles import ROLE_FAMILIES, company_key, role_family
from cadence.ai.sendtime.types import (
    HOURS_PER_WEEK,
    ContactProfile,
    EngagementEvent,
    Recommendation,
    Window,
)
from cadence.ai.sendtime.value import DEFAULT_FRESHNESS_HOURS, fit_freshness, send_value
from cadence.errors import InvalidInput

__all__ = ["EVENT_WEIGHTS", "SendTimeModel"]

Array = NDArray[np.float64]

#: Evidence weight of one engagement, by type (open, click, reply).
EVENT_WEIGHTS: tuple[float, float, float] = (0.3, 0.6, 1.0)
_EM_ROUNDS = 3
_EXPLORE_KAPPA = 4.0


class SendTimeModel:
    """Learns per-contact reply propensity by local hour of the week and picks send slots.

    Args:
        seed: Seeds the exploration draws (each contact's draw depends on ``seed`` and its id
            only, so recommendations are reproducible and independent of call order).
        explore: Exploration temperature. 0 always takes the posterior-mean best slot; 1 is
            Thompson sampling (one posterior draw per recommendation, smoothed across
            neighbouring slots like the data); other values scale the posterior variance.
        hour_sigma: Width in hours of the kernel that pools neighbouring hours.
        freshness_hours: Time constant of the decline of the reply chance with the delay of the
            open; ``None`` estimates it from the data at ``fit``.

    Example:
        >>> model = SendTimeModel(seed=1).fit(events, contacts)  # doctest: +SKIP
        >>> model.recommend(contact, Window(), after=now).next_at  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        explore: float = 0.5,
        hour_sigma: float = 1.25,
        freshness_hours: float | None = None,
    ) -> None:
        if explore < 0:
            raise InvalidInput("explore must be >= 0", field="explore", value=explore)
        self.seed = seed
        self.explore = explore
        self.freshness_hours = freshness_hours
        self._kernel = slot_kernel(hour_sigma=hour_sigma)
        self._smoother = self._kernel / self._kernel.sum(axis=1, keepdims=True)
        self.kappa: dict[str, float] = {}
        self._init_empty()

    # ------------------------------------------------------------------ fitting

    def _init_empty(self) -> None:
        prior = prior_shape()
        self._prior = prior
        self._workspace = prior.copy()
        self._family = np.tile(prior, (len(ROLE_FAMILIES), 1))
        self._company_index: dict[str, int] = {}
        self._company_n = np.zeros((0, HOURS_PER_WEEK))
        self._company_mu = np.zeros((0, HOURS_PER_WEEK))
        self._contact_index: dict[str, int] = {}
        self._contact_family = np.zeros(0, dtype=np.int64)
        self._parent = np.zeros((0, HOURS_PER_WEEK))
        self._alpha = np.zeros((0, HOURS_PER_WEEK))
        self._beta = np.zeros((0, HOURS_PER_WEEK))
        self._events = np.zeros(0, dtype=np.int64)
        self._company_events = np.zeros(0, dtype=np.int64)
        self._family_events = np.zeros(len(ROLE_FAMILIES), dtype=np.int64)
        self._workspace_events = 0
        self._contact_company = np.zeros(0, dtype=np.int64)
        self._rates = ReplyRates.empty(len(ROLE_FAMILIES))
        self._send_mix = np.full(HOURS_PER_WEEK, 1.0 / HOURS_PER_WEEK)
        self._hazard_scale = 0.1
        self._cure = np.full(3, 0.5)
        self._freshness = self.freshness_hours or DEFAULT_FRESHNESS_HOURS
        self.kappa = {"workspace": WORKSPACE_KAPPA, **DEFAULT_KAPPA}

    def fit(
        self, events: Iterable[EngagementEvent], contacts: Iterable[ContactProfile]
    ) -> SendTimeModel:
        """Learn from all events of the given contacts (the whole workspace).

        Args:
            events: ``sent``/``delivered``/``opened``/``clicked``/``replied`` events, any order.
                Events of contacts not listed are ignored.
            contacts: Every contact of the workspace, including those with no events (they
                still define companies and role families for later recommendations).

        Returns:
            ``self``, fitted.
        """
        self._init_empty()
        people = list({c.id: c for c in contacts}.values())
        index = {c.id: i for i, c in enumerate(people)}
        evidence = collect_evidence(
            events, {c.id: (i, zone(c.timezone)) for i, c in enumerate(people)}
        )
        families = np.array([ROLE_FAMILIES.index(role_family(c.title)) for c in people], np.int64)
        keys = [company_key(c.company, c.domain) for c in people]
        company_index: dict[str, int] = {}
        for key in keys:
            if key is not None:
                company_index.setdefault(key, len(company_index))
        companies = np.array([company_index[k] if k else -1 for k in keys], dtype=np.int64)

        kappa: dict[str, float] | None = None
        weights = np.ones(len(evidence.row_kind))
        cure = np.full(3, 0.5)
        for em_round in range(_EM_ROUNDS):
            last = em_round == _EM_ROUNDS - 1
            fitted, base = self._fit_rates(evidence, weights, families, companies, kappa, last)
            kappa = fitted.kappa
            if not last:
                weights, cure = _expected_live(evidence, fitted, base, cure)
        self.kappa = fitted.kappa
        positive = base[base > 0]
        self._hazard_scale = float(base[0] if base[0] > 0 else positive.max(initial=0.1))
        self._freshness = self.freshness_hours or fit_freshness(
            evidence.open_delays, evidence.open_replied
        )
        self._cure = cure
        self._prior = fitted.prior
        self._workspace = fitted.workspace
        self._family = fitted.family
        self._company_index = company_index
        self._company_n, self._company_mu = fitted.company_n, fitted.company_mu
        self._contact_index = index
        self._contact_family = families
        self._contact_company = companies
        self._parent = fitted.parent * fitted.detail
        self._alpha = fitted.alpha
        self._beta = fitted.beta
        self._events = evidence.events
        self._workspace_events = int(evidence.events.sum())
        self._family_events = np.bincount(
            families, weights=evidence.events, minlength=len(ROLE_FAMILIES)
        ).astype(np.int64)
        has_co = companies >= 0
        self._company_events = np.bincount(
            companies[has_co], weights=evidence.events[has_co], minlength=len(company_index)
        ).astype(np.int64)
        self._rates = fit_reply_rates(
            evidence.messages,
            evidence.replies,
            families,
            len(ROLE_FAMILIES),
            companies,
            len(company_index),
        )
        if evidence.send_slots.sum() > 0:
            self._send_mix = evidence.send_slots / evidence.send_slots.sum()
        return self

    def _fit_rates(
        self,
        evidence: Evidence,
        weights: Array,
        families: NDArray[np.int64],
        companies: NDArray[np.int64],
        kappa: dict[str, float] | None,
        estimate: bool,
    ) -> tuple[Hierarchy, Array]:
        """One pass: weighted exposure -> combined, kernel-pooled rates -> the hierarchy."""
        exposure = evidence.exposure(weights)
        type_w = np.asarray(EVENT_WEIGHTS)
        totals_n = evidence.counts.sum(axis=(1, 2))
        totals_e = exposure.sum(axis=(1, 2))
        # Each type relative to its own workspace rate, then weighted (opens weak, replies strong).
        base = np.where(totals_e > 0, totals_n / np.maximum(totals_e, 1e-12), 0.0)
        raw_n = np.tensordot(type_w, evidence.counts, axes=1)
        raw_e = np.tensordot(type_w * base, exposure, axes=1)
        # Quasi-Poisson factors: weighted (and kernel-spread) counts are less variable than
        # event counts; these turn them back into event-equivalents for the pooling strengths.
        spread = float((type_w**2 * totals_n).sum())
        w_ratio = float((type_w * totals_n).sum()) / spread if spread > 0 else 1.0
        k_ratio = float(self._kernel.sum() / (self._kernel**2).sum())
        fitted = fit_hierarchy(
            pooled_n=raw_n @ self._kernel,
            pooled_e=raw_e @ self._kernel,
            raw_n=raw_n,
            raw_e=raw_e,
            families=families,
            n_families=len(ROLE_FAMILIES),
            companies=companies,
            n_companies=int(companies.max(initial=-1)) + 1,
            prior=prior_shape(),
            slot_scale=w_ratio * k_ratio,
            total_scale=w_ratio,
            kappa=kappa,
            estimate=estimate,
        )
        return fitted, base

    # ------------------------------------------------------------------ posterior per contact

    def _posterior(
        self, contact: ContactProfile
    ) -> tuple[Array, Array, Array, dict[str, int], float]:
        """Parent rate, Gamma shape/rate of the contact factor, evidence counts, reply rate."""
        row = self._contact_index.get(contact.id)
        co: int | None
        if row is not None:
            family = int(self._contact_family[row])
            co_row = int(self._contact_company[row])
            co = co_row if co_row >= 0 else None
            parent, alpha, beta = self._parent[row], self._alpha[row], self._beta[row]
            own = int(self._events[row])
            rate = float(self._rates.contact[row])
        else:
            family = ROLE_FAMILIES.index(role_family(contact.title))
            key = company_key(contact.company, contact.domain)
            co = self._company_index.get(key) if key is not None else None
            fam_rate = self._family[family]
            k_co = self.kappa["company"]
            if co is not None:
                parent = fam_rate * (k_co + self._company_n[co]) / (k_co + self._company_mu[co])
            else:
                parent = fam_rate
            k_c = self.kappa["contact"]
            alpha = np.full(HOURS_PER_WEEK, k_c)
            beta = alpha
            own = 0
            rate = self._rates.for_new(family, co)
        evidence = {
            "contact": own,
            "company": int(self._company_events[co]) if co is not None else own,
            "title": int(self._family_events[family]),
            "workspace": self._workspace_events,
        }
        return parent, alpha, beta, evidence, rate

    def _value(self, rate: Array) -> Array:
        return send_value(
            rate,
            hazard_scale=self._hazard_scale,
            freshness_hours=self._freshness,
        )

    def _probabilities(self, value: Array, reply_rate: float) -> Array:
        """Scale a value curve so that the workspace's actual sending mix has ``reply_rate``."""
        mean_value = float(self._send_mix @ value)
        if mean_value <= 0:
            return np.full(HOURS_PER_WEEK, reply_rate)
        out: Array = np.clip(reply_rate * value / mean_value, 0.0, 1.0)
        return out

    def slot_probabilities(self, contact: ContactProfile) -> list[float]:
        """Posterior-mean reply probability of an email sent at each local slot.

        Args:
            contact: A contact, fitted or new (a new one is placed by its company and title).

        Returns:
            168 probabilities, Monday 00:00 local first.
        """
        parent, alpha, beta, _, rate = self._posterior(contact)
        return [float(p) for p in self._probabilities(self._value(parent * alpha / beta), rate)]

    def recommend(
        self,
        contact: ContactProfile,
        window: Window | None = None,
        *,
        after: datetime | None = None,
    ) -> Recommendation:
        """The slot to send to ``contact`` in, inside ``window``.

        Args:
            contact: A contact, fitted or new.
            window: Allowed local days/hours; Monday-Friday 08:00-18:00 by default.
            after: When given, ``next_at`` is the first UTC instant strictly after it at which
                the contact's local clock starts the chosen slot.

        Returns:
            The :class:`Recommendation`.
        """
        window = window or Window()
        allowed = np.asarray(window.slots(), dtype=np.int64)
        parent, alpha, beta, evidence, rate = self._posterior(contact)
        mean_value = self._value(parent * alpha / beta)
        if self.explore > 0:
            rng = np.random.default_rng([self.seed % 2**63, zlib.crc32(contact.id.encode("utf-8"))])
            # A posterior draw of the per-slot factor relative to its mean. The prior part of
            # the shape is capped so that even when contacts look alike (large fitted kappa)
            # a newcomer still carries some individual uncertainty.
            shape = alpha - self.kappa["contact"] + min(self.kappa["contact"], _EXPLORE_KAPPA)
            shape = np.maximum(shape, 1e-6) / self.explore
            draw = rng.gamma(shape, 1.0 / shape)
            # Smooth the draw's log-deviation like the data: neighbouring hours move together.
            deviation = np.exp(self._smoother @ np.log(np.maximum(draw, 1e-12)))
            choice_value = self._value(parent * alpha / beta * deviation)
        else:
            choice_value = mean_value
        slot = int(allowed[int(np.argmax(choice_value[allowed]))])
        probs = self._probabilities(mean_value, rate)
        next_at = None
        if after is not None:
            if after.tzinfo is None:
                raise InvalidInput("after must be timezone-aware", field="after", value=after)
            next_at = next_slot_instant(slot, zone(contact.timezone), after)
        return Recommendation(
            slot=slot,
            day=slot // 24,
            hour=slot % 24,
            expected_reply_prob=float(probs[slot]),
            evidence=evidence,
            level=_level(evidence),
            next_at=next_at,
        )


def _expected_live(
    evidence: Evidence, fitted: Hierarchy, base: Array, cure: Array
) -> tuple[Array, Array]:
    """E-step of the cure model: how likely each censored interval was still "live".

    Most emails are never opened (or clicked, or replied to) however long they wait. An email
    that sat unanswered through hours when its contact is usually active has probably been seen
    and skipped, so its later hours should count little as exposure; one that sat through a
    weekend of inactivity is still live on Monday morning. With ``pi`` the share of emails that
    will ever get the engagement and ``S`` the chance a live one is still waiting, a censored
    interval is live with probability ``pi * S / (1 - pi + pi * S)``.

    Returns:
        ``(weights, pi)``: per-interval weights (1 for intervals that ended in the engagement)
        and the updated ``pi`` per type.
    """
    rate = fitted.parent * fitted.detail * fitted.alpha / fitted.beta
    hazard = (rate[evidence.row_contact[:, None], evidence.cells] * evidence.hours).sum(axis=1)
    survive = np.exp(-base[evidence.row_kind] * hazard)
    pi = cure[evidence.row_kind]
    live = np.where(evidence.row_hit, 1.0, pi * survive / np.maximum(1 - pi + pi * survive, 1e-12))
    new_cure = cure.copy()
    for kind in range(3):
        rows = evidence.row_kind == kind
        if rows.any():
            new_cure[kind] = float(np.clip(live[rows].mean(), 1e-3, 1.0))
    return live, new_cure


def _level(evidence: dict[str, int]) -> str:
    """The most specific level with events beyond those of the levels below it."""
    if evidence["contact"] > 0:
        return "contact"
    if evidence["company"] > 0:
        return "company"
    if evidence["title"] > 0:
        return "title"
    if evidence["workspace"] > 0:
        return "workspace"
    return "prior"
