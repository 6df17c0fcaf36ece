from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from cadence.errors import InvalidEmail, InvalidInput, InvalidStep, NotFound, UnknownMergeField
from cadence.service import contacts, sequences
from cadence.service.context import Cadence
from cadence.store.models import CrmSequence, CrmSequenceStep
from tests import factories as f


def _count(app: Cadence, model: Any) -> int:
    with app.db.session() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_create_sequence_saves_steps_in_order_with_channels(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, activate=False)
    assert seq.status == "draft" and not seq.active
    assert [s.channel for s in seq.steps] == ["email", "linkedin", "email"]
    assert [s.position for s in seq.steps] == [0, 1, 2]
    assert seq.channels == ["email", "linkedin"]


@pytest.mark.parametrize(
    ("step", "error", "names"),
    [
        ({"channel": "fax", "body": "x"}, InvalidStep, ["step 1 channel", "'fax'"]),
        (
            {"channel": "email", "subject": "s", "body": "x", "delay_hours": -1},
            InvalidStep,
            ["delay_hours", "-1"],
        ),
        (
            {"channel": "email", "subject": "s", "body": "x", "delay_hours": 2161},
            InvalidStep,
            ["delay_hours", "2161"],
        ),
        ({"channel": "email", "subject": "s", "body": "   "}, InvalidStep, ["step 1", "body"]),
        ({"channel": "email", "body": "no subject"}, InvalidInput, ["subject"]),
        (
            {"channel": "email", "subject": "s", "body": "Hi {{frist_name}}"},
            UnknownMergeField,
            ["frist_name", "step 1 body"],
        ),
        (
            {"channel": "email", "subject": "{{ x.__class__ }}", "body": "b"},
            InvalidInput,
            ["step 1 subject", "getattr"],
        ),
    ],
)
def test_bad_steps_raise_typed_errors_naming_field_and_value_and_write_nothing(
    app: Cadence, step: dict[str, Any], error: type[Exception], names: list[str]
) -> None:
    scope = f.workspace(app)
    with pytest.raises(error) as info:
        sequences.create_sequence(scope, {"name": "Bad", "steps": [step]})
    for name in names:
        assert name in str(info.value)
    assert _count(app, CrmSequence) == 0 and _count(app, CrmSequenceStep) == 0


def test_merge_field_that_is_a_known_custom_attribute_is_accepted(app: Cadence) -> None:
    scope = f.workspace(app)
    f.contact(scope, attributes={"deal_size": "50 seats"})
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "s", "body": "{{deal_size}}"}])
    assert seq.steps[0].body == "{{deal_size}}"


def test_editing_keeps_step_ids_and_soft_deletes_left_out_steps(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope)
    first, second, third = seq.steps
    edited = sequences.update_sequence(
        scope,
        seq.id,
        {
            "name": "Renamed",
            "steps": [
                {"id": first.id, "channel": "email", "subject": "New subject", "body": "New body"},
                {"channel": "task", "delay_hours": 24, "body": "Call them"},
                {"id": third.id, "channel": "email", "delay_hours": 72, "body": "Bump"},
            ],
        },
    )
    assert [s.id for s in edited.steps][0::2] == [first.id, third.id]
    assert edited.steps[0].subject == "New subject" and edited.name == "Renamed"
    assert second.id not in [s.id for s in edited.steps]
    with app.db.session() as s:
        gone = s.get(CrmSequenceStep, second.id)
        assert gone is not None and gone.deleted_at is not None


def test_editing_with_a_step_id_from_another_sequence_is_not_found(app: Cadence) -> None:
    scope = f.workspace(app)
    a, b = f.sequence(scope, "A"), f.sequence(scope, "B")
    with pytest.raises(NotFound):
        sequences.update_sequence(
            scope,
            a.id,
            {
                "name": "A",
                "steps": [{"id": b.steps[0].id, "channel": "email", "subject": "s", "body": "b"}],
            },
        )
    assert sequences.get_sequence(scope, a.id).steps == a.steps


def test_status_moves_follow_the_table(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, activate=False)
    assert sequences.activate_sequence(scope, seq.id).status == "active"
    assert sequences.pause_sequence(scope, seq.id).status == "paused"
    assert sequences.archive_sequence(scope, seq.id).status == "archived"
    with pytest.raises(InvalidInput, match="archived sequence cannot become active"):
        sequences.activate_sequence(scope, seq.id)
    with pytest.raises(InvalidInput):
        sequences.update_sequence(scope, seq.id, {"name": "x", "steps": f.steps()})


def test_another_workspace_cannot_see_or_touch_a_sequence(app: Cadence) -> None:
    mine, theirs = f.workspace(app, "Mine"), f.workspace(app, "Theirs")
    seq = f.sequence(mine)
    for call in (sequences.get_sequence, sequences.pause_sequence, sequences.archive_sequence):
        with pytest.raises(NotFound):
            call(theirs, seq.id)
    assert sequences.list_sequences(theirs) == []
    assert sequences.get_sequence(mine, seq.id).status == "active"


def test_bulk_upsert_matches_by_external_id_then_email(app: Cadence) -> None:
    scope = f.workspace(app)
    first = contacts.upsert_contacts(
        scope,
        [
            {"email": "A@Example.com", "first_name": "A"},
            {"external_id": "crm-2", "email": "b@example.com"},
        ],
    )
    assert first[0].email == "a@example.com"
    again = contacts.upsert_contacts(
        scope,
        [
            {"email": "a@example.com", "title": "CEO"},
            {"external_id": "crm-2", "email": "b2@example.com"},
        ],
    )
    assert [c.id for c in again] == [c.id for c in first]
    assert again[0].first_name == "A" and again[0].title == "CEO"
    assert again[1].email == "b2@example.com"


def test_bulk_upsert_with_one_bad_email_writes_nothing(app: Cadence) -> None:
    scope = f.workspace(app)
    with pytest.raises(InvalidEmail) as info:
        contacts.upsert_contacts(scope, [{"email": "ok@example.com"}, {"email": "not-an-email"}])
    assert "contacts[1]" in str(info.value) and "not-an-email" in str(info.value)
    with app.db.session() as s:
        from cadence.store.models import Contact

        assert s.exec(select(func.count()).select_from(Contact)).one() == 0
