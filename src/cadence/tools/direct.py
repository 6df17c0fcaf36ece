"""Calling the tools from Python, without a model or a graph."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.prebuilt import ToolRuntime

from cadence.tools.context import CadenceContext

__all__ = ["ToolFailed", "call_tool", "invoke_tool", "tool_runtime"]


class ToolFailed(Exception):
    """A tool answered with an error message (``call_tool`` only); ``message`` is that text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def tool_runtime(
    context: CadenceContext, *, tool_call_id: str | None = None
) -> ToolRuntime[CadenceContext, dict[str, Any]]:
    """The ``ToolRuntime`` a LangGraph ``ToolNode`` would inject, for a direct call."""
    return ToolRuntime(
        state={"messages": []},
        context=context,
        config={},
        stream_writer=lambda _chunk: None,
        tool_call_id=tool_call_id,
        store=None,
    )


def _find(tool: str | BaseTool) -> BaseTool:
    if isinstance(tool, BaseTool):
        return tool
    from cadence.tools import get_tools

    by_name = {t.name: t for t in get_tools()}
    if tool not in by_name:
        raise KeyError(f"no Cadence tool named {tool!r}; there are {sorted(by_name)}")
    return by_name[tool]


def invoke_tool(
    tool: str | BaseTool,
    args: Mapping[str, Any],
    context: CadenceContext,
    *,
    tool_call_id: str | None = None,
) -> ToolMessage:
    """Run one tool as a model's tool call would run, and return its tool message.

    Args:
        tool: The tool or its name.
        args: Its arguments, as a model would write them.
        context: The workspace and user to act as.
        tool_call_id: The call's id; write tools use it as their default idempotency key.

    Returns:
        The ``ToolMessage``: JSON content, or an error text with ``status="error"``.
    """
    found = _find(tool)
    call_id = tool_call_id or "direct"
    result = found.invoke(
        {
            "type": "tool_call",
            "name": found.name,
            "id": call_id,
            "args": {**args, "runtime": tool_runtime(context, tool_call_id=tool_call_id)},
        }
    )
    assert isinstance(result, ToolMessage)
    return result


def call_tool(
    tool: str | BaseTool,
    context: CadenceContext,
    /,
    *,
    tool_call_id: str | None = None,
    **args: Any,
) -> dict[str, Any]:
    """Run one tool and return its JSON result as a dict.

    Raises:
        ToolFailed: the tool answered with an error (invalid arguments, a refused change...).
    """
    message = invoke_tool(tool, args, context, tool_call_id=tool_call_id)
    text = message.content if isinstance(message.content, str) else str(message.content)
    if message.status == "error":
        raise ToolFailed(text)
    data = json.loads(text)
    assert isinstance(data, dict)
    return data
