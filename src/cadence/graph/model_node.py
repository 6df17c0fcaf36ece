"""The model node: the system prompt, the tools bound to the chat model, one model turn.

With Anthropic's models the static part of the system prompt carries a ``cache_control``
breakpoint, so the tool definitions and the instructions are cached across turns and threads;
the per-run part (user, time zone, time) follows it, outside the cached prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END
from langgraph.runtime import Runtime

from cadence.ai.prompts import AGENT_CONTEXT_TEMPLATE, AGENT_SYSTEM_PROMPT
from cadence.graph.state import CadenceState
from cadence.tools.context import CadenceContext, resolve_context

__all__ = [
    "CACHE_CONTROL",
    "is_anthropic",
    "make_model_node",
    "route_after_model",
    "system_message",
]

CACHE_CONTROL = {"type": "ephemeral"}


def is_anthropic(model: BaseChatModel) -> bool:
    """Whether ``model`` is Claude through the direct Anthropic API (prompt caching applies)."""
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError:  # pragma: no cover - a dependency
        return False
    return isinstance(model, ChatAnthropic)


def system_message(context: CadenceContext, now: datetime, *, cache: bool) -> SystemMessage:
    """The system prompt: the static instructions, then who is acting, where and when."""
    local = now.astimezone(context.zone)
    run = AGENT_CONTEXT_TEMPLATE.format(
        user=context.user,
        timezone=context.timezone,
        now_local=local.strftime("%Y-%m-%d %H:%M"),
        weekday=local.strftime("%A"),
    )
    if not cache:
        return SystemMessage(f"{AGENT_SYSTEM_PROMPT}\n\n{run}")
    blocks: list[str | dict[Any, Any]] = [
        {"type": "text", "text": AGENT_SYSTEM_PROMPT, "cache_control": CACHE_CONTROL},
        {"type": "text", "text": run},
    ]
    return SystemMessage(blocks)


class ModelNode(Protocol):
    def __call__(
        self, state: CadenceState, *, runtime: Runtime[CadenceContext]
    ) -> dict[str, list[AIMessage]]: ...


def make_model_node(
    model: BaseChatModel, tools: Sequence[BaseTool], *, name: str = "cadence"
) -> ModelNode:
    """The node that asks the model for its next message, with the tools bound.

    The message is named ``name``, so a host's transcript shows which agent spoke.
    """
    bound = model.bind_tools(list(tools))
    cache = is_anthropic(model)

    def call_model(
        state: CadenceState, *, runtime: Runtime[CadenceContext]
    ) -> dict[str, list[AIMessage]]:
        context = resolve_context(runtime.context)
        system = system_message(context, context.cadence.clock.now(), cache=cache)
        response = bound.invoke([system, *state["messages"]])
        assert isinstance(response, AIMessage)
        if response.name is None:
            response.name = name
        return {"messages": [response]}

    return call_model


def route_after_model(state: CadenceState) -> str:
    """To the review of the tool calls when the model made some; else the turn is over."""
    last = state["messages"][-1] if state["messages"] else None
    if isinstance(last, AIMessage) and last.tool_calls:
        return "review"
    return END
