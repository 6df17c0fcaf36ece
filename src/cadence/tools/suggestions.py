"""Suggestion tools: personalize a step for a contact, and propose an A/B test for a step."""

from __future__ import annotations

import logging
from functools import lru_cache

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import StructuredTool
from pydantic import Field

from cadence.ai.abtest import ABTestSuggestion, baseline_from, suggest_ab_test
from cadence.ai.models import load_chat_model
from cadence.ai.personalize import Personalization, StepContent, suggest_personalization
from cadence.errors import InvalidInput
from cadence.service import sequences
from cadence.service.records import ContactRef, contact_id_of, contact_record, reply_counts
from cadence.tools.runner import Call, ToolArgs, read_tool

__all__ = ["ab_test_tool", "personalization_tool"]

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _model(name: str | None) -> BaseChatModel | None:
    return load_chat_model(name)


class PersonalizeArgs(ToolArgs):
    contact: ContactRef = Field(description="The contact's id (e.g. 42) or email address.")
    sequence_id: int | None = Field(None, description="The sequence whose step to personalize.")
    step: int = Field(1, ge=1, description="The step number in that sequence, 1-based.")


class PersonalizeResult(Personalization):
    contact_id: int


def personalize(args: PersonalizeArgs, call: Call) -> PersonalizeResult:
    """Suggest a subject line and an opening line for one contact, from their CRM record only.

    Uses the contact's name, title, company, industry, notes and recent activity; never invents
    facts. Nothing is saved or sent: show the suggestion to the user.

    Args:
        contact: The contact's id or email address.
        sequence_id: The sequence whose step is personalized (optional).
        step: That step's number, 1-based (default 1).
    """
    contact_id = contact_id_of(call.scope, args.contact)
    step: StepContent | None = None
    if args.sequence_id is not None:
        seq = sequences.get_sequence(call.scope, args.sequence_id)
        if args.step > len(seq.steps):
            raise InvalidInput(
                f"step: sequence {seq.id} has {len(seq.steps)} step(s) (got {args.step})",
                field="step",
                value=args.step,
            )
        s = seq.steps[args.step - 1]
        step = StepContent(channel=s.channel.value, subject=s.subject, body=s.body)
    suggestion = suggest_personalization(
        contact_record(call.scope, contact_id),
        step,
        model=_model(call.scope.app.settings.model),
        on_model_error=lambda exc: log.warning("personalization model failed: %r", exc),
    )
    return PersonalizeResult(contact_id=contact_id, **suggestion.model_dump())


class ABTestArgs(ToolArgs):
    sequence_id: int = Field(description="The sequence's id.")
    step: int = Field(1, ge=1, description="The step to test, 1-based (default 1).")


def ab_test(args: ABTestArgs, call: Call) -> ABTestSuggestion:
    """Propose an A/B test for one step of a sequence, with the sends each variant needs.

    Variant subjects or bodies, each with the hypothesis it tests. Sample sizes are per
    variant, to detect the proposed reply-rate lift at 80% power and 5% significance, from
    the workspace's own reply rate when it has enough data (else 5%). Nothing is changed.

    Args:
        sequence_id: The sequence's id.
        step: The step number, 1-based (default 1).
    """
    seq = sequences.get_sequence(call.scope, args.sequence_id)
    sent, replies = reply_counts(call.scope)
    return suggest_ab_test(seq, args.step, baseline=baseline_from(sent, replies))


def personalization_tool() -> StructuredTool:
    return read_tool("suggest_personalization", PersonalizeArgs, personalize)


def ab_test_tool() -> StructuredTool:
    return read_tool("suggest_ab_test", ABTestArgs, ab_test)
