"""Personalization: a subject line and an opening line grounded only in the contact's record.

With a chat model, the model drafts them through structured output, under a system prompt that
frames the record as data; the draft is then checked, and one that names facts the record does
not hold, breaks the length bounds, uses spam phrases or echoes instructions is dropped for the
deterministic personalizer. Without a model, the deterministic personalizer builds them from the
same facts, picking among templates by a stable hash so contacts do not all read alike.

Contact fields are data, never instructions. A field that carries instruction-like or spammy
text, a link or an address is not used at all.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from cadence.ai.prompts import PERSONALIZE_SYSTEM_PROMPT

__all__ = [
    "INSTRUCTION_MARKERS",
    "OPENER_MAX",
    "SPAM_PHRASES",
    "SUBJECT_MAX",
    "ContactRecord",
    "Personalization",
    "PersonalizationDraft",
    "StepContent",
    "deterministic_personalization",
    "draft_problems",
    "spam_phrases_in",
    "suggest_personalization",
]

SUBJECT_MAX = 60  # characters
OPENER_MAX = 200  # characters

SPAM_PHRASES: tuple[str, ...] = (
    "act now", "apply now", "best price", "buy now", "call now", "cash", "click here",
    "double your", "earn money", "free", "guarantee", "guaranteed", "limited time",
    "lowest price", "miracle", "no cost", "no obligation", "once in a lifetime", "order now",
    "risk-free", "risk free", "special promotion", "urgent", "winner", "100%", "$$$",
)  # fmt: skip
"""Phrases that trip spam filters (and readers); matched as whole words, case-insensitively."""

INSTRUCTION_MARKERS: tuple[str, ...] = (
    "ignore previous", "ignore all", "ignore the above", "disregard", "instruction",
    "system prompt", "you are now", "as an ai", "assistant:", "enroll", "tool call",
    "<", ">", "{{", "}}",
)  # fmt: skip
"""Text that reads like orders to a model or template syntax; a field holding it is not used."""

# Words that may appear capitalized without being a fact about the contact.
_COMMON = frozenset(
    """a about after again all also an and any are as at be been before best brief but by
    call can chat checking congrats congratulations could curious day dear did do does earlier
    email few following for from glad good great had happy has have hello help helping hey hi
    hope hoping how i i'd i'll i'm i've idea ideas if in is it it's its just last let like
    loved made may me meet might minutes month more my new next nice no not note noticed of on
    one open or our out over question questions quick re reaching reply saw saying seeing
    short since so some team teams thank thanks that the their them there these they this
    those thought thoughts time to today tomorrow two up us was we we're we've week welcome
    what when where which who why will with work working worth would you you're your yours
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&.\-]*")
_LINK = re.compile(r"(https?://|www\.|\S+@\S+\.\S+)", re.I)
_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("customer success", "customer success"), ("sales", "sales"), ("revenue", "revenue"),
    ("marketing", "marketing"), ("growth", "growth"), ("engineering", "engineering"),
    ("engineer", "engineering"), ("cto", "engineering"), ("developer", "engineering"),
    ("finance", "finance"), ("cfo", "finance"), ("operations", "operations"),
    ("ops", "operations"), ("people", "people"), ("hr", "people"), ("talent", "recruiting"),
    ("recruiting", "recruiting"), ("product", "product"), ("support", "support"),
    ("security", "security"), ("data", "data"), ("procurement", "procurement"),
)  # fmt: skip
FactName = Literal[
    "first_name", "last_name", "title", "company", "industry", "notes", "recent_activity"
]


class ContactRecord(BaseModel):
    """What personalization may draw on: the contact's CRM fields and recent activity."""

    model_config = ConfigDict(frozen=True)

    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company: str | None = None
    industry: str | None = None
    notes: str | None = None
    recent_activity: list[str] = Field(default_factory=list)

    def facts(self) -> dict[str, str]:
        """The fields that hold something, by name (activity joined into one text)."""
        out = {
            k: v
            for k, v in self.model_dump(exclude={"recent_activity"}).items()
            if isinstance(v, str) and v.strip()
        }
        if self.recent_activity:
            out["recent_activity"] = "; ".join(self.recent_activity)
        return out


class StepContent(BaseModel):
    """The step being personalized: its channel and what it already says."""

    model_config = ConfigDict(frozen=True)

    channel: str = "email"
    subject: str | None = None
    body: str = ""


class PersonalizationDraft(BaseModel):
    """A subject line and an opening line for one outreach email to one person."""

    subject: str = Field(description="At most 60 characters, sentence case, no spam words.")
    opener: str = Field(description="One sentence, at most 200 characters.")
    facts_used: list[str] = Field(
        description="Record fields the lines draw on: first_name, last_name, title, company, "
        "industry, notes, recent_activity."
    )


class Personalization(BaseModel):
    """A suggested subject and opener, the record fields they use, and who wrote them."""

    subject: str = Field(max_length=SUBJECT_MAX)
    opener: str = Field(max_length=OPENER_MAX)
    facts_used: list[str]
    source: Literal["model", "deterministic"]
    fallback_reason: str | None = Field(
        None, description="Why a model's draft was not used, when it was not."
    )


def spam_phrases_in(text: str) -> list[str]:
    """The spam phrases ``text`` contains (whole words, any case)."""
    low = text.lower()
    found = [p for p in SPAM_PHRASES if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", low)]
    if text.count("!") > 1:
        found.append("!!")
    return found


def _usable(value: str | None, limit: int) -> str | None:
    """A field value safe to put in an email, or None: short, plain text, not instructions."""
    if not value:
        return None
    text = " ".join(value.split())
    low = text.lower()
    if (
        not text
        or len(text) > limit
        or not any(c.isalnum() for c in text)
        or any(c == "!" or unicodedata.category(c) in ("Cc", "Cf") for c in text)
        or _LINK.search(text)
        or any(m in low for m in INSTRUCTION_MARKERS)
        or spam_phrases_in(text)
    ):
        return None
    return text


def _department(title: str | None) -> str | None:
    low = f" {(title or '').lower()} "
    for key, name in _DEPARTMENTS:
        if re.search(rf"(?<![a-z]){re.escape(key)}(?![a-z])", low):
            return name
    return None


_Template = tuple[str, frozenset[str]]
_SUBJECTS: tuple[_Template, ...] = (
    ("{first_name}, a question about {company}", frozenset({"first_name", "company"})),
    ("Idea for the {dept} team at {company}", frozenset({"company", "dept"})),
    ("{industry} teams like {company}", frozenset({"industry", "company"})),
    ("Quick question, {first_name}", frozenset({"first_name"})),
    ("A thought for {company}", frozenset({"company"})),
    ("For {company}'s {dept} team", frozenset({"company", "dept"})),
)
_OPENERS: tuple[_Template, ...] = (
    ("Hi {first_name}, thanks for getting back to me earlier.",
     frozenset({"first_name", "replied"})),
    ("Hi {first_name}, thanks for getting back to me about {company}.",
     frozenset({"first_name", "company", "replied"})),
    ("Hi {first_name}, a short note for you as {title}.", frozenset({"first_name", "title"})),
    ("Hello, a note for you as {title} at {company}.", frozenset({"title", "company"})),
    ("Hello, a short note for you as {title}.", frozenset({"title"})),
    ("Hi {first_name}, following up on my earlier note to you at {company}.",
     frozenset({"first_name", "company", "emailed"})),
    ("Hi {first_name}, a short note for you as {title} at {company}.",
     frozenset({"first_name", "title", "company"})),
    ("Hi {first_name}, I'm reaching out to a few {industry} teams, and {company} stood out.",
     frozenset({"first_name", "industry", "company"})),
    ("Hi {first_name}, I'm writing to you about how the {dept} team at {company} works.",
     frozenset({"first_name", "dept", "company"})),
    ("Hello, I'm reaching out to the {dept} team at {company}.", frozenset({"dept", "company"})),
    ("Hi {first_name}, I'll keep this short.", frozenset({"first_name"})),
    ("Hi {first_name}, one quick question for you.", frozenset({"first_name"})),
    ("Hi {first_name}, a short note, as promised to myself.", frozenset({"first_name"})),
    ("Hi {first_name}, I hope the week is treating you well.", frozenset({"first_name"})),
    ("Hello, I'm reaching out to the team at {company}.", frozenset({"company"})),
    ("Hello, a short note for the people at {company}.", frozenset({"company"})),
)  # fmt: skip
# When the record offers nothing usable: still not one line for everybody.
_BARE_OPENERS = (
    "Hello, I'll keep this short.",
    "Hello, one quick question for you.",
    "Hello, I hope the week is treating you well.",
    "Hello, a short note from me.",
)
# Which record field each template slot comes from.
_SLOT_FACT: dict[str, str] = {
    "first_name": "first_name",
    "company": "company",
    "title": "title",
    "industry": "industry",
    "dept": "title",
    "replied": "recent_activity",
    "emailed": "recent_activity",
}


def _pick(
    templates: Iterable[_Template], values: dict[str, str], seed: int, limit: int
) -> tuple[str, list[str]]:
    fitting = [
        (text, slots)
        for text, slots in templates
        if slots <= values.keys() and len(text.format(**values)) <= limit
    ]
    if not fitting:
        return "", []

    # Prefer what the contact did with us, then the templates that use the most facts; vary
    # among the best.
    def score(slots: frozenset[str]) -> int:
        return len(slots) + 2 * len(slots & {"replied", "emailed"})

    richest = max(score(s) for _, s in fitting)
    best = [t for t in fitting if score(t[1]) == richest]
    text, slots = best[seed % len(best)]
    facts = sorted({_SLOT_FACT[s] for s in slots})
    return text.format(**values), facts


def deterministic_personalization(
    contact: ContactRecord, step: StepContent | None = None, *, reason: str | None = None
) -> Personalization:
    """Subject and opener from the record's facts alone, varied by a stable hash of the contact.

    Args:
        contact: The contact's record.
        step: The step being personalized; it varies the choice of template.
        reason: Why this is used instead of a model's draft, if it is.

    Returns:
        A ``Personalization`` with ``source="deterministic"``.
    """
    values: dict[str, str] = {}
    for name, limit in (("first_name", 40), ("company", 40), ("title", 60), ("industry", 30)):
        usable = _usable(getattr(contact, name), limit)
        if usable:
            values[name] = usable
    dept = _department(values.get("title"))
    if dept:
        values["dept"] = dept
    activity = " ".join(contact.recent_activity).lower()
    if "replied" in activity:
        values["replied"] = ""
    elif "sent an email" in activity:
        values["emailed"] = ""
    # The variant is chosen by a hash of what survived cleaning, never of raw field text: text
    # planted in a field (dropped by _usable) then cannot steer which template is used.
    key = "|".join(
        [*(values.get(k, "") for k in ("first_name", "company", "title", "industry")),
         _usable(contact.last_name, 40) or "",
         (step.subject or "") if step else ""]
    )  # fmt: skip
    seed = zlib.crc32(key.encode("utf-8"))
    subject, s_facts = _pick(_SUBJECTS, values, seed, SUBJECT_MAX)
    opener, o_facts = _pick(_OPENERS, values, seed >> 8, OPENER_MAX)
    return Personalization(
        subject=subject or "Quick question",
        opener=opener or _BARE_OPENERS[(seed >> 16) % len(_BARE_OPENERS)],
        facts_used=sorted(set(s_facts) | set(o_facts)),
        source="deterministic",
        fallback_reason=reason,
    )


def _words(text: str) -> set[str]:
    return {w.lower().removesuffix("'s").strip(".-'") for w in _WORD.findall(text)}


def draft_problems(
    draft: PersonalizationDraft, contact: ContactRecord, step: StepContent | None = None
) -> list[str]:
    """Why a model's draft may not be used; empty when it is grounded and within bounds.

    The grounding check is lexical: every number, link, and capitalized word that is not common
    email vocabulary must appear in the record or the step. It rejects more than it must (a
    title-cased subject fails), which only means the deterministic lines are used instead.
    """
    problems: list[str] = []
    facts = contact.facts()
    if len(draft.subject) > SUBJECT_MAX:
        problems.append(f"subject longer than {SUBJECT_MAX} characters")
    if len(draft.opener) > OPENER_MAX:
        problems.append(f"opener longer than {OPENER_MAX} characters")
    if not draft.subject.strip() or not draft.opener.strip():
        problems.append("empty subject or opener")
    text = f"{draft.subject}\n{draft.opener}"
    if spam := spam_phrases_in(text):
        problems.append(f"spam phrases: {', '.join(spam)}")
    low = text.lower()
    if markers := [m for m in INSTRUCTION_MARKERS if m in low]:
        problems.append(f"instruction-like text: {', '.join(markers)}")
    unknown = [f for f in draft.facts_used if f not in facts]
    if unknown:
        problems.append(f"facts_used names fields the record does not have: {unknown}")
    if not draft.facts_used:
        problems.append("uses no fact from the record")
    source = " ".join([*facts.values(), (step.subject or "") if step else "",
                       step.body if step else ""])  # fmt: skip
    known = _words(source)
    for link in _LINK.findall(text):
        if link.lower() not in source.lower():
            problems.append(f"link or address not in the record: {link}")
    invented = sorted(
        {
            w
            for w in _WORD.findall(text)
            if (w[0].isupper() or any(c.isdigit() for c in w))
            and (k := w.lower().removesuffix("'s").strip(".-'")) not in _COMMON
            and k not in known
        }
    )
    if invented:
        problems.append(f"names facts not in the record: {', '.join(invented)}")
    return problems


def _record_text(contact: ContactRecord, step: StepContent | None) -> str:
    record = contact.model_dump_json(exclude_none=True, indent=1)
    parts = [f"<contact_record>\n{record}\n</contact_record>"]
    if step is not None:
        parts.append(f"<step>\n{step.model_dump_json(indent=1)}\n</step>")
    parts.append("Write the subject line and the opening line for this person.")
    return "\n\n".join(parts)


def suggest_personalization(
    contact: ContactRecord,
    step: StepContent | None = None,
    *,
    model: BaseChatModel | None = None,
    on_model_error: Callable[[Exception], None] | None = None,
) -> Personalization:
    """A subject line and an opening line for ``contact``, grounded only in its record.

    Args:
        contact: The contact's record (fields, notes, recent activity). Treated as data.
        step: The step to personalize, if any.
        model: A chat model supporting structured output; ``None`` uses the deterministic
            personalizer.
        on_model_error: Called with the exception when the model call fails (e.g. to log it);
            the deterministic lines are returned either way.

    Returns:
        The suggestion, ``source="model"`` when the model's draft passed the checks, else
        ``source="deterministic"`` with ``fallback_reason`` saying why.
    """
    if model is None:
        return deterministic_personalization(contact, step)
    messages = [SystemMessage(PERSONALIZE_SYSTEM_PROMPT), HumanMessage(_record_text(contact, step))]
    try:
        raw = model.with_structured_output(PersonalizationDraft).invoke(messages)
        draft = PersonalizationDraft.model_validate(raw)
    except Exception as exc:  # a suggestion must not fail because the model did
        if on_model_error is not None:
            on_model_error(exc)
        return deterministic_personalization(
            contact, step, reason=f"model call failed: {type(exc).__name__}"
        )
    problems = draft_problems(draft, contact, step)
    if problems:
        return deterministic_personalization(contact, step, reason="; ".join(problems))
    return Personalization(
        subject=draft.subject.strip(),
        opener=draft.opener.strip(),
        facts_used=sorted(set(draft.facts_used)),
        source="model",
    )
