"""A/B suggestions and the two-proportion sample size behind them."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence.ai.abtest import (
    DEFAULT_BASELINE_REPLY_RATE,
    MIN_SENT_FOR_BASELINE,
    Baseline,
    baseline_from,
    sample_size_per_variant,
    suggest_ab_test,
)
from cadence.domain.templates import check_template
from cadence.errors import InvalidInput

LONG_BODY = (
    "Hi {{first_name|there}},\n\n"
    + " ".join(["We help sales teams spend less time on admin and more time selling."] * 6)
    + "\n\nCould we find 30 minutes next week to talk it through?"
)


def _sequence(*steps: dict[str, Any]) -> Any:
    return SimpleNamespace(id=7, name="Intro", steps=[SimpleNamespace(**s) for s in steps])


def test_sample_size_matches_fleiss_textbook_values() -> None:
    # Fleiss, Levin & Paik (2003), Table A.4: p1=0.05, p2=0.10, alpha=0.05 two-sided, power 0.80.
    assert sample_size_per_variant(0.05, 0.10) == 435
    assert sample_size_per_variant(0.05, 0.10, continuity_correction=True) == 474


@given(
    p1=st.floats(0.01, 0.3),
    lift=st.floats(0.05, 1.0),
)
def test_sample_size_shrinks_as_the_lift_grows_and_is_symmetric(p1: float, lift: float) -> None:
    p2 = p1 * (1 + lift)
    n = sample_size_per_variant(p1, p2)
    assert n == sample_size_per_variant(p2, p1)
    assert sample_size_per_variant(p1, p1 * (1 + lift * 1.5)) <= n
    assert sample_size_per_variant(p1, p2, power=0.9) >= n


@pytest.mark.parametrize(
    ("p1", "p2", "alpha", "power"),
    [(0.0, 0.1, 0.05, 0.8), (0.1, 0.1, 0.05, 0.8), (0.1, 1.0, 0.05, 0.8), (0.1, 0.2, 0, 0.8)],
)
def test_sample_size_refuses_impossible_inputs(
    p1: float, p2: float, alpha: float, power: float
) -> None:
    with pytest.raises(InvalidInput):
        sample_size_per_variant(p1, p2, alpha=alpha, power=power)


def test_baseline_is_the_workspace_rate_only_with_enough_data() -> None:
    assert baseline_from(1000, 80) == Baseline(
        reply_rate=0.08, source="workspace", sent=1000, replies=80
    )
    thin = baseline_from(MIN_SENT_FOR_BASELINE - 1, 50)
    assert thin.source == "default" and thin.reply_rate == DEFAULT_BASELINE_REPLY_RATE
    assert baseline_from(5000, 3).source == "default"


def test_email_step_gets_subject_and_body_variants_with_sizes() -> None:
    seq = _sequence({"channel": "email", "subject": "Quick question", "body": LONG_BODY})
    out = suggest_ab_test(seq, 1, baseline=Baseline(reply_rate=0.05, source="default"))
    names = [v.name for v in out.variants]
    assert names == ["question_subject", "named_subject", "short_body"]
    for v in out.variants:
        assert v.hypothesis
        expected = sample_size_per_variant(0.05, 0.05 * (1 + v.relative_lift))
        assert v.sample_size_per_variant == expected
        check_template(v.body, [], step=1, where="body")
        if v.subject:
            check_template(v.subject, [], step=1, where="subject")
    assert out.variants[0].subject == "Quick question?"
    assert out.total_sends_needed == max(v.sample_size_per_variant for v in out.variants) * 4
    assert len(out.variants[2].body.split()) < 30


def test_a_non_email_step_only_varies_the_body() -> None:
    seq = _sequence(
        {"channel": "email", "subject": "Hi?", "body": "Hello"},
        {"channel": "linkedin", "subject": None, "body": "Connect with them"},
    )
    out = suggest_ab_test(seq, 2)
    assert {v.changes for v in out.variants} == {"body"}
    assert out.baseline.source == "default"


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(InvalidInput, match="has 1 step"):
        suggest_ab_test(_sequence({"channel": "email", "subject": "s", "body": "b"}), 2)


def test_textbook_formula_by_hand() -> None:
    # The normal-approximation formula written out, for p1=0.2, p2=0.25.
    z_a, z_b = 1.959963984540054, 0.8416212335729143
    p1, p2 = 0.2, 0.25
    pbar = (p1 + p2) / 2
    n = (
        z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / (p2 - p1) ** 2
    assert sample_size_per_variant(p1, p2) == math.ceil(n)
