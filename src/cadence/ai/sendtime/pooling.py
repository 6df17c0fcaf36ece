"""Numerical pieces of the model: the slot kernel, the prior shape, and empirical-Bayes pooling.

Every level of the hierarchy (workspace, role family, company, contact) multiplies its parent's
per-slot rate by a factor ``theta`` with a ``Gamma(kappa, kappa)`` prior (mean 1). Given pooled
counts ``n`` and parent-expected counts ``mu = exposure * parent_rate`` the posterior of ``theta``
is ``Gamma(kappa + n, kappa + mu)``. ``kappa`` (how closely children follow their parent) is
chosen per level by maximising the negative-binomial marginal likelihood over a grid, so the
amount of pooling adapts to how much companies and people really differ in the data.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from cadence.ai.sendtime.types import HOURS_PER_WEEK

__all__ = ["KAPPA_GRID", "fit_kappa", "gammaln", "prior_shape", "slot_kernel"]

KAPPA_GRID: NDArray[np.float64] = np.geomspace(0.05, 1000.0, 25)
_MAX_ROWS = 1000
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gammaln(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log Gamma(x)`` for positive ``x``, elementwise (shift by 8, then Stirling's series)."""
    x = np.asarray(x, dtype=np.float64)
    shift = np.zeros_like(x)
    prod = np.ones_like(x)
    for i in range(8):
        prod *= x + i
        if i == 3:  # keep the product far from overflow for large x
            shift += np.log(prod)
            prod = np.ones_like(x)
    shift += np.log(prod)
    y = x + 8.0
    inv = 1.0 / y
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    result: NDArray[np.float64] = (y - 0.5) * np.log(y) - y + _HALF_LOG_2PI + series - shift
    return result


def slot_kernel(
    hour_sigma: float = 1.25,
    weekday_weight: float = 0.3,
    weekend_weight: float = 0.5,
    cross_weight: float = 0.05,
) -> NDArray[np.float64]:
    """The ``168 x 168`` pooling kernel across neighbouring hours and similar weekdays.

    ``K[s, t]`` is how much data in slot ``t`` counts towards slot ``s``: a Gaussian in the
    circular distance between ``t`` and the same clock time on ``s``'s day (wrapping through
    midnight into the next or previous day) times a day affinity: 1 for the same day, then
    ``weekday_weight`` between two weekdays, ``weekend_weight`` between Saturday and Sunday,
    ``cross_weight`` between a weekday and a weekend day. The peak weight is 1, so pooled counts
    stay roughly Poisson (a sum of neighbouring counts) rather than being averaged away.

    Args:
        hour_sigma: Width of the hour kernel, in hours.
        weekday_weight: Affinity of two different weekdays.
        weekend_weight: Affinity of Saturday and Sunday.
        cross_weight: Affinity of a weekday and a weekend day.

    Returns:
        A symmetric ``(168, 168)`` array.
    """
    slots = np.arange(HOURS_PER_WEEK)
    day = slots // 24
    days = np.arange(7)
    weekend = days >= 5
    affinity = np.where(
        weekend[:, None] == weekend[None, :],
        np.where(weekend[:, None], weekend_weight, weekday_weight),
        cross_weight,
    )
    np.fill_diagonal(affinity, 1.0)
    kernel = np.zeros((HOURS_PER_WEEK, HOURS_PER_WEEK))
    reach = math.ceil(3 * hour_sigma)
    for shift in range(-3, 4):  # t compared with s's clock time `shift` days away
        target = (slots + 24 * shift) % HOURS_PER_WEEK
        diff = (slots[None, :] - target[:, None] + 84) % HOURS_PER_WEEK - 84
        near = np.abs(diff) <= reach
        other_day = (day + shift) % 7
        aff = affinity[day, other_day][:, None]
        kernel += np.where(near, aff * np.exp(-0.5 * (diff / hour_sigma) ** 2), 0.0)
    result: NDArray[np.float64] = 0.5 * (kernel + kernel.T)
    return result


def prior_shape() -> NDArray[np.float64]:
    """A smooth workday-shaped rate over the week, mean 1.

    Weekdays peak mid-morning and mid-afternoon with a lunch dip, evenings are quiet, nights
    near zero, and weekends carry about a quarter of a weekday's activity.
    """
    hour = np.arange(24, dtype=np.float64) + 0.5

    def bump(centre: float, width: float) -> NDArray[np.float64]:
        d = (hour - centre + 12.0) % 24.0 - 12.0
        out: NDArray[np.float64] = np.exp(-0.5 * (d / width) ** 2)
        return out

    daily = 0.04 + bump(10.0, 1.8) + 0.8 * bump(14.5, 2.0) + 0.15 * bump(20.0, 1.5)
    day_weight = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.3, 0.25])
    week: NDArray[np.float64] = (day_weight[:, None] * daily[None, :]).ravel()
    shape: NDArray[np.float64] = week / float(week.mean())
    return shape


def fit_kappa(
    counts: NDArray[np.float64],
    expected: NDArray[np.float64],
    default: float,
    scale: float = 1.0,
) -> float:
    """Empirical-Bayes pooling strength for one level.

    Args:
        counts: ``(rows, k)`` counts of the children (contacts, companies, families).
        expected: ``(rows, k)`` their counts expected under the parent's rates.
        default: Returned when there is too little data to tell.
        scale: Quasi-Poisson factor turning weighted, kernel-pooled counts into event-equivalent
            counts (``sum w / sum w**2`` of the weights each event was spread with). The
            likelihood is evaluated on ``scale * counts``; the returned ``kappa`` is in the
            original units.

    Returns:
        The ``kappa`` on :data:`KAPPA_GRID` (divided by ``scale``) maximising the Gamma-Poisson
        marginal likelihood.
    """
    has = expected.sum(axis=1) > 0
    n = counts[has] * scale
    mu = expected[has] * scale
    if n.shape[0] < 2 or float(n.sum()) < 5.0:
        return default
    if n.shape[0] > _MAX_ROWS:
        pick = np.linspace(0, n.shape[0] - 1, _MAX_ROWS).astype(np.int64)
        n, mu = n[pick], mu[pick]
    keep = mu > 1e-9
    n_flat = n[keep]
    mu_flat = mu[keep]
    hit = n_flat > 1e-12
    n_hit = n_flat[hit]
    best = default
    best_ll = -math.inf
    for kappa in KAPPA_GRID:
        # Entries with no count contribute kappa*log(kappa/(kappa+mu)) only.
        ll = float(np.sum(gammaln(kappa + n_hit))) - n_hit.size * math.lgamma(kappa)
        ll += float(np.sum(kappa * np.log(kappa / (kappa + mu_flat))))
        ll -= float(np.sum(n_hit * np.log(kappa + mu_flat[hit])))
        if ll > best_ll:
            best, best_ll = float(kappa) / scale, ll
    return best
