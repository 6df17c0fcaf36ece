"""Measure cadence.inbound.classify_message against the labelled corpus of returned mail.

Run: PYTHONPATH=src python bench/bench_inbound.py [--rounds N] [--corpus DIR] [--show-misses]

Prints one line per figure (kind accuracy, recipients count agreement, status agreement,
hard/soft agreement, reason agreement, feedback-type agreement, messages/second) and a confusion
summary of kinds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cadence.inbound import InboundKind, InboundMessage, classify_message

_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "inbound-mail"


def _agrees(label_kind: str, kind: InboundKind) -> bool:
    if label_kind == "not_bounce":
        return kind in (InboundKind.REPLY, InboundKind.OTHER)
    return label_kind == kind.value


def _load(corpus: Path) -> list[tuple[dict[str, Any], bytes]]:
    items = []
    with (corpus / "labels.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                label = json.loads(line)
                items.append((label, (corpus / label["file"]).read_bytes()))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    corpus = args.corpus or Path(os.environ.get("CADENCE_INBOUND_CORPUS", _DEFAULT))
    items = _load(corpus)

    results: list[InboundMessage] = [classify_message(raw) for _, raw in items]
    kinds = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    count_ok = status_ok = hard_ok = reason_ok = fb_ok = pairs = fb_pairs = 0
    bounce_msgs = 0
    misses: list[str] = []
    for (label, _), result in zip(items, results, strict=True):
        confusion[(label["kind"], result.kind.value)] += 1
        kinds["ok" if _agrees(label["kind"], result.kind) else "bad"] += 1
        expected = label["recipients"]
        if expected:
            bounce_msgs += 1
            count_ok += len(expected) == len(result.recipients)
        for index, want in enumerate(expected):
            got = result.recipients[index] if index < len(result.recipients) else None
            pairs += 1
            same_status = got is not None and got.status == want["status"]
            same_hard = got is not None and got.hard == want["hard_bounce"]
            status_ok += same_status
            hard_ok += same_hard
            reason_ok += got is not None and got.reason == want["reason"]
            if want["feedback_type"]:
                fb_pairs += 1
                fb_ok += got is not None and got.feedback_type == want["feedback_type"]
            if args.show_misses and not (same_status and same_hard):
                misses.append(
                    f"{label['file']}: want {want['status']}/{want['reply_code']}/"
                    f"{want['reason']}/{want['hard_bounce']} got "
                    + (f"{got.status}/{got.reply_code}/{got.reason}/{got.hard}" if got else "-")
                )
        if args.show_misses and not _agrees(label["kind"], result.kind):
            misses.append(f"{label['file']}: kind {label['kind']} got {result.kind.value}")

    started = time.perf_counter()
    for _ in range(args.rounds):
        for _, raw in items:
            classify_message(raw)
    elapsed = time.perf_counter() - started
    total = len(items)

    def pct(ok: int, n: int) -> str:
        return f"{100.0 * ok / n:.1f}% ({ok}/{n})" if n else "n/a"

    print(f"kind accuracy: {pct(kinds['ok'], total)}")
    print(f"recipients count agreement: {pct(count_ok, bounce_msgs)}")
    print(f"status agreement: {pct(status_ok, pairs)}")
    print(f"hard/soft agreement: {pct(hard_ok, pairs)}")
    print(f"reason agreement: {pct(reason_ok, pairs)}")
    print(f"feedback type agreement: {pct(fb_ok, fb_pairs)}")
    print(f"messages/second: {args.rounds * total / elapsed:.0f}")
    print("kind confusion (label -> predicted: count):")
    for (want, got), n in sorted(confusion.items()):
        print(f"  {want} -> {got}: {n}")
    for line in misses:
        print(line)


if __name__ == "__main__":
    main()
