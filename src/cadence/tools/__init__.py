"""Cadence's LangChain tools: thin, typed wrappers over the service.

``get_tools()`` returns them all. Each reads the workspace and the acting user from the LangGraph
run-time context (a ``CadenceContext``), never from its arguments. Outside a graph, use
``invoke_tool`` / ``call_tool`` with a ``CadenceContext``.
"""

from __future__ import annotations

from langchain_core.tools import BaseTool

from cadence.tools.context import CadenceContext, default_app, resolve_context
from cadence.tools.direct import ToolFailed, call_tool, invoke_tool, tool_runtime
from cadence.tools.enrollments import (
    check_conflicts_tool,
    enroll_contact_tool,
    enroll_contacts_tool,
    enrollment_status_tool,
)
from cadence.tools.pausing import pause_sequence_tool, resume_sequence_tool
from cadence.tools.sendtime import send_time_tool
from cadence.tools.sequences import create_sequence_tool, get_sequence_tool, list_sequences_tool
from cadence.tools.suggestions import ab_test_tool, personalization_tool

__all__ = [
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
]

WRITE_TOOLS = frozenset(
    {"create_sequence", "enroll_contact", "enroll_contacts", "pause_sequence", "resume_sequence"}
)
"""Tools that change something: audited, idempotent, with a dry run where it makes sense."""

READ_TOOLS = frozenset(
    {
        "list_sequences",
        "get_sequence",
        "check_sequence_conflicts",
        "get_enrollment_status",
        "suggest_personalization",
        "suggest_ab_test",
        "recommend_send_time",
    }
)
"""Tools that only read or suggest."""


def get_tools() -> list[BaseTool]:
    """Every Cadence tool, ready for ``model.bind_tools`` and a LangGraph ``ToolNode``."""
    return [
        list_sequences_tool(),
        get_sequence_tool(),
        create_sequence_tool(),
        check_conflicts_tool(),
        enroll_contact_tool(),
        enroll_contacts_tool(),
        pause_sequence_tool(),
        resume_sequence_tool(),
        enrollment_status_tool(),
        personalization_tool(),
        ab_test_tool(),
        send_time_tool(),
    ]
