"""A host CRM's agent team: a supervisor hands an outreach request to Cadence.

Run it from the repository root, offline, with scripted fake models (no key, no network):

    python examples/host_team.py

With real models (any LangChain chat model name, Claude by default):

    export CADENCE_MODEL=anthropic:claude-sonnet-5 ANTHROPIC_API_KEY=...
    python examples/host_team.py --live

The team is a LangGraph ``StateGraph``: a supervisor that routes with handoff tools, a research
agent (``langchain.agents.create_agent``) and the compiled ``cadence`` graph, added as a node and
sharing the ``messages`` channel. Cadence's questions (here: a contact already in another
sequence) surface as interrupts of the team graph; the host asks its user and resumes the team
with ``Command(resume=...)``. The workspace and user reach Cadence's tools through the team's
run-time context, never through what a model writes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Annotated, Any, Literal, TypedDict

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command

from cadence.ai.models import load_chat_model
from cadence.config import Settings
from cadence.graph import INHERIT, build_agent
from cadence.graph.fake import ScriptedChatModel, last_result, tool_call
from cadence.service.contacts import upsert_contacts
from cadence.service.context import Cadence
from cadence.service.enrolling import enroll
from cadence.service.sequences import create_sequence
from cadence.service.workspaces import create_workspace
from cadence.tools import CadenceContext

SUPERVISOR_PROMPT = (
    "You lead a CRM assistant team. Hand account research to research and anything about "
    "outreach sequences (creating, enrolling, pausing) to cadence. When the work is done, "
    "answer the user briefly."
)


class TeamState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@tool
def transfer_to_research(task: str) -> str:
    """Hand a research question about an account or a person to the research agent."""
    return task


@tool
def transfer_to_cadence(task: str) -> str:
    """Hand an outreach task (sequences, enrollments, pausing) to the Cadence agent."""
    return task


@tool
def lookup_account(company: str) -> str:
    """Look up what the CRM knows about a company."""
    return json.dumps(
        {
            "company": company,
            "employees": 1200,
            "stage": "evaluating",
            "champion": "Pat Lee, VP Sales",
        }
    )


def make_supervisor(model: BaseChatModel) -> Any:
    bound = model.bind_tools([transfer_to_research, transfer_to_cadence])

    def supervisor(state: TeamState) -> Command[Literal["research", "cadence", "__end__"]]:
        reply = bound.invoke([SystemMessage(SUPERVISOR_PROMPT), *state["messages"]])
        assert isinstance(reply, AIMessage)
        reply.name = "supervisor"
        if not reply.tool_calls:
            return Command(goto=END, update={"messages": [reply]})
        first, *rest = reply.tool_calls
        target = first["name"].removeprefix("transfer_to_")
        acks = [ToolMessage(f"Handed to {target}.", tool_call_id=first["id"] or "")]
        acks += [
            ToolMessage("Not run: one handoff at a time.", tool_call_id=c["id"] or "") for c in rest
        ]
        return Command(goto=target, update={"messages": [reply, *acks]})

    return supervisor


def build_team(supervisor: BaseChatModel, research: BaseChatModel, cadence: BaseChatModel) -> Any:
    team = StateGraph(TeamState, context_schema=CadenceContext)
    team.add_node(
        "supervisor", make_supervisor(supervisor), destinations=("research", "cadence", END)
    )
    team.add_node(
        "research",
        create_agent(
            research,
            [lookup_account],
            name="research",
            system_prompt="You research accounts in the CRM.",
        ),
    )
    # Cadence as a subgraph: the team's checkpointer keeps its threads and its questions.
    team.add_node("cadence", build_agent(cadence, checkpointer=INHERIT))
    team.add_edge(START, "supervisor")
    team.add_edge("research", "supervisor")
    team.add_edge("cadence", "supervisor")
    return team.compile(checkpointer=InMemorySaver(), name="crm_team")


def scripted_models(pat_email: str) -> tuple[BaseChatModel, BaseChatModel, BaseChatModel]:
    supervisor = ScriptedChatModel(
        script=[
            tool_call("transfer_to_research", task="What do we know about Globex?"),
            tool_call("transfer_to_cadence", task="Create 'Globex Q3' and enroll Pat Lee."),
            AIMessage(
                "Globex is evaluating; Pat Lee is now in 'Globex Q3' alongside 'Old nurture'."
            ),
        ]
    )
    research = ScriptedChatModel(
        script=[
            tool_call("lookup_account", company="Globex"),
            AIMessage("Globex: 1,200 employees, evaluating; champion Pat Lee (VP Sales)."),
        ]
    )
    cadence = ScriptedChatModel(
        script=[
            tool_call(
                "create_sequence",
                name="Globex Q3",
                activate=True,
                steps=[
                    {
                        "channel": "email",
                        "subject": "Q3 planning at {{company|your team}}",
                        "body": "Hi {{first_name|there}}, how is Q3 planning going?",
                    },
                    {"channel": "task", "delay_hours": 72, "body": "Call {{first_name}}"},
                ],
            ),
            lambda m: tool_call(
                "enroll_contact", contact=pat_email, sequence_id=last_result(m)["sequence_id"]
            ),
            lambda m: AIMessage(
                f"Created 'Globex Q3'; Pat's enrollment: "
                f"{last_result(m).get('action')} ({last_result(m).get('resolution')})."
            ),
        ]
    )
    return supervisor, research, cadence


def seed(app: Cadence) -> tuple[CadenceContext, str]:
    ws = create_workspace(
        app,
        "Acme Sales",
        sender_name="Rita Rep",
        sender_email="rita@acme.example.com",
        postal_address="1 Main St",
    )
    scope = app.scope(ws.id, actor="rita")
    [pat] = upsert_contacts(
        scope,
        [
            {
                "email": "pat@globex.example.com",
                "first_name": "Pat",
                "last_name": "Lee",
                "company": "Globex",
            }
        ],
    )
    old = create_sequence(
        scope,
        {
            "name": "Old nurture",
            "steps": [{"channel": "email", "subject": "Hello", "body": "Hi {{first_name|there}}"}],
        },
        activate=True,
    )
    enroll(scope, pat.id, old.id)
    return CadenceContext(workspace_id=ws.id, user="rita", app=app), "pat@globex.example.com"


def run(app: Cadence, live: bool) -> list[AnyMessage]:
    ctx, pat_email = seed(app)
    if live:
        model = load_chat_model(os.environ.get("CADENCE_MODEL"))
        if model is None:
            raise SystemExit("--live needs CADENCE_MODEL, e.g. anthropic:claude-sonnet-5")
        models: tuple[BaseChatModel, ...] = (model, model, model)
    else:
        models = scripted_models(pat_email)
    team = build_team(*models)
    config: RunnableConfig = {"configurable": {"thread_id": "team-1"}}
    ask = "Research Globex, then start a Q3 sequence for Pat Lee (pat@globex.example.com)."
    print(f"user> {ask}")
    payload: Any = {"messages": [HumanMessage(ask)]}
    while True:
        team.invoke(payload, config, context=ctx)
        state = team.get_state(config)
        if not state.interrupts:
            break
        question = state.interrupts[0].value
        print(f"cadence asks> {question['question']} {question['choices']}")
        answer = "parallel" if "parallel" in question["choices"] else question["choices"][0]
        print(f"user> {answer}")
        payload = Command(resume=answer)
    messages: list[AnyMessage] = state.values["messages"]
    for message in messages:
        if isinstance(message, AIMessage) and message.text:
            print(f"{message.name or 'agent'}> {message.text}")
    return messages


def main() -> None:
    live = "--live" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        app = Cadence.from_settings(
            Settings(database_url=f"sqlite:///{tmp}/cadence.db", redis_url="memory://")
        )
        try:
            run(app, live)
        finally:
            app.db.dispose()


if __name__ == "__main__":
    main()
