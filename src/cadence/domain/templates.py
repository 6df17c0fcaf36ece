"""Merge-field templates: ``Hi {{first_name|there}}`` checked when saved, rendered in a sandbox.

The language is a small, safe part of Jinja:

- ``{{field}}`` inserts a contact field or custom attribute;
- ``{{field|fallback text}}`` (or ``{{field|"fallback"}}``, or Jinja's ``default("…")``) gives a
  fallback used when the contact has no value;
- the filters ``upper``, ``lower``, ``title``, ``capitalize`` and ``trim``, and
  ``{% if field %}…{% else %}…{% endif %}``.

Anything else (attribute or item access, calls, loops, macros, other filters) is refused when the
template is saved, so rendering cannot run code or reach into objects. HTML bodies render with
autoescaping, so a contact's ``<script>`` stays text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cadence.errors import (
    TemplateError,  # re-exported here
    UnknownMergeField,
)

__all__ = [
    "STANDARD_FIELDS",
    "MergeField",
    "RenderResult",
    "TemplateError",
    "check_template",
    "merge_fields",
    "missing_fields",
    "render",
]

STANDARD_FIELDS: frozenset[str] = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "email",
        "company",
        "title",
        "industry",
        "linkedin_url",
        "sender_name",
        "sender_first_name",
        "sender_email",
    }
)

_FILTERS = frozenset({"default", "d", "upper", "lower", "title", "capitalize", "trim"})
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Filter,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# {{ field | something }} where "something" is not one of our filters: a fallback text.
_FALLBACK = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\|([^{}]*?)\}\}")


@dataclass(frozen=True)
class MergeField:
    """A field a template uses, and whether it has a fallback when the contact lacks it."""

    name: str
    has_fallback: bool


@dataclass(frozen=True)
class RenderResult:
    text: str
    missing: tuple[str, ...]  # fields the contact could not fill and that had no fallback


def _rewrite_fallbacks(source: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(2).strip()
        if rest in _FILTERS or re.match(r"^[A-Za-z_]+\s*\(", rest):
            return match.group(0)  # a filter such as upper or default("x"), checked by _parse
        if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'":
            rest = rest[1:-1]
        return "{{ " + name + " | default(" + json.dumps(rest) + ", true) }}"

    return _FALLBACK.sub(repl, source)


class _Recorder:
    """Collects, per render, the names that rendered as empty because the contact lacked them."""

    def __init__(self) -> None:
        self.missing: list[str] = []


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    from jinja2 import Undefined

    class RecordingUndefined(Undefined):
        # bool() and default() do not stringify, so only an unguarded {{field}} is recorded.
        def __str__(self) -> str:
            recorder = _current.get()
            if recorder is not None and self._undefined_name:
                recorder.missing.append(self._undefined_name)
            return ""

    return ImmutableSandboxedEnvironment(
        autoescape=autoescape, undefined=RecordingUndefined, keep_trailing_newline=True
    )


_current: ContextVar[_Recorder | None] = ContextVar("cadence_template_recorder", default=None)
_ENVS = {False: _environment(False), True: _environment(True)}


@lru_cache(maxsize=4096)
def _parse(source: str) -> nodes.Template:
    rewritten = _rewrite_fallbacks(source)
    try:
        tree = _ENVS[False].parse(rewritten)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template does not parse: {exc.message}", value=source) from exc
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateError(
                f"templates may not use {type(node).__name__.lower()} expressions", value=source
            )
        if isinstance(node, nodes.Filter) and node.name not in _FILTERS:
            raise TemplateError(f"unknown filter {node.name!r}", value=source)
    return tree


@lru_cache(maxsize=4096)
def _compiled(source: str, html: bool) -> Any:
    _parse(source)  # refuse before compiling
    return _ENVS[html].from_string(_rewrite_fallbacks(source))


def merge_fields(source: str) -> list[MergeField]:
    """The fields a template uses, in order of first use, with whether each has a fallback.

    Raises:
        TemplateError: the template does not parse or uses what the sandbox refuses.
    """
    return list(_merge_fields(source))


def missing_fields(source: str, present: Iterable[str]) -> list[str]:
    """The fields a contact with values for ``present`` cannot fill (no value, no fallback).

    Decided from the template alone, without rendering: cheap enough to run for every contact
    of a bulk enrollment.
    """
    have = set(present)
    return [f.name for f in _merge_fields(source) if not f.has_fallback and f.name not in have]


@lru_cache(maxsize=4096)
def _merge_fields(source: str) -> tuple[MergeField, ...]:
    tree = _parse(source)
    guarded: set[int] = set()
    for flt in tree.find_all(nodes.Filter):
        if flt.name in {"default", "d"} and isinstance(flt.node, nodes.Name):
            guarded.add(id(flt.node))
    for cond in tree.find_all(nodes.If):
        tested = {n.name for n in cond.test.find_all(nodes.Name)}
        if isinstance(cond.test, nodes.Name):
            tested.add(cond.test.name)
            guarded.add(id(cond.test))
        guarded.update(id(n) for n in cond.test.find_all(nodes.Name))
        # {% if title %}{{title}}{% endif %}: inside its own test, a field is never missing.
        for child in cond.body:
            guarded.update(id(n) for n in child.find_all(nodes.Name) if n.name in tested)
            if isinstance(child, nodes.Name) and child.name in tested:
                guarded.add(id(child))
    seen: dict[str, bool] = {}
    for name in tree.find_all(nodes.Name):
        fallback = id(name) in guarded
        seen[name.name] = seen.get(name.name, True) and fallback
    return tuple(MergeField(n, f) for n, f in seen.items())


def check_template(
    source: str, known_fields: Iterable[str], *, step: int | None, where: str
) -> list[MergeField]:
    """Validate a template against the fields a contact can have.

    Raises:
        TemplateError: the template does not parse or uses what the sandbox refuses.
        UnknownMergeField: it names a field that is neither standard nor a known custom attribute.
    """
    known = set(known_fields) | STANDARD_FIELDS
    try:
        fields = merge_fields(source)
    except TemplateError as exc:
        at = f"step {step} {where}" if step is not None else where
        raise TemplateError(f"{at}: {exc.message}", field=where, value=source) from exc
    for field in fields:
        if field.name not in known:
            raise UnknownMergeField(field.name, step=step, where=where)
    return fields


def render(source: str, context: Mapping[str, Any], *, html: bool = False) -> RenderResult:
    """Render a template for one contact; values that are None or "" count as missing.

    HTML rendering escapes every inserted value.
    """
    template = _compiled(source, html)
    values = {k: v for k, v in context.items() if v is not None and v != "" and _NAME.match(k)}
    recorder = _Recorder()
    token = _current.set(recorder)
    try:
        text = template.render(values)
    finally:
        _current.reset(token)
    return RenderResult(text=text, missing=tuple(dict.fromkeys(recorder.missing)))
