"""Run agent scenarios through ``cadence.graph.build_agent`` and score them.

Three modes:

* ``validate`` (no model): every scenario is checked for well-formedness only
  (:func:`evals.agent.scenarios.scenario_problems`);
* ``fake``: each scenario runs with a scripted chat model replaying its expected trajectory, so
  the seeding, the graph's questions, the tools and the end-state checks all run offline;
* ``live``: each scenario runs with a real chat model.

A run scores four checks per scenario: ``trajectory`` (the calls made include every expected
call with its key arguments: ``agentevals`` trajectory match in superset mode with superset
argument matching, or the same rule in-house when ``agentevals`` is not installed),
``forbidden`` (no forbidden tool was called), ``questions`` (the agent asked the expected
questions) and ``end_state`` (:func:`evals.agent.workspace.check_end_state`).
"""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel, ValidationError

from cadence.graph import build_agent
from cadence.graph.fake import ScriptedChatModel, tool_call
from cadence.tools import get_tools
from evals.agent.scenarios import ExpectedCall, Scenario, resolve_refs
from evals.agent.workspace import TemplateDatabase, Workspace, check_end_state, open_workspace

__all__ = ["CHECKS", "Mode", "ScenarioResult", "fake_model", "run_scenario", "trajectory_match"]

Mode = Literal["validate", "fake", "live"]
CHECKS = ("trajectory", "forbidden", "questions", "end_state")
MAX_QUESTIONS = 10  # interrupts answered per scenario before giving up
RECURSION_LIMIT = 60  # graph steps per invocation


@dataclass
class ScenarioResult:
    """One scenario's run: the calls made, the questions asked, and each check's verdict."""

    id: str
    checks: dict[str, bool | None] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No error, and no check failed."""
        return self.error is None and all(v is not False for v in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able view."""
        return {
            "id": self.id,
            "passed": self.passed,
            "checks": self.checks,
            "reasons": self.reasons,
            "calls": self.calls,
            "asked": self.asked,
            "error": self.error,
            "seconds": self.seconds,
        }


def _replay(call: ExpectedCall, ws: Workspace, _messages: list[BaseMessage]) -> AIMessage:
    return tool_call(call.tool, **resolve_refs(call.args, ws.sequence_id))


def fake_model(scenario: Scenario, ws: Workspace) -> ScriptedChatModel:
    """A scripted model that makes the scenario's expected calls, one a turn, then replies."""
    script: list[Any] = [partial(_replay, call, ws) for call in scenario.trajectory]
    return ScriptedChatModel(script=[*script, AIMessage(scenario.reply)])


def _canonical(ws: Workspace, tool: BaseTool | None, args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as the tool reads them (defaults filled), contacts as ids, no idempotency key."""
    out = dict(args)
    schema = tool.args_schema if tool is not None else None
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        with suppress(ValidationError):  # invalid arguments are compared as written
            out = schema.model_validate(args).model_dump(mode="json")
    out.pop("idempotency_key", None)
    if "contact" in out and out["contact"] is not None:
        out["contact"] = ws.contact_id(out["contact"])
    if isinstance(out.get("contacts"), list):
        out["contacts"] = sorted((ws.contact_id(c) for c in out["contacts"]), key=str)
    return out


def _messages(calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {"name": c["name"], "arguments": json.dumps(c["args"])},
                }
            ],
        }
        for i, c in enumerate(calls)
    ]


def _unmatched(actual: Sequence[dict[str, Any]], expected: Sequence[dict[str, Any]]) -> list[str]:
    used: set[int] = set()
    missing = []
    for ref in expected:
        for i, call in enumerate(actual):
            if (
                i not in used
                and call["name"] == ref["name"]
                and all(k in call["args"] and call["args"][k] == v for k, v in ref["args"].items())
            ):
                used.add(i)
                break
        else:
            missing.append(f"{ref['name']}({json.dumps(ref['args'], ensure_ascii=False)})")
    return missing


def trajectory_match(
    actual: Sequence[dict[str, Any]], expected: Sequence[dict[str, Any]]
) -> tuple[bool, str, str]:
    """Whether ``actual`` calls include every ``expected`` call (name and key arguments).

    Args:
        actual: ``{"name", "args"}`` per call made.
        expected: ``{"name", "args"}`` per call expected, ``args`` holding only key arguments.

    Returns:
        ``(matched, reason, backend)``; the backend is ``agentevals`` when it is installed.
    """
    missing = _unmatched(actual, expected)
    try:
        from agentevals.trajectory.match import (  # type: ignore[import-untyped]
            create_trajectory_match_evaluator,
        )
    except ImportError:
        ok, backend = not missing, "builtin"
    else:
        evaluator = create_trajectory_match_evaluator(
            trajectory_match_mode="superset", tool_args_match_mode="superset"
        )
        result = evaluator(outputs=_messages(actual), reference_outputs=_messages(expected))
        ok, backend = bool(result["score"]), "agentevals"
    reason = "every expected call was made" if not missing else "missing: " + "; ".join(missing)
    return ok, reason, backend


def _tool_calls(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    return [
        {"name": c["name"], "args": dict(c["args"])}
        for m in messages
        if isinstance(m, AIMessage)
        for c in m.tool_calls
    ]


def run_scenario(
    scenario: Scenario,
    template: TemplateDatabase,
    workdir: Path,
    *,
    model: BaseChatModel | None,
    model_name: str | None = None,
) -> ScenarioResult:
    """Run one scenario in a fresh workspace and score it.

    Args:
        scenario: The scenario.
        template: The migrated database to copy.
        workdir: Where the scenario's database file goes.
        model: The chat model; ``None`` replays the expected trajectory (``fake_model``).
        model_name: The model's name, for the personalization tool's settings.
    """
    t0 = time.perf_counter()
    result = ScenarioResult(scenario.id)
    ws = open_workspace(scenario.seed, template, workdir / f"{scenario.id}.db", model=model_name)
    try:
        chat = model if model is not None else fake_model(scenario, ws)
        graph = build_agent(chat, checkpointer=InMemorySaver())
        config: RunnableConfig = {
            "configurable": {"thread_id": scenario.id},
            "recursion_limit": RECURSION_LIMIT,
        }
        answers = list(scenario.answers)
        graph.invoke({"messages": [HumanMessage(scenario.request)]}, config, context=ws.context)
        for _ in range(MAX_QUESTIONS):
            interrupts = graph.get_state(config).interrupts
            if not interrupts:
                break
            value = interrupts[0].value
            result.asked.append(str(value.get("kind")) if isinstance(value, dict) else "?")
            answer = answers.pop(0) if answers else "cancel"
            graph.invoke(Command(resume=answer), config, context=ws.context)
        messages = list(graph.get_state(config).values.get("messages", []))
        _score(result, scenario, ws, messages)
    except Exception as exc:  # a scenario that crashes is a failed scenario, not a crashed eval
        result.error = f"{type(exc).__name__}: {exc}"
        result.reasons["error"] = traceback.format_exc(limit=3)
    finally:
        ws.close()
        result.seconds = time.perf_counter() - t0
    return result


def _score(
    result: ScenarioResult, scenario: Scenario, ws: Workspace, messages: list[BaseMessage]
) -> None:
    tools = {t.name: t for t in get_tools()}
    made = _tool_calls(messages)
    actual = [
        {"name": c["name"], "args": _canonical(ws, tools.get(c["name"]), c["args"])} for c in made
    ]
    result.calls = actual
    expected = []
    for call in scenario.trajectory:
        full = _canonical(ws, tools.get(call.tool), resolve_refs(call.args, ws.sequence_id))
        keys = call.key_args().keys()
        expected.append({"name": call.tool, "args": {k: full[k] for k in keys if k in full}})
    ok, reason, backend = trajectory_match(actual, expected)
    result.checks["trajectory"] = ok
    result.reasons["trajectory"] = f"{reason} ({backend})"
    bad = sorted({c["name"] for c in made} & set(scenario.forbidden_tools))
    result.checks["forbidden"] = not bad if scenario.forbidden_tools else None
    result.reasons["forbidden"] = f"called {', '.join(bad)}" if bad else "none called"
    if scenario.questions is not None:
        result.checks["questions"] = result.asked == scenario.questions
        result.reasons["questions"] = f"asked {result.asked}, expected {scenario.questions}"
    else:
        result.checks["questions"] = None
        result.reasons["questions"] = f"asked {result.asked} (not checked)"
    problems = check_end_state(scenario.end_state, ws)
    result.checks["end_state"] = not problems
    result.reasons["end_state"] = "; ".join(problems) or "as expected"


def run_all(
    scenarios: Sequence[Scenario],
    *,
    model: BaseChatModel | None,
    model_name: str | None = None,
    on_done: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Run every scenario, each in its own fresh workspace (a temporary directory)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="cadence-agent-eval-") as tmp:
        template = TemplateDatabase(Path(tmp))
        for scenario in scenarios:
            result = run_scenario(scenario, template, Path(tmp), model=model, model_name=model_name)
            results.append(result)
            if on_done is not None:
                on_done(result)
    return results
