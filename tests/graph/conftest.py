"""Graph fixtures. No test here can reach a model over the network, by construction:

- the Anthropic key is a dummy and its base URL a closed loopback port (the Anthropic test runs
  its own loopback server and points the model at it);
- sockets may only connect to loopback addresses.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, Interrupt

from cadence.graph import CadenceGraph, build_agent
from cadence.graph.fake import ScriptedChatModel
from cadence.service.context import Cadence, Scope
from cadence.tools import CadenceContext
from tests import factories as f

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("CADENCE_MODEL", raising=False)
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
            raise OSError(f"tests may not reach the network ({host!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture
def scope(app: Cadence) -> Scope:
    return f.workspace(app)


@pytest.fixture
def ctx(app: Cadence, scope: Scope) -> CadenceContext:
    return CadenceContext(
        workspace_id=scope.workspace_id, user="rita", timezone="Europe/Paris", app=app
    )


class Conversation:
    """One thread with the agent: say things, read its interrupts, answer them."""

    def __init__(self, graph: CadenceGraph, ctx: CadenceContext, thread: str = "t1") -> None:
        self.graph = graph
        self.ctx = ctx
        self.config: RunnableConfig = {"configurable": {"thread_id": thread}}

    def say(self, text: str) -> dict[str, Any]:
        return self.graph.invoke({"messages": [HumanMessage(text)]}, self.config, context=self.ctx)

    def answer(self, value: Any) -> dict[str, Any]:
        return self.graph.invoke(Command(resume=value), self.config, context=self.ctx)

    @property
    def interrupts(self) -> tuple[Interrupt, ...]:
        return self.graph.get_state(self.config).interrupts

    @property
    def question(self) -> dict[str, Any]:
        [interrupt] = self.interrupts
        value = interrupt.value
        assert isinstance(value, dict)
        return value

    @property
    def messages(self) -> list[Any]:
        return list(self.graph.get_state(self.config).values.get("messages", []))


@pytest.fixture
def converse(ctx: CadenceContext) -> Any:
    def start(script: list[Any]) -> tuple[Conversation, ScriptedChatModel]:
        model = ScriptedChatModel(script=script)
        graph = build_agent(model, checkpointer=InMemorySaver())
        return Conversation(graph, ctx), model

    return start
