"""Agreement of the classifier with the labelled corpus of real returned mail.

The bounds sit a little under what the classifier measured when they were set, so a regression
fails loudly while harmless noise does not. Skips when the corpus is not on this machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from cadence.inbound import InboundKind, InboundMessage, classify_message

_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "inbound-mail"


def _corpus_dir() -> Path | None:
    for candidate in (_DEFAULT, Path(os.environ.get("CADENCE_INBOUND_CORPUS", ""))):
        if str(candidate) and (candidate / "labels.jsonl").is_file():
            return candidate
    return None


@dataclass
class Agreement:
    """Counts of agreement between labels and classifications."""

    messages: int = 0
    kind_ok: int = 0
    with_recipients: int = 0
    count_ok: int = 0
    pairs: int = 0
    status_ok: int = 0
    hard_ok: int = 0
    feedback_pairs: int = 0
    feedback_ok: int = 0


def _kind_agrees(label: str, kind: InboundKind) -> bool:
    if label == "not_bounce":
        return kind in (InboundKind.REPLY, InboundKind.OTHER)
    return label == kind.value


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    corpus = _corpus_dir()
    if corpus is None:
        pytest.skip("labelled inbound-mail corpus not found (set CADENCE_INBOUND_CORPUS)")
    tally = Agreement()
    with (corpus / "labels.jsonl").open(encoding="utf-8") as handle:
        labels = [json.loads(line) for line in handle if line.strip()]
    for label in labels:
        result: InboundMessage = classify_message((corpus / label["file"]).read_bytes())
        tally.messages += 1
        tally.kind_ok += _kind_agrees(label["kind"], result.kind)
        expected = label["recipients"]
        if expected:
            tally.with_recipients += 1
            tally.count_ok += len(expected) == len(result.recipients)
        for index, want in enumerate(expected):
            got = result.recipients[index] if index < len(result.recipients) else None
            tally.pairs += 1
            tally.status_ok += got is not None and got.status == want["status"]
            tally.hard_ok += got is not None and got.hard == want["hard_bounce"]
            if want["feedback_type"]:
                tally.feedback_pairs += 1
                tally.feedback_ok += got is not None and got.feedback_type == want["feedback_type"]
    return tally


def test_kind_agrees_with_labels_for_nearly_every_message(agreement: Agreement) -> None:
    assert agreement.kind_ok / agreement.messages >= 0.98


def test_bounces_name_as_many_recipients_as_the_labels(agreement: Agreement) -> None:
    assert agreement.count_ok / agreement.with_recipients >= 0.97


def test_status_codes_agree_with_labels(agreement: Agreement) -> None:
    assert agreement.status_ok / agreement.pairs >= 0.91


def test_hard_or_soft_agrees_with_labels(agreement: Agreement) -> None:
    assert agreement.hard_ok / agreement.pairs >= 0.93


def test_complaint_feedback_types_agree_with_labels(agreement: Agreement) -> None:
    assert agreement.feedback_ok / agreement.feedback_pairs >= 0.95
