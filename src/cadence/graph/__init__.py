"""cadence.graph: the Cadence agent as a LangGraph graph named ``cadence``.

``build_agent()`` compiles it; ``CadenceContext`` is its run-time context (workspace, user, time
zone); ``Question`` / ``Decision`` are what its interrupts ask and accept; ``run_chat`` is the
terminal chat.
"""

from __future__ import annotations

from cadence.graph.agent import INHERIT, CadenceGraph, build_agent
from cadence.graph.chat import run_chat
from cadence.graph.review import Decision, Question
from cadence.graph.state import CadenceState
from cadence.tools.context import CadenceContext

__all__ = [
    "INHERIT",
    "CadenceContext",
    "CadenceGraph",
    "CadenceState",
    "Decision",
    "Question",
    "build_agent",
    "run_chat",
]
