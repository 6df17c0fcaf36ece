"""``build_agent``: wires the Cadence graph, and does nothing else.

::

    START → model ─(tool calls)→ review ─(Send per call)→ tools → model
                  └─(no calls)→ END       └─(all declined)→ model

The nodes live in their own modules: ``model_node`` (system prompt, tools bound),
``review`` (human in the loop) and LangGraph's ``ToolNode`` (runs the tools).
"""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import Checkpointer

from cadence.ai.models import load_chat_model, require_chat_model
from cadence.config import Settings, get_settings
from cadence.graph.checkpoint import default_checkpointer
from cadence.graph.model_node import make_model_node, route_after_model
from cadence.graph.review import review_tool_calls
from cadence.graph.state import CadenceState
from cadence.tools import get_tools
from cadence.tools.context import CadenceContext

__all__ = ["INHERIT", "CadenceGraph", "build_agent"]

INHERIT: Literal["inherit"] = "inherit"
"""``build_agent(checkpointer=INHERIT)``: no checkpointer of its own; as a subgraph, the host's."""

CadenceGraph = CompiledStateGraph[CadenceState, CadenceContext, CadenceState, CadenceState]


def build_agent(
    model: BaseChatModel | str | None = None,
    checkpointer: Checkpointer | Literal["inherit"] = None,
    *,
    settings: Settings | None = None,
    name: str = "cadence",
) -> CadenceGraph:
    """The compiled Cadence agent graph, named ``cadence``.

    Run it with a ``CadenceContext`` as the run-time context and a ``thread_id``::

        graph.invoke({"messages": [("user", "...")]},
                     {"configurable": {"thread_id": "t1"}},
                     context=CadenceContext(workspace_id=1, user="rita"))

    Args:
        model: A chat model, or its name (``"anthropic:claude-sonnet-4-5"``); ``None`` uses
            ``CADENCE_MODEL``.
        checkpointer: ``None`` for the default SQLite threads file (``default_checkpointer``);
            a saver; ``INHERIT`` to use the host graph's when embedded as a subgraph; ``True``
            for a subgraph keeping its own threads in the host's saver; ``False`` for none
            (then the confirmations cannot wait for an answer).
        settings: Settings for the model name and the default checkpointer.
        name: The compiled graph's name.

    Raises:
        ConfigurationError: no model is given or configured, or it cannot be built.
    """
    settings = settings or get_settings()
    chat = load_chat_model(model) if isinstance(model, str) else model
    if chat is None:
        chat = require_chat_model(settings)
    tools = get_tools()
    graph = StateGraph(CadenceState, context_schema=CadenceContext)
    graph.add_node("model", make_model_node(chat, tools, name=name))
    graph.add_node("review", review_tool_calls, destinations=("tools", "model"))
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", route_after_model, ["review", "__end__"])
    graph.add_edge("tools", "model")
    saver: Checkpointer
    if checkpointer is None:
        saver = default_checkpointer(settings)
    elif checkpointer == INHERIT:
        saver = None
    else:
        saver = checkpointer
    return graph.compile(checkpointer=saver, name=name)
