"""The tool list and what the model sees of it."""

from __future__ import annotations

from typing import Any

import cadence.tools as tools_pkg
from cadence.tools import READ_TOOLS, WRITE_TOOLS, get_tools

EXPECTED = {
    "list_sequences",
    "get_sequence",
    "create_sequence",
    "check_sequence_conflicts",
    "enroll_contact",
    "enroll_contacts",
    "pause_sequence",
    "resume_sequence",
    "get_enrollment_status",
    "suggest_personalization",
    "suggest_ab_test",
    "recommend_send_time",
}


def test_get_tools_returns_every_tool_once() -> None:
    names = [t.name for t in get_tools()]
    assert sorted(names) == sorted(EXPECTED)
    assert READ_TOOLS | WRITE_TOOLS == EXPECTED
    assert not READ_TOOLS & WRITE_TOOLS


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        names |= set(schema.get("properties", {}))
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _property_names(value)
    return names


def test_model_visible_schemas_hide_workspace_user_and_runtime() -> None:
    forbidden = {"workspace_id", "workspace", "user", "actor", "runtime", "tool_call_id", "app"}
    for tool in get_tools():
        names = _property_names(tool.tool_call_schema.model_json_schema())
        assert names, tool.name
        assert not names & forbidden, (tool.name, names & forbidden)


def test_write_tools_take_an_optional_idempotency_key_last() -> None:
    for tool in get_tools():
        props = list(tool.tool_call_schema.model_json_schema()["properties"])
        if tool.name in WRITE_TOOLS:
            assert props[-1] == "idempotency_key", tool.name
            assert "idempotency_key" not in tool.tool_call_schema.model_json_schema().get(
                "required", []
            )
        else:
            assert "idempotency_key" not in props, tool.name


def test_descriptions_say_what_the_tool_does_then_its_args() -> None:
    for tool in get_tools():
        first, _, rest = tool.description.partition("\n")
        assert first.strip() and first.endswith("."), tool.name
        assert "Args:" in rest, tool.name


def test_package_exports_exactly_its_public_names() -> None:
    assert set(tools_pkg.__all__) == {
        "READ_TOOLS",
        "WRITE_TOOLS",
        "CadenceContext",
        "ToolFailed",
        "call_tool",
        "default_app",
        "get_tools",
        "invoke_tool",
        "resolve_context",
        "tool_runtime",
    }
