"""The pooled hierarchy: prior -> workspace -> role family -> company -> contact.

Each level multiplies its parent's per-slot rate by a Gamma-distributed factor (see
:mod:`cadence.ai.sendtime.pooling`). Contacts also differ in overall responsiveness (a scalar
*frailty* ``theta``): without it, the slots late after a send would look dead simply because the
responsive contacts had already answered, leaving only the slow ones at risk. So exposure is
weighted by ``theta`` when groups are pooled, and ``theta`` is re-estimated against the pooled
rates (two rounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cadence.ai.sendtime.pooling import fit_kappa

__all__ = ["DEFAULT_KAPPA", "WORKSPACE_KAPPA", "Hierarchy", "fit_hierarchy"]

Array = NDArray[np.float64]

WORKSPACE_KAPPA = 20.0
DEFAULT_KAPPA = {"title": 20.0, "company": 5.0, "contact": 2.0, "frailty": 2.0}
DETAIL_EVENTS = 10.0
_ROUNDS = 2


@dataclass(frozen=True)
class Hierarchy:
    """Fitted rates (relative to the workspace average) at every level.

    Attributes:
        prior: ``(168,)`` prior shape, scaled to the data.
        workspace: ``(168,)``.
        family: ``(families, 168)``.
        company_n: ``(companies, 168)`` pooled counts of each company.
        company_mu: ``(companies, 168)`` their counts expected under the members' family rates.
        parent: ``(contacts, 168)`` each contact's company-level rate (without its own data).
        alpha: ``(contacts, 168)`` Gamma shape of each contact's per-slot factor.
        beta: ``(contacts, 168)`` Gamma rate of each contact's per-slot factor.
        detail: ``(contacts, 168)`` hour-resolution correction from the contact's raw counts.
        theta: ``(contacts,)`` overall responsiveness of each contact.
        kappa: Pooling strength per level.
    """

    prior: Array
    workspace: Array
    family: Array
    company_n: Array
    company_mu: Array
    parent: Array
    alpha: Array
    beta: Array
    detail: Array
    theta: Array
    kappa: dict[str, float]


def _group_sum(values: Array, groups: NDArray[np.int64], n_groups: int) -> Array:
    """Row sums of ``values`` per group (rows with group ``-1`` are skipped)."""
    out = np.zeros((n_groups, values.shape[1]))
    mask = groups >= 0
    if not mask.any():
        return out
    order = np.argsort(groups[mask], kind="stable")
    sorted_groups = groups[mask][order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    out[sorted_groups[starts]] = np.add.reduceat(values[mask][order], starts, axis=0)
    return out


def _take(rows: Array, groups: NDArray[np.int64]) -> Array:
    """``rows[groups]`` with zeros for group ``-1``."""
    padded = np.vstack([rows, np.zeros((1, rows.shape[1]))])
    taken: Array = padded[groups]
    return taken


def fit_hierarchy(
    *,
    pooled_n: Array,
    pooled_e: Array,
    raw_n: Array,
    raw_e: Array,
    families: NDArray[np.int64],
    n_families: int,
    companies: NDArray[np.int64],
    n_companies: int,
    prior: Array,
    slot_scale: float,
    total_scale: float,
    kappa: Mapping[str, float] | None = None,
    estimate: bool = True,
) -> Hierarchy:
    """Fit every level.

    Args:
        pooled_n: ``(contacts, 168)`` kernel-pooled weighted counts.
        pooled_e: ``(contacts, 168)`` kernel-pooled normalised exposure.
        raw_n: Same, before pooling (for the frailty).
        raw_e: Same, before pooling.
        families: Role family index per contact.
        n_families: Number of families.
        companies: Company index per contact, ``-1`` for none.
        n_companies: Number of companies.
        prior: ``(168,)`` prior shape.
        slot_scale: Quasi-Poisson factor of pooled per-slot counts (see ``fit_kappa``).
        total_scale: Quasi-Poisson factor of raw per-contact totals.
        kappa: Pooling strengths to start from (defaults when ``None``).
        estimate: Whether to re-estimate the pooling strengths by empirical Bayes.

    Returns:
        The fitted :class:`Hierarchy`.
    """
    n = pooled_n.shape[0]
    theta = np.ones(n)
    strengths = {"workspace": WORKSPACE_KAPPA, **DEFAULT_KAPPA, **(kappa or {})}
    has_co = companies >= 0
    tot_n = raw_n.sum(axis=1, keepdims=True)
    ws_n = pooled_n.sum(axis=0)
    fam_n = _group_sum(pooled_n, families, n_families)
    co_n = _group_sum(pooled_n, companies, n_companies)
    loo_n = np.where(has_co[:, None], np.maximum(_take(co_n, companies) - pooled_n, 0), 0)
    for last in [False] * (_ROUNDS - 1) + [True]:
        e_eff = pooled_e * theta[:, None]
        ws_e = e_eff.sum(axis=0)
        level = float((ws_e * prior).sum())
        if level > 0:
            prior = prior * float(ws_n.sum()) / level
        k_ws = strengths["workspace"]
        workspace = prior * (k_ws + ws_n) / (k_ws + ws_e * prior)

        fam_mu = _group_sum(e_eff, families, n_families) * workspace
        if last and estimate:
            strengths["title"] = fit_kappa(fam_n, fam_mu, DEFAULT_KAPPA["title"], slot_scale)
        family = workspace * (strengths["title"] + fam_n) / (strengths["title"] + fam_mu)

        fam_rate = family[families]
        member_mu = e_eff * fam_rate
        co_mu = _group_sum(member_mu, companies, n_companies)
        if last and estimate:
            strengths["company"] = fit_kappa(co_n, co_mu, DEFAULT_KAPPA["company"], slot_scale)
        k_co = strengths["company"]
        # A contact's company estimate leaves its own data out (used at the contact level).
        loo_mu = np.where(has_co[:, None], np.maximum(_take(co_mu, companies) - member_mu, 0), 0)
        parent = fam_rate * (k_co + loo_n) / (k_co + loo_mu)

        tot_mu = (raw_e * parent).sum(axis=1, keepdims=True)
        if estimate:
            strengths["frailty"] = fit_kappa(tot_n, tot_mu, DEFAULT_KAPPA["frailty"], total_scale)
        k_f = strengths["frailty"]
        theta = ((k_f + tot_n) / (k_f + tot_mu))[:, 0]

    contact_mu = pooled_e * theta[:, None] * parent
    if estimate:
        strengths["contact"] = fit_kappa(pooled_n, contact_mu, DEFAULT_KAPPA["contact"], slot_scale)
    k_c = strengths["contact"]
    # Hour-resolution correction on the contact's raw counts: where the smooth estimate expects
    # many events and none came (or the reverse), strong evidence sharpens the curve; thin
    # evidence leaves it almost untouched.
    smooth = parent * theta[:, None] * (k_c + pooled_n) / (k_c + contact_mu)
    raw_mu = raw_e * smooth
    # Fixed, not fitted: about ten events' worth, so only strong evidence sharpens the curve.
    strengths["detail"] = k_d = DETAIL_EVENTS / total_scale
    return Hierarchy(
        prior=prior,
        workspace=workspace,
        family=family,
        company_n=co_n,
        company_mu=co_mu,
        parent=parent * theta[:, None],
        alpha=k_c + pooled_n,
        beta=k_c + contact_mu,
        detail=(k_d + raw_n) / (k_d + raw_mu),
        theta=theta,
        kappa=strengths,
    )
