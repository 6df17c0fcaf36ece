"""What a contact's templates are rendered with."""

from __future__ import annotations

from typing import Any

from cadence.store.models import Contact, Workspace

__all__ = ["merge_context"]


def merge_context(contact: Contact, ws: Workspace) -> dict[str, Any]:
    """The values merge fields draw on: custom attributes, then the standard fields over them."""
    full = " ".join(p for p in (contact.first_name, contact.last_name) if p) or None
    sender_first = ws.sender_name.split()[0] if ws.sender_name else None
    return {
        **(contact.attributes or {}),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": full,
        "email": contact.email,
        "company": contact.company,
        "title": contact.title,
        "industry": contact.industry,
        "linkedin_url": contact.linkedin_url,
        "sender_name": ws.sender_name,
        "sender_first_name": sender_first,
        "sender_email": ws.sender_email,
    }
