"""The graph's state: the conversation, merged by message id."""

from __future__ import annotations

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

__all__ = ["CadenceState"]


class CadenceState(TypedDict):
    """The state of a Cadence thread. A host graph sharing ``messages`` can embed Cadence."""

    messages: Annotated[list[AnyMessage], add_messages]
