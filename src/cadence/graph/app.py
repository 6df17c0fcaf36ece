"""The graph ``langgraph dev`` serves (see ``langgraph.json``), built on first use.

``graph`` is a factory, so importing this module never needs a model: the graph is built from
``CADENCE_MODEL`` when the server first asks for it (a clear ``ConfigurationError`` if none is
set). The server keeps threads in its own checkpointer, and each run must carry the context
(``{"workspace_id": ..., "user": ...}``), which a deployment sets from its authenticated user.
"""

from __future__ import annotations

from functools import lru_cache

from langchain_core.runnables import RunnableConfig

from cadence.graph.agent import INHERIT, CadenceGraph, build_agent

__all__ = ["graph"]


@lru_cache(maxsize=1)
def _graph() -> CadenceGraph:
    return build_agent(checkpointer=INHERIT)


def graph(config: RunnableConfig) -> CadenceGraph:
    """The Cadence graph for LangGraph's server (built once, from settings)."""
    return _graph()
