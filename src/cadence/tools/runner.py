"""How a Cadence tool is built: typed arguments in, typed JSON out, errors as readable messages.

Every tool is a ``StructuredTool`` whose function takes the validated arguments and a ``Call``
(the service scope from the run-time context, and the tool call id). Arguments the model adds
beyond the schema are dropped by validation, so the workspace can only come from the context.

Failures the model can correct come back as tool messages with ``status="error"``:

- arguments that fail the schema: ``INVALID_ARGUMENTS_TEMPLATE``;
- a ``CadenceError`` from the service: ``TOOL_ERROR_TEMPLATE`` with a hint per error code.

Either way the service wrote nothing. A missing context is a developer's error and is raised.

A write tool also records an audit row and is idempotent: its key is the ``idempotency_key``
argument, else the tool call id, so a retried tool call returns the first call's result.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from langchain_core.tools import StructuredTool, ToolException
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cadence.errors import CadenceError, ConfigurationError
from cadence.service.audit import run_idempotent
from cadence.service.context import Scope
from cadence.tools.context import CadenceContext, resolve_context
from cadence.tools.messages import (
    DEFAULT_HINT,
    ERROR_HINTS,
    INVALID_ARGUMENTS_TEMPLATE,
    TOOL_ERROR_TEMPLATE,
)

__all__ = [
    "Call",
    "IdempotencyKey",
    "ToolArgs",
    "WriteArgs",
    "WriteResult",
    "format_cadence_error",
    "format_validation_error",
    "read_tool",
    "write_tool",
]

A = TypeVar("A", bound="ToolArgs")
W = TypeVar("W", bound="WriteArgs")


class ToolArgs(BaseModel):
    """Base of every tool's arguments. Unknown arguments are ignored, never obeyed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


IdempotencyKey = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Optional. Reusing a key returns the first call's result instead of "
        "acting twice. Defaults to this tool call's id.",
    ),
]
"""The last argument of every write tool: ``idempotency_key: IdempotencyKey = None``."""


class WriteArgs(ToolArgs):
    """Base of a write tool's arguments; subclasses end with an ``idempotency_key``."""

    @property
    def key(self) -> str | None:
        value = getattr(self, "idempotency_key", None)
        return value if isinstance(value, str) and value else None


class WriteResult(BaseModel):
    """Base of every write tool's result."""

    dry_run: bool = False
    replayed: bool = Field(
        False, description="True when this call had been made before; nothing new was done."
    )


@dataclass(frozen=True)
class Call:
    """What a tool function gets besides its arguments."""

    context: CadenceContext
    scope: Scope
    tool_call_id: str | None


def format_cadence_error(tool: str, exc: CadenceError) -> str:
    """The tool message for a service error: what, that nothing changed, what to do next."""
    text = TOOL_ERROR_TEMPLATE.format(
        tool=tool,
        code=exc.code,
        message=exc.message,
        hint=ERROR_HINTS.get(exc.code, DEFAULT_HINT),
    )
    details = {k: v for k, v in exc.to_dict().items() if k not in ("error", "message")}
    if details:
        text += "\nDetails: " + json.dumps(details, default=str, sort_keys=True)
    return text


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def format_validation_error(tool: str, exc: ValidationError) -> str:
    """The tool message for arguments that fail the schema, one problem a line."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        message = str(err["msg"]).removeprefix("Value error, ")
        got = f" (got {_shown(err['input'])})" if err["type"] != "missing" else ""
        lines.append(f"- {where}: {message}{got}")
    return INVALID_ARGUMENTS_TEMPLATE.format(tool=tool, errors="\n".join(lines))


def _description(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn)
    if not doc:
        raise ValueError(f"tool function {fn.__name__} needs a docstring written for the model")
    return doc


def _call_of(runtime: ToolRuntime[Any, Any]) -> Call:
    if not isinstance(runtime, ToolRuntime):
        raise ConfigurationError(
            "Cadence tools need a ToolRuntime: run them in a LangGraph ToolNode or through "
            "cadence.tools.invoke_tool(...)"
        )
    context = resolve_context(runtime.context)
    return Call(context=context, scope=context.scope(), tool_call_id=runtime.tool_call_id)


def _build(
    name: str, args_schema: type[ToolArgs], fn: Callable[..., Any], run: Callable[..., str]
) -> StructuredTool:
    def tool_function(runtime: ToolRuntime, **kwargs: Any) -> str:
        call = _call_of(runtime)
        args = args_schema.model_validate(kwargs)
        try:
            return run(args, call)
        except CadenceError as exc:
            if isinstance(exc, ConfigurationError):
                raise
            raise ToolException(format_cadence_error(name, exc)) from exc

    tool_function.__name__ = name
    return StructuredTool.from_function(
        func=tool_function,
        name=name,
        description=_description(fn),
        args_schema=args_schema,
        infer_schema=False,
        handle_tool_error=True,
        handle_validation_error=lambda exc: format_validation_error(name, exc),
    )


def read_tool(
    name: str, args_schema: type[A], fn: Callable[[A, Call], BaseModel]
) -> StructuredTool:
    """A tool that only reads: its result model serialised as JSON."""

    def run(args: A, call: Call) -> str:
        return fn(args, call).model_dump_json()

    return _build(name, args_schema, fn, run)


def write_tool(
    name: str,
    args_schema: type[W],
    fn: Callable[[W, Call], WriteResult],
    *,
    action: str,
    target_type: str | Callable[[W], str],
    target_id: Callable[[dict[str, Any]], object],
) -> StructuredTool:
    """A tool that changes something: audited, idempotent, and a no-op when ``dry_run``."""

    def run(args: W, call: Call) -> str:
        if getattr(args, "dry_run", False):
            return fn(args, call).model_dump_json()
        done = run_idempotent(
            call.scope,
            key=args.key or call.tool_call_id,
            source=f"tool:{name}",
            action=action,
            arguments=args.model_dump(mode="json", exclude={"idempotency_key"}),
            target_type=target_type(args) if callable(target_type) else target_type,
            target_id=target_id,
            fn=lambda: fn(args, call).model_dump(mode="json"),
        )
        result = {**done.result, "replayed": True} if done.replayed else done.result
        return json.dumps(result)

    return _build(name, args_schema, fn, run)
