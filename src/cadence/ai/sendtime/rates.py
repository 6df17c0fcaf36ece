"""Reply rate per email, pooled contact -> company -> role family -> workspace (Beta-binomial)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_REPLY_RATE", "ReplyRates", "fit_reply_rates"]

Array = NDArray[np.float64]

DEFAULT_REPLY_RATE = 0.03
# Beta pseudo-emails of each level's prior (taken from the level above).
_STRENGTH = {"contact": 10.0, "company": 20.0, "family": 50.0, "workspace": 10.0}


@dataclass(frozen=True)
class ReplyRates:
    """Fitted reply rates.

    Attributes:
        contact: ``(contacts,)`` posterior-mean reply rate of each fitted contact.
        family: ``(families,)`` per role family.
        company_counts: ``(companies, 2)`` emails and replies per company.
        workspace: Workspace rate.
    """

    contact: Array
    family: Array
    company_counts: Array
    workspace: float

    def for_new(self, family: int, company: int | None) -> float:
        """The rate of a contact with no history of its own."""
        fam = float(self.family[family])
        if company is None:
            return fam
        emails, replies = self.company_counts[company]
        return float((replies + _STRENGTH["company"] * fam) / (emails + _STRENGTH["company"]))

    @classmethod
    def empty(cls, n_families: int) -> ReplyRates:
        """Rates before any data."""
        return cls(
            contact=np.zeros(0),
            family=np.full(n_families, DEFAULT_REPLY_RATE),
            company_counts=np.zeros((0, 2)),
            workspace=DEFAULT_REPLY_RATE,
        )


def fit_reply_rates(
    messages: NDArray[np.int64],
    replies: NDArray[np.int64],
    families: NDArray[np.int64],
    n_families: int,
    companies: NDArray[np.int64],
    n_companies: int,
) -> ReplyRates:
    """Pool emails and replies up the hierarchy (a contact's company leaves the contact out).

    Args:
        messages: Emails per contact.
        replies: Replied emails per contact.
        families: Role family per contact.
        n_families: Number of families.
        companies: Company per contact, ``-1`` for none.
        n_companies: Number of companies.

    Returns:
        The :class:`ReplyRates`.
    """
    s = _STRENGTH
    m_tot, r_tot = float(messages.sum()), float(replies.sum())
    ws = (r_tot + s["workspace"] * DEFAULT_REPLY_RATE) / (m_tot + s["workspace"])
    fam_m = np.bincount(families, weights=messages, minlength=n_families)
    fam_r = np.bincount(families, weights=replies, minlength=n_families)
    family = (fam_r + s["family"] * ws) / (fam_m + s["family"])
    has = companies >= 0
    co = np.zeros((n_companies, 2))
    co[:, 0] = np.bincount(companies[has], weights=messages[has], minlength=n_companies)
    co[:, 1] = np.bincount(companies[has], weights=replies[has], minlength=n_companies)
    padded = np.vstack([co, np.zeros((1, 2))])  # group -1 reads the zero row
    co_m = np.where(has, padded[companies, 0] - messages, 0.0)
    co_r = np.where(has, padded[companies, 1] - replies, 0.0)
    co_rate = (co_r + s["company"] * family[families]) / (co_m + s["company"])
    contact = (replies + s["contact"] * co_rate) / (messages + s["contact"])
    return ReplyRates(contact=contact, family=family, company_counts=co, workspace=ws)
