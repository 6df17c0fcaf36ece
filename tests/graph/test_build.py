"""Building the agent: the model from settings, the checkpointer, the name, the server entry."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.sqlite import SqliteSaver

from cadence.config import Settings
from cadence.errors import ConfigurationError
from cadence.graph import INHERIT, build_agent
from cadence.graph.checkpoint import default_checkpointer, threads_path
from cadence.graph.fake import ScriptedChatModel, tool_call
from cadence.service import enrollments
from cadence.service.context import Cadence, Scope
from cadence.tools import CadenceContext
from tests import factories as f
from tests.graph.conftest import Conversation

ROOT = Path(__file__).resolve().parents[2]


def _model(*script: Any) -> ScriptedChatModel:
    return ScriptedChatModel(script=list(script))


def test_without_a_configured_model_building_the_agent_says_what_to_set(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db", model=None)
    with pytest.raises(ConfigurationError, match="CADENCE_MODEL"):
        build_agent(settings=settings)


def test_the_configured_model_name_is_used(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db", model="claude-sonnet-5")
    graph = build_agent(settings=settings)
    assert graph.name == "cadence"
    assert isinstance(graph.checkpointer, SqliteSaver)


def test_the_graph_is_named_cadence_and_wires_model_review_and_tools() -> None:
    graph = build_agent(_model(), checkpointer=INHERIT)
    assert graph.name == "cadence" and graph.checkpointer is None
    mermaid = graph.get_graph().draw_mermaid()
    for edge in (
        "__start__ --> model",
        "model -.-> review",
        "review -.-> tools",
        "tools --> model",
        "model -.-> __end__",
    ):
        assert edge in mermaid


def test_threads_live_in_a_sqlite_file_beside_the_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm.db")
    assert threads_path(settings) == tmp_path / "crm.threads.db"
    assert isinstance(default_checkpointer(settings), SqliteSaver)
    assert threads_path(Settings(database_url="sqlite://")) is None
    assert threads_path(Settings(database_url="postgresql://h/db")) is None  # PostgreSQL keeps them
    named = Settings(database_url="postgresql://h/db", checkpoint_url=f"sqlite:///{tmp_path}/t.db")
    assert threads_path(named) == tmp_path / "t.db"


def test_an_interrupted_thread_survives_a_restart(
    app: Cadence, scope: Scope, ctx: CadenceContext, tmp_path: Path
) -> None:
    contact = f.contact(scope, 1)
    old, new = f.sequence(scope, "Old"), f.sequence(scope, "New")
    f.enroll(scope, contact.id, old.id)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/crm.db")
    call = tool_call("enroll_contact", contact=contact.id, sequence_id=new.id)
    before = Conversation(build_agent(_model(call), settings=settings), ctx, thread="kept")
    before.say("enroll Pat in New")
    assert before.question["kind"] == "enrollment_conflict"
    # A new process: a new graph on the same threads file picks the question up.
    after = Conversation(build_agent(_model(AIMessage("ok")), settings=settings), ctx, "kept")
    assert after.question["kind"] == "enrollment_conflict"
    after.answer("replace")
    assert [
        e.sequence_id
        for e in enrollments.list_enrollments(scope, status=None)
        if e.status.value == "pending"
    ] == [new.id]


def test_langgraph_json_serves_a_factory_that_imports_without_a_model() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["cadence"].partition(":")
    assert (ROOT / path).is_file() and attr == "graph"
    app_module = importlib.import_module("cadence.graph.app")
    assert callable(app_module.graph)
    app_module._graph.cache_clear()
    with pytest.raises(ConfigurationError, match="No chat model is configured"):
        app_module.graph({})


@pytest.mark.postgres
def test_with_postgresql_threads_survive_a_restart_in_their_own_schema(
    app: Cadence, scope: Scope, ctx: CadenceContext, pg_database: str
) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver
    from sqlalchemy import create_engine, inspect

    contact = f.contact(scope, 1)
    old, new = f.sequence(scope, "Old"), f.sequence(scope, "New")
    f.enroll(scope, contact.id, old.id)
    settings = Settings(database_url=pg_database)
    call = tool_call("enroll_contact", contact=contact.id, sequence_id=new.id)
    first = build_agent(_model(call), settings=settings)
    assert isinstance(first.checkpointer, PostgresSaver)
    before = Conversation(first, ctx, thread="kept-pg")
    before.say("enroll Pat in New")
    assert before.question["kind"] == "enrollment_conflict"
    after = Conversation(build_agent(_model(AIMessage("ok")), settings=settings), ctx, "kept-pg")
    assert after.question["kind"] == "enrollment_conflict"
    after.answer("parallel")
    assert {e.sequence_id for e in enrollments.list_enrollments(scope)} == {old.id, new.id}
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        tables = inspect(engine)
        assert "checkpoints" in tables.get_table_names(schema="cadence_threads")
        assert not [
            t for t in tables.get_table_names(schema="public") if t.startswith("checkpoint")
        ]
    finally:
        engine.dispose()
