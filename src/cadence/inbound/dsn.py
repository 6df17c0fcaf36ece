"""RFC 3464 delivery status notifications: per-recipient fields out of ``message/delivery-status``.

The same fields also turn up as plain text (a report whose MIME structure broke, or a forwarded
bounce), so the field parser works on text and the MIME helper only finds that text.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from email.message import Message

from cadence.inbound.parse import addresses_in, part_text, payload_messages

__all__ = ["DsnRecord", "delivery_status_text", "parse_dsn_fields"]

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})[ \t]*:[ \t]*(.*)$")
_RECIPIENT_FIELDS = frozenset({"final-recipient", "original-recipient", "x-actual-recipient"})
_KNOWN = frozenset(
    {
        "final-recipient",
        "original-recipient",
        "x-actual-recipient",
        "action",
        "status",
        "diagnostic-code",
        "remote-mta",
        "last-attempt-date",
        "will-retry-until",
        "x-supplementary-info",
        "x-display-name",
        "reporting-mta",
        "arrival-date",
        "received-from-mta",
        "x-original-message-id",
        "original-envelope-id",
        "dsn-gateway",
        "x-postfix-queue-id",
        "x-postfix-sender",
        "x-sendmail-queue-id",
    }
)


@dataclass
class DsnRecord:
    """The fields of one per-recipient block of a delivery-status report."""

    final_recipient: str = ""
    original_recipient: str = ""
    action: str = ""
    status: str = ""
    diagnostic_type: str = ""
    diagnostic: str = ""
    remote_mta: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def email(self) -> str:
        """Best address for the recipient: Final-Recipient, else Original-Recipient."""
        for value in (self.final_recipient, self.original_recipient):
            found = addresses_in(value)
            if found:
                return found[0]
        return ""


def delivery_status_text(part: Message) -> str:
    """The text of a ``message/delivery-status`` part, however the parser stored it."""
    blocks = payload_messages(part)
    if blocks:
        lines: list[str] = []
        for block in blocks:
            for name, value in block.items():
                lines.append(f"{name}: {value}")
            lines.append("")
            body = block.get_payload()
            if isinstance(body, str) and body.strip():
                lines.append(body)
        return "\n".join(lines)
    return part_text(part)


def _logical_lines(text: str) -> list[tuple[str, str]]:
    """(name, value) pairs with folded continuation lines joined; ("", "") marks blank lines."""
    pairs: list[tuple[str, str]] = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            pairs.append(("", ""))
            continue
        if line[0] in " \t" and pairs and pairs[-1][0]:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        match = _FIELD.match(line)
        if match:
            pairs.append((match.group(1).lower(), match.group(2).strip()))
        else:
            pairs.append(("", ""))
    return pairs


def parse_dsn_fields(text: str) -> tuple[dict[str, str], list[DsnRecord]]:
    """Split delivery-status text into per-message fields and per-recipient records.

    Blank lines separate blocks. A block without a recipient field holds per-message fields;
    a block with several Final-Recipient fields (some MTAs omit the blank lines) is split before
    each of them, keeping an Original-Recipient that directly precedes one. Fields that come
    before the first recipient field of a block (SES puts Action first) belong to it.

    Returns:
        (per-message fields, recipient records in report order)
    """
    per_message: dict[str, str] = {}
    records: list[DsnRecord] = []
    for block in _blocks(_logical_lines(text)):
        names = [name for name, _ in block]
        if not any(name in _RECIPIENT_FIELDS for name in names):
            for name, value in block:
                if name in _KNOWN:
                    per_message.setdefault(name, value)
            continue
        anchor = "final-recipient" if "final-recipient" in names else "original-recipient"
        starts = [i for i, name in enumerate(names) if name == anchor]
        cuts = [0]
        for start in starts[1:]:
            previous = names[start - 1] if start else ""
            cuts.append(start - 1 if previous == "original-recipient" else start)
        cuts.append(len(block))
        for begin, end in itertools.pairwise(cuts):
            record = DsnRecord()
            for name, value in block[begin:end]:
                _assign(record, name, value)
            if record.final_recipient or record.original_recipient:
                records.append(record)
    return per_message, records


def _blocks(pairs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    blocks: list[list[tuple[str, str]]] = [[]]
    for name, value in pairs:
        if not name:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append((name, value))
    return [b for b in blocks if b]


def _assign(record: DsnRecord, name: str, value: str) -> None:
    if name == "final-recipient":
        record.final_recipient = value
    elif name == "original-recipient":
        record.original_recipient = value
    elif name == "x-actual-recipient":
        record.extra[name] = value
    elif name == "action":
        record.action = value.split()[0].lower().strip(";:,.") if value.split() else ""
    elif name == "status":
        match = re.search(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b", value)
        record.status = ".".join(match.groups()) if match else ""
    elif name == "diagnostic-code":
        kind, sep, rest = value.partition(";")
        if sep and len(kind) < 30 and " " not in kind.strip():
            record.diagnostic_type = kind.strip().lower()
            record.diagnostic = rest.strip()
        else:
            record.diagnostic = value
    elif name == "remote-mta":
        record.remote_mta = value.partition(";")[2].strip() or value
    else:
        record.extra[name] = value
