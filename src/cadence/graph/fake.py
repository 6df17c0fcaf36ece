"""A scripted tool-calling chat model, for tests and offline examples (no network, no keys).

Each model call plays the next step of the script: an ``AIMessage``, or a function of the
conversation so far that returns one (to use an id a tool just returned)::

    model = ScriptedChatModel(script=[
        tool_call("list_sequences"),
        lambda messages: tool_call("get_sequence", sequence_id=last_result(messages)[...]),
        AIMessage("Here it is."),
    ])
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field

__all__ = ["ScriptExhausted", "ScriptedChatModel", "last_result", "tool_call"]

Step = AIMessage | Callable[[list[BaseMessage]], AIMessage]


class ScriptExhausted(RuntimeError):
    """The model was called more often than its script has steps."""


def tool_call(name: str, /, *, call_id: str | None = None, **args: Any) -> AIMessage:
    """An assistant message making one tool call."""
    return AIMessage(
        content="",
        tool_calls=[
            {
                "name": name,
                "args": args,
                "id": call_id or f"call_{uuid.uuid4().hex[:12]}",
                "type": "tool_call",
            }
        ],
    )


def last_result(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """The JSON of the latest tool message (``{}`` if it is not JSON, e.g. an error)."""
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            try:
                data = json.loads(str(message.content))
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


class ScriptedChatModel(FakeMessagesListChatModel):
    """Plays ``script`` one step per call; ``bind_tools`` records the tool names."""

    responses: list[BaseMessage] = Field(default_factory=list)
    script: list[Any] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)

    def bind_tools(
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        self.bound_tools = [getattr(t, "name", str(t)) for t in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.i >= len(self.script):
            raise ScriptExhausted(f"the script has {len(self.script)} steps; call {self.i + 1}")
        step = self.script[self.i]
        self.i += 1
        self.seen.append(list(messages))
        message = step(messages) if callable(step) else step
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def _llm_type(self) -> str:
        return "cadence-scripted"
