"""Grouping keys for pooling: role family from a job title, company key from domain or name."""

from __future__ import annotations

import re

__all__ = ["ROLE_FAMILIES", "company_key", "role_family"]

ROLE_FAMILIES: tuple[str, ...] = (
    "executive",
    "engineering",
    "sales",
    "marketing",
    "finance",
    "hr",
    "operations",
    "other",
)

_WORD = re.compile(r"[a-z0-9]+")

# C-suite and owners first: "CTO" is an executive before it is an engineer.
_EXECUTIVE_TOKENS = frozenset(
    {
        "ceo", "coo", "cfo", "cto", "cmo", "cro", "cio", "cpo", "chro", "ciso", "cso",
        "chief", "founder", "cofounder", "president", "owner", "chairman",
        "chairwoman", "md", "gm",
    }
)  # fmt: skip
_EXECUTIVE_PHRASES = ("managing director", "general manager", "co founder", "executive director")

# Checked in order; the first family with a matching token or phrase wins.
_FAMILY_RULES: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    (
        "engineering",
        frozenset(
            {
                "engineer", "engineering", "developer", "software", "devops", "sre", "architect",
                "programmer", "technical", "technology", "it", "data", "scientist", "qa",
                "infrastructure", "platform", "security", "backend", "frontend", "fullstack",
                "research",
            }
        ),
        ("machine learning", "full stack"),
    ),
    (
        "sales",
        frozenset(
            {
                "sales", "account", "ae", "sdr", "bdr", "revenue", "partnerships", "commercial",
                "customer", "success", "csm", "channel", "buyer",
            }
        ),
        ("business development", "account executive"),
    ),
    (
        "marketing",
        frozenset(
            {
                "marketing", "brand", "growth", "content", "communications", "pr", "seo",
                "demand", "social", "product", "design", "designer", "creative", "events",
            }
        ),
        ("public relations",),
    ),
    (
        "finance",
        frozenset(
            {
                "finance", "financial", "accounting", "accountant", "controller", "treasury",
                "treasurer", "payroll", "audit", "auditor", "tax", "fp", "bookkeeper",
                "billing", "investor",
            }
        ),
        (),
    ),
    (
        "hr",
        frozenset(
            {
                "hr", "people", "talent", "recruiter", "recruiting", "recruitment", "human",
                "hiring", "culture", "learning", "benefits", "compensation",
            }
        ),
        ("human resources",),
    ),
    (
        "operations",
        frozenset(
            {
                "operations", "ops", "operational", "logistics", "supply", "facilities",
                "office", "administrator", "admin", "procurement", "project", "program",
                "coordinator", "manufacturing", "plant", "warehouse", "legal", "counsel",
                "compliance",
            }
        ),
        ("supply chain",),
    ),
)  # fmt: skip

_FREE_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de",
        "mail.com", "yandex.ru", "qq.com", "163.com", "web.de",
    }
)  # fmt: skip
_COMPANY_SUFFIX = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|srl|bv|nv|plc|corp|corporation|co|"
    r"company|pty|oy|ab|as|kk)\b"
)


def role_family(title: str | None) -> str:
    """The role family of a free-text job title.

    Args:
        title: A job title such as ``"VP, Revenue"``; ``None`` or blank gives ``"other"``.

    Returns:
        One of :data:`ROLE_FAMILIES`. C-level, founders, presidents and owners are
        ``executive``; otherwise the function named in the title decides (``"VP Sales"`` is
        ``sales``).
    """
    if not title:
        return "other"
    text = title.lower().replace("&", " and ").replace("-", " ")
    tokens = set(_WORD.findall(text))
    joined = " ".join(_WORD.findall(text))
    if tokens & _EXECUTIVE_TOKENS or any(p in joined for p in _EXECUTIVE_PHRASES):
        return "executive"
    for family, words, phrases in _FAMILY_RULES:
        if tokens & words or any(p in joined for p in phrases):
            return family
    return "other"


def company_key(company: str | None, domain: str | None) -> str | None:
    """A key shared by contacts of one company, or ``None`` when nothing identifies it.

    A corporate domain wins (``www.`` and an email local part are stripped); free-mail domains
    are ignored; otherwise the company name, lower-cased, without punctuation or legal suffixes.

    Args:
        company: Company name.
        domain: Domain or email address.

    Returns:
        ``"d:<domain>"``, ``"c:<name>"`` or ``None``.
    """
    if domain:
        d = domain.strip().lower().rsplit("@", 1)[-1]
        d = d.removeprefix("www.").rstrip(".")
        if d and d not in _FREE_MAIL:
            return f"d:{d}"
    if company:
        name = " ".join(_WORD.findall(_COMPANY_SUFFIX.sub(" ", company.lower())))
        if name:
            return f"c:{name}"
    return None
