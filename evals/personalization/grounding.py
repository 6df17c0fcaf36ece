"""The tokenizer behind the grounded scorer: which parts of a line are claims, and are they known.

A *claim* is anything in a subject or opener that asserts a fact about the person:

* a **name-like phrase**: a run of tokens that start with a capital letter, or are written in a
  script without case (王芳, محمد, राहुल), and are not common email vocabulary (``COMMON_WORDS``:
  "Hi", "Quick", "Thanks", weekdays...); consecutive such tokens form one phrase ("Acme Corp"),
  which punctuation, a possessive ("Acme's") or a number ends;
* a **number** ("45", "3.5%", "$10M", "2024");
* a **quoted string** ("…", “…”, «…», '…');
* a **link or address** (``https://…``, ``www.…``, ``name@host``).

A claim is *grounded* when it appears in the source (the contact record and the step template):
a phrase as a contiguous run of the tokens of one source text (the full name counts as one), a
single token as a source token (or, in a script without spaces such as Chinese, as a substring),
a quote or a link as a substring. Comparison is Unicode-normalised (NFKC) and case-insensitive,
curly apostrophes are straightened and a possessive ``'s`` is dropped, so "Zoë", "ZOË" and
"Zoë's" all match "Zoë"; hyphenated names and names with apostrophes stay one token
("Anne-Marie", "O'Brien"), and so do initials ("A.J.").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["COMMON_WORDS", "Claim", "Source", "claims", "normalize", "tokens"]

ClaimKind = Literal["phrase", "number", "quote", "link"]

COMMON_WORDS: frozenset[str] = frozenset(
    """a about after again all also am an and any are as at be because been before being best
    brief but by call can chat check checking circling congrats congratulations could curious
    day days dear did do does don't earlier email emails few follow follow-up following for
    from glad good great had happy has have hello help helping here hey hi hope hoping how i
    i'd i'll i'm i've idea ideas if in interested is it it's its just last let let's like
    loved made maybe me meet might minutes month months more my new next nice no not note
    noticed now of on one only open or our out over please question questions quick re fwd
    reaching really reply saw saying see seeing short since so some sure team teams thank
    thanks that the their them then there these they thing think this those thought thoughts
    time to today tomorrow two up us very want wanted was we we'd we'll we're we've week
    weeks welcome well what when where which while who why will wish with wondering work
    working worth would yes you you'd you'll you're your yours
    monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december""".split()  # noqa: SIM905
)
"""Words that may be capitalized (sentence starts, greetings) without being a claim."""

_LINK = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)
_QUOTE = re.compile(
    r'"([^"\n]+)"|“([^”\n]+)”|„([^“”\n]+)[“”]|«\s*([^»\n]+?)\s*»|‘([^’\n]+)’'
    r"|(?<![\w'])'([^'\n]+)'(?![\w'])"
)
# A number (with separators, currency, percent, magnitude), or a word: letters and digits with
# internal apostrophes, hyphens and dots (O'Brien, Anne-Marie, A.J), and a trailing dot after a
# single-letter initial.
_TOKEN = re.compile(
    r"[$€£¥]?\d+(?:[.,]\d+)*(?:%|[kKmMbB]\b)?"
    r"|[^\W_](?:[\w]|['’.\-](?=[^\W_]))*(?:(?<=\b[^\W\d_])\.)?"
)


def normalize(text: str) -> str:
    """Case-folded NFKC text with straight apostrophes and single spaces."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return " ".join(text.casefold().split())


def _norm_token(token: str) -> str:
    t = normalize(token)
    for suffix in ("'s", "s'"):
        if t.endswith(suffix) and len(t) > len(suffix):
            t = t[: -len(suffix)] + ("s" if suffix == "s'" else "")
            break
    return t.rstrip(".")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return _norm_token(self.text)


def tokens(text: str) -> list[_Token]:
    """The word and number tokens of ``text``, with their spans."""
    return [_Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _possessive(token: _Token) -> bool:
    return normalize(token.text).endswith(("'s", "s'"))


def _caseless(ch: str) -> bool:
    return ch.isalpha() and ch.lower() == ch.upper()


def _claim_like(token: str) -> bool:
    if any(ch.isdigit() for ch in token):
        return True
    if _norm_token(token) in COMMON_WORDS:
        return False
    first = token.lstrip("$€£¥")[:1]
    return first.isupper() or any(_caseless(ch) for ch in token)


@dataclass(frozen=True)
class Claim:
    """One claim found in a line: its kind and its text as written."""

    kind: ClaimKind
    text: str


def claims(text: str) -> list[Claim]:
    """Every claim in ``text`` (see the module docstring), in order of appearance."""
    found: list[Claim] = []
    for m in _LINK.finditer(text):
        found.append(Claim("link", m.group(0).rstrip(".,;:!?)")))
    bare = _LINK.sub(" ", text)
    for m in _QUOTE.finditer(bare):
        inner = next(g for g in m.groups() if g is not None).strip()
        if inner:
            found.append(Claim("quote", inner))
    run: list[_Token] = []

    def flush() -> None:
        if run:
            phrase = bare[run[0].start : run[-1].end]
            only_number = len(run) == 1 and any(ch.isdigit() for ch in run[0].text)
            found.append(Claim("number" if only_number else "phrase", phrase))
            run.clear()

    for tok in tokens(bare):
        if not _claim_like(tok.text):
            flush()
            continue
        number = any(ch.isdigit() for ch in tok.text)
        if run and (number or bare[run[-1].end : tok.start].strip() or _possessive(run[-1])):
            flush()  # punctuation, a possessive or a number ends a phrase
        run.append(tok)
        if number:
            flush()  # a number is a claim of its own
    flush()
    return found


class Source:
    """What claims may draw on: texts (record fields, template) as token runs and as text."""

    def __init__(self, texts: Iterable[str | None]) -> None:
        kept = [t for t in texts if t and t.strip()]
        self.text = "\n".join(normalize(t) for t in kept)
        self.runs = [" ".join(tok.key for tok in tokens(t)) for t in kept]
        self.keys = {tok.key for t in kept for tok in tokens(t)}

    def grounds(self, claim: Claim) -> bool:
        """Whether ``claim`` appears in the source."""
        if claim.kind in ("quote", "link"):
            return normalize(claim.text) in self.text
        keys = [tok.key for tok in tokens(claim.text)]
        if not keys:
            return True
        if len(keys) == 1:
            # Scripts written without spaces may run a name into its neighbours in the source.
            loose = sum(_caseless(ch) for ch in keys[0]) >= 2 and keys[0] in self.text
            return keys[0] in self.keys or loose
        phrase = f" {' '.join(keys)} "
        return any(phrase in f" {run} " for run in self.runs)
