"""A terminal chat with the Cadence agent (``cadence chat``).

Each line the rep types is one turn. When the graph stops to ask (a conflict, a bulk
enrollment, pausing a whole sequence), the question and its choices are shown and the answer
resumes the graph. Input and output are injectable, so the loop runs in tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Checkpointer, Command

from cadence.errors import CadenceError
from cadence.graph.agent import build_agent
from cadence.graph.state import CadenceState
from cadence.service.context import Cadence
from cadence.tools.context import CadenceContext

__all__ = ["EXIT_WORDS", "format_question", "run_chat"]

EXIT_WORDS = frozenset({"exit", "quit", ":q"})
PROMPT = "you> "
CHOICE_PROMPT = "choice> "


def format_question(value: dict[str, Any]) -> str:
    """An interrupt's question as text: what is asked, the conflicts, the choices."""
    lines = [f"? {value.get('question', 'Confirm?')}"]
    details = value.get("details") or {}
    report = details.get("report") or {}
    for item in report.get("contacts", []) + details.get("conflicts", []):
        for conflict in item.get("conflicts", []):
            lines.append(f"  - contact {item.get('contact_id')}: {conflict.get('message')}")
    if value.get("error"):
        lines.append(f"  ({value['error']})")
    lines.append(f"  choices: {', '.join(value.get('choices', []))}")
    return "\n".join(lines)


def _say(message: AIMessage) -> str | None:
    text = message.text.strip()
    return f"cadence> {text}" if text else None


def run_chat(
    *,
    workspace_id: int,
    user: str,
    timezone: str = "UTC",
    thread_id: str | None = None,
    model: BaseChatModel | str | None = None,
    app: Cadence | None = None,
    checkpointer: Checkpointer = None,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    """Chat with the agent until the rep types ``exit`` (or input ends).

    Args:
        workspace_id: The workspace to act in.
        user: The rep; recorded as the actor of every change.
        timezone: The rep's time zone.
        thread_id: Continue this thread; a new one when ``None``.
        model: The chat model or its name; ``None`` uses ``CADENCE_MODEL``.
        app: The Cadence runtime; ``None`` builds it from settings.
        checkpointer: Where threads are kept; ``None`` for the default SQLite file.
        read: Reads a line after a prompt (``input``).
        write: Writes a line (``print``).

    Returns:
        0 when the chat ended normally, 2 when the agent could not be set up.
    """
    try:
        context = CadenceContext(workspace_id=workspace_id, user=user, timezone=timezone, app=app)
        settings = (app or context.cadence).settings
        graph = build_agent(model, checkpointer, settings=settings)
    except CadenceError as exc:
        write(f"error: {exc.message}")
        return 2
    thread = thread_id or uuid.uuid4().hex
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    write(f"Cadence chat (thread {thread}); type 'exit' to leave.")
    while True:
        try:
            text = read(PROMPT).strip()
        except EOFError:
            break
        if text.lower() in EXIT_WORDS:
            break
        if not text:
            continue
        seen = len(graph.get_state(config).values.get("messages", []))
        payload: CadenceState | Command[Any] = {"messages": [HumanMessage(text)]}
        while True:
            graph.invoke(payload, config, context=context)
            state = graph.get_state(config)
            messages = state.values.get("messages", [])
            for message in messages[seen:]:
                if isinstance(message, AIMessage) and (line := _say(message)):
                    write(line)
            seen = len(messages)
            if not state.interrupts:
                break
            value = state.interrupts[0].value
            write(format_question(value))
            choices = value.get("choices", [])
            try:
                answer = read(CHOICE_PROMPT).strip().lower()
            except EOFError:
                answer = "cancel" if "cancel" in choices else "skip"
            payload = Command(resume=answer)
    return 0
