"""Contacts: bulk upsert by external id or email, and lookups, all within one workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session, col, select

from cadence.domain.specs import ContactSpec, parse
from cadence.errors import InvalidInput, NotFound
from cadence.service.context import Scope
from cadence.service.lookup import load_scoped
from cadence.service.views import ContactPublic
from cadence.store.models import Contact, Workspace

__all__ = ["get_contact", "load_contact", "upsert_contact", "upsert_contacts"]

_CHUNK = 900  # stays under SQLite's bound-parameter limit
_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "timezone",
    "linkedin_url",
    "notes",
)


def load_contact(session: Session, scope: Scope, contact_id: int, *, lock: bool = False) -> Contact:
    """The contact, if it is in the caller's workspace.

    Raises:
        NotFound: no such contact in this workspace.
    """
    return load_scoped(session, scope, Contact, contact_id, kind="contact", lock=lock)


def _existing(
    session: Session, scope: Scope, column: Any, keys: Sequence[str]
) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        query = select(Contact).where(
            Contact.workspace_id == scope.workspace_id, col(column).in_(chunk)
        )
        for contact in session.exec(query):
            found[getattr(contact, column.key)] = contact
    return found


def upsert_contacts(
    scope: Scope, items: Iterable[ContactSpec | dict[str, Any]]
) -> list[ContactPublic]:
    """Create or update many contacts in one transaction, matched by external id, then email.

    Fields left out (None) keep their stored value; attributes are merged. Two queries find the
    existing rows, whatever the number of contacts.

    Raises:
        InvalidInput / InvalidEmail: an item is invalid (its index is named); nothing is written.
    """
    specs: list[ContactSpec] = []
    for index, item in enumerate(items):
        try:
            specs.append(parse(ContactSpec, item))
        except InvalidInput as exc:
            raise type(exc)(
                f"contacts[{index}] {exc.message}", field=exc.field, value=exc.value
            ) from None
    now = scope.now()
    with scope.db.transaction() as session:
        ws = session.get(Workspace, scope.workspace_id)
        if ws is None:
            raise NotFound("workspace", scope.workspace_id)
        by_ext = _existing(
            session,
            scope,
            Contact.external_id,
            sorted({s.external_id for s in specs if s.external_id}),
        )
        by_email = _existing(
            session, scope, Contact.email, sorted({s.email for s in specs if s.email})
        )
        out: list[Contact] = []
        seen: dict[int, Contact] = {}
        new_fields: set[str] = set()
        for spec in specs:
            contact = (by_ext.get(spec.external_id) if spec.external_id else None) or (
                by_email.get(spec.email) if spec.email else None
            )
            if contact is None:
                contact = Contact(workspace_id=scope.workspace_id, created_at=now, updated_at=now)
                session.add(contact)
            if spec.email and contact.email != spec.email:
                owner = by_email.get(spec.email)
                if owner is not None and owner is not contact:
                    raise InvalidInput(
                        f"email {spec.email!r} already belongs to contact {owner.id}",
                        field="email",
                        value=spec.email,
                    )
                contact.email = spec.email
            if spec.external_id:
                contact.external_id = spec.external_id
            for name in _FIELDS:
                value = getattr(spec, name)
                if value is not None:
                    setattr(contact, name, value)
            if spec.attributes:
                contact.attributes = {**(contact.attributes or {}), **spec.attributes}
                new_fields.update(spec.attributes)
            contact.updated_at = now
            if contact.email:
                by_email[contact.email] = contact
            if contact.external_id:
                by_ext[contact.external_id] = contact
            out.append(contact)
        session.flush()
        for contact in out:
            assert contact.id is not None
            seen[contact.id] = contact
        if new_fields - set(ws.custom_fields):
            ws.custom_fields = sorted(set(ws.custom_fields) | new_fields)
            session.add(ws)
        return [ContactPublic.model_validate(c) for c in out]


def upsert_contact(scope: Scope, item: ContactSpec | dict[str, Any]) -> ContactPublic:
    """Create or update one contact; see ``upsert_contacts``."""
    return upsert_contacts(scope, [item])[0]


def get_contact(scope: Scope, contact_id: int) -> ContactPublic:
    with scope.db.session() as session:
        return ContactPublic.model_validate(load_contact(session, scope, contact_id))
