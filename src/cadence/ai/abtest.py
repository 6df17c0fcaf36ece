"""A/B test suggestions for one step of a sequence, each with the sample size it needs.

Variants are proposed by rules that encode common outreach hypotheses (a question subject, a
named subject, a shorter body, a softer call to action), each with the relative lift it bets on.
The sample size per variant is the two-proportion power calculation on reply rate with the normal
approximation (Fleiss, *Statistical Methods for Rates and Proportions*, eq. 4.14), at 5%
two-sided significance and 80% power by default::

    n = (z(1-a/2) * sqrt(2 p (1-p)) + z(1-b) * sqrt(p1 (1-p1) + p2 (1-p2)))^2 / (p1 - p2)^2

where ``p`` is the mean of ``p1`` and ``p2``. The baseline ``p1`` is the workspace's own reply rate
when it has sent enough to know it, else ``DEFAULT_BASELINE_REPLY_RATE``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from cadence.errors import InvalidInput

__all__ = [
    "ALPHA",
    "DEFAULT_BASELINE_REPLY_RATE",
    "MIN_REPLIES_FOR_BASELINE",
    "MIN_SENT_FOR_BASELINE",
    "POWER",
    "ABTestSuggestion",
    "Baseline",
    "Variant",
    "baseline_from",
    "sample_size_per_variant",
    "suggest_ab_test",
]

ALPHA = 0.05  # two-sided significance level
POWER = 0.80  # chance of detecting the lift when it is real
DEFAULT_BASELINE_REPLY_RATE = 0.05  # replies per email sent; a typical cold outbound rate
MIN_SENT_FOR_BASELINE = 200  # emails sent before the workspace's own rate is trusted
MIN_REPLIES_FOR_BASELINE = 10  # replies received, likewise

SOFT_CTA = "Would it help if I sent a two-line summary of how this could work for you?"
SHORT_CTA = "Worth a quick chat next week?"


class StepLike(Protocol):
    """What a step offers: ``cadence.service.views.StepPublic`` fits."""

    @property
    def channel(self) -> Any: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def body(self) -> str: ...


class SequenceLike(Protocol):
    """What a sequence offers: ``cadence.service.views.SequencePublic`` fits."""

    @property
    def id(self) -> int: ...
    @property
    def steps(self) -> Sequence[StepLike]: ...


class Baseline(BaseModel):
    """The reply rate a test starts from, and where it came from."""

    model_config = ConfigDict(frozen=True)

    reply_rate: float = Field(gt=0, lt=1)
    source: Literal["workspace", "default"]
    sent: int = 0
    replies: int = 0


class Variant(BaseModel):
    """One proposed variant of the step, tested against the current one (the control)."""

    model_config = ConfigDict(frozen=True)

    name: str
    changes: Literal["subject", "body"]
    subject: str | None
    body: str
    hypothesis: str
    relative_lift: float = Field(description="The lift in reply rate the test is sized for.")
    target_reply_rate: float
    sample_size_per_variant: int = Field(
        description="Emails to send with the control and with this variant, each."
    )


class ABTestSuggestion(BaseModel):
    """Variants for one step and what it takes to test them."""

    model_config = ConfigDict(frozen=True)

    sequence_id: int
    step: int = Field(description="1-based step number.")
    channel: str
    control_subject: str | None
    control_body: str
    baseline: Baseline
    alpha: float
    power: float
    variants: list[Variant]
    total_sends_needed: int = Field(
        description="Control plus every variant, each at the largest sample size."
    )
    method: str


def sample_size_per_variant(
    p1: float,
    p2: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    continuity_correction: bool = False,
) -> int:
    """Emails per arm to tell reply rate ``p2`` from ``p1`` (two-sided, normal approximation).

    Args:
        p1: The control's reply rate.
        p2: The variant's reply rate the test should detect.
        alpha: Two-sided significance level.
        power: Probability of detecting the difference when it is real.
        continuity_correction: Apply Fleiss' continuity correction (more conservative).

    Returns:
        The sample size per arm, rounded up.

    Raises:
        InvalidInput: a rate is not strictly between 0 and 1, they are equal, or ``alpha`` /
            ``power`` are not probabilities.
    """
    for name, value in (("p1", p1), ("p2", p2), ("alpha", alpha), ("power", power)):
        if not 0 < value < 1:
            raise InvalidInput(f"{name}: must be between 0 and 1 (got {value})", field=name)
    if p1 == p2:
        raise InvalidInput("p2: must differ from p1", field="p2", value=p2)
    z = NormalDist()
    z_alpha = z.inv_cdf(1 - alpha / 2)
    z_beta = z.inv_cdf(power)
    mean = (p1 + p2) / 2
    spread = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    delta = abs(p1 - p2)
    n = spread**2 / delta**2
    if continuity_correction:
        n = n / 4 * (1 + math.sqrt(1 + 4 / (n * delta))) ** 2
    return math.ceil(n - 1e-9)


def baseline_from(sent: int, replies: int) -> Baseline:
    """The workspace's reply rate when it has enough data, else the documented default."""
    if sent >= MIN_SENT_FOR_BASELINE and replies >= MIN_REPLIES_FOR_BASELINE and replies < sent:
        return Baseline(reply_rate=replies / sent, source="workspace", sent=sent, replies=replies)
    return Baseline(
        reply_rate=DEFAULT_BASELINE_REPLY_RATE, source="default", sent=sent, replies=replies
    )


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]


def _subject_ideas(subject: str) -> list[tuple[str, str, str, float]]:
    core = subject.strip().rstrip(".!?").strip()
    ideas: list[tuple[str, str, str, float]] = []
    if subject.strip().endswith("?"):
        ideas.append(
            (
                "statement_subject",
                core,
                "A plain statement reads less like a sales ask than a question.",
                0.10,
            )
        )
    else:
        ideas.append(
            (
                "question_subject",
                f"{core}?",
                "A subject phrased as a question invites an answer.",
                0.10,
            )
        )
    if "{{" not in subject:
        lead = core[:1].lower() + core[1:]
        ideas.append(
            (
                "named_subject",
                f"{{{{first_name|Hi}}}}, {lead}",
                "Seeing their own name makes the email read as written for them.",
                0.10,
            )
        )
    elif len(core.split()) > 4:
        ideas.append(
            (
                "short_subject",
                " ".join(core.split()[:4]),
                "A subject of four words or fewer is read whole on a phone.",
                0.10,
            )
        )
    return ideas  # fmt: skip


def _body_ideas(body: str) -> list[tuple[str, str, str, float]]:
    paragraphs = _paragraphs(body)
    ideas: list[tuple[str, str, str, float]] = []
    if len(body.split()) > 60 and paragraphs:
        ideas.append(
            (
                "short_body",
                f"{paragraphs[0]}\n\n{SHORT_CTA}",
                "A body under about 75 words is read to the end and answered more.",
                0.20,
            )
        )
    soft = [*paragraphs[:-1], SOFT_CTA] if len(paragraphs) > 1 else [*paragraphs, SOFT_CTA]
    ideas.append(
        (
            "interest_cta",
            "\n\n".join(soft),
            "Asking about interest, not for a meeting, makes replying cheaper.",
            0.15,
        )
    )
    return ideas  # fmt: skip


def suggest_ab_test(
    sequence: SequenceLike,
    step: int = 1,
    *,
    baseline: Baseline | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
    max_variants: int = 3,
) -> ABTestSuggestion:
    """Variants of one step of ``sequence``, with the hypothesis and sample size of each.

    Args:
        sequence: The sequence (a ``SequencePublic`` or anything shaped like it).
        step: Which step, 1-based.
        baseline: The reply rate to start from; ``None`` uses the default rate.
        alpha: Two-sided significance level.
        power: Power of each comparison with the control.
        max_variants: At most this many variants (fewer arms finish sooner).

    Returns:
        The suggestion.

    Raises:
        InvalidInput: ``step`` is not a step of the sequence.
    """
    if not 1 <= step <= len(sequence.steps):
        raise InvalidInput(
            f"step: sequence {sequence.id} has {len(sequence.steps)} step(s) (got {step})",
            field="step",
            value=step,
        )
    current = sequence.steps[step - 1]
    channel = str(getattr(current.channel, "value", current.channel))
    base = baseline or Baseline(reply_rate=DEFAULT_BASELINE_REPLY_RATE, source="default")
    ideas: list[tuple[Literal["subject", "body"], tuple[str, str, str, float]]] = []
    if channel == "email" and current.subject:
        ideas += [("subject", idea) for idea in _subject_ideas(current.subject)]
    ideas += [("body", idea) for idea in _body_ideas(current.body)]
    # One body variant at least, when there is room for it.
    chosen = ideas[: max_variants - 1] + [i for i in ideas[max_variants - 1 :] if i[0] == "body"]
    variants = []
    for changes, (name, text, hypothesis, lift) in chosen[:max_variants]:
        target = min(base.reply_rate * (1 + lift), 0.99)
        variants.append(
            Variant(
                name=name,
                changes=changes,
                subject=text if changes == "subject" else current.subject,
                body=text if changes == "body" else current.body,
                hypothesis=hypothesis,
                relative_lift=lift,
                target_reply_rate=round(target, 6),
                sample_size_per_variant=sample_size_per_variant(
                    base.reply_rate, target, alpha=alpha, power=power
                ),
            )
        )
    largest = max((v.sample_size_per_variant for v in variants), default=0)
    return ABTestSuggestion(
        sequence_id=sequence.id,
        step=step,
        channel=channel,
        control_subject=current.subject,
        control_body=current.body,
        baseline=base,
        alpha=alpha,
        power=power,
        variants=variants,
        total_sends_needed=largest * (len(variants) + 1),
        method="Each variant against the control on reply rate: two-proportion z-test, normal "
        f"approximation, {alpha:.0%} two-sided significance, {power:.0%} power. Run the arms "
        "at the same time and split contacts at random; stop only at the planned size.",
    )
