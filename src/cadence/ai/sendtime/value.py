"""From engagement rates to the value of sending in a slot.

An email that lands in slot ``s`` is first opened ``k`` hours later with probability
``S_s(k) * (1 - exp(-H(s + k)))``, where ``H`` is the contact's open hazard in that hour and
``S_s(k)`` the chance it is still unopened; an open ``k`` hours late turns into a reply less
often than a prompt one (``exp(-k / freshness)``, estimated from the workspace's own opens and
replies). The value of ``s`` is the sum over ``k`` of the two: the expected, freshness-discounted
chance of being opened. It favours slots just before the contact's active hours over slots in
the middle of a quiet evening, and it is proportional to the reply probability up to a
per-contact constant.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from cadence.ai.sendtime.types import HOURS_PER_WEEK

__all__ = ["DEFAULT_FRESHNESS_HOURS", "HORIZON", "fit_freshness", "send_value"]

Array = NDArray[np.float64]

HORIZON = 72
DEFAULT_FRESHNESS_HOURS = 6.0
_FRESHNESS_GRID: Array = np.geomspace(1.0, 96.0, 29)
_FRESHNESS_PRIOR_SD = 1.0
_MIN_REPLIES = 20
_INDEX = (np.arange(HOURS_PER_WEEK)[:, None] + np.arange(HORIZON)[None, :]) % HOURS_PER_WEEK


def fit_freshness(delays: Array, replied: NDArray[np.bool_]) -> float:
    """Time constant (hours) of the reply rate's decline with the delay of the first open.

    Fits ``P(reply | opened after t hours) = r * exp(-t / tau)`` (Poisson approximation) with a
    log-normal prior on ``tau`` around 6 hours (one e-fold either way is unremarkable), taking the
    posterior mode over a grid. With fewer than 20 replies it returns the prior's centre.

    Args:
        delays: Hours from landing to first open, one per opened email.
        replied: Whether each of those emails was replied to.

    Returns:
        ``tau`` in hours.
    """
    if int(replied.sum()) < _MIN_REPLIES:
        return DEFAULT_FRESHNESS_HOURS
    y = replied.astype(np.float64)
    best, best_lp = DEFAULT_FRESHNESS_HOURS, -math.inf
    for tau in _FRESHNESS_GRID:
        w = np.exp(-delays / tau)
        rate = float(y.sum() / w.sum())
        lp = float(np.sum(y * np.log(rate * w))) - rate * float(w.sum())
        lp -= 0.5 * (math.log(tau / DEFAULT_FRESHNESS_HOURS) / _FRESHNESS_PRIOR_SD) ** 2
        if lp > best_lp:
            best, best_lp = float(tau), lp
    return best


def send_value(rates: Array, *, hazard_scale: float, freshness_hours: float) -> Array:
    """Freshness-discounted probability of a first open, for an email landing in each slot.

    Args:
        rates: ``(168,)`` or ``(m, 168)`` relative engagement rates (workspace average 1).
        hazard_scale: Opens per relative-rate unit per hour (the workspace's open rate).
        freshness_hours: Time constant of the reply chance's decline with the open's delay.

    Returns:
        Same shape as ``rates``.
    """
    # Hours beyond ~5 freshness time constants add < 1% and are skipped.
    horizon = int(min(HORIZON, max(12, math.ceil(5.0 * freshness_hours))))
    k = np.arange(horizon, dtype=np.float64)
    fresh = np.exp(-(k + 0.5) / freshness_hours)
    hourly = hazard_scale * np.asarray(rates)[..., _INDEX[:, :horizon]]  # (..., 168, horizon)
    survive = np.exp(-(np.cumsum(hourly, axis=-1) - hourly))
    value: Array = (survive * -np.expm1(-hourly)) @ fresh
    return value
