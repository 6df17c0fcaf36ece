"""The examples run, offline, and do what they say."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path
from types import ModuleType

import pytest
from langchain_core.messages import AIMessage

from cadence.service import enrollments, sequences
from cadence.service.context import Cadence

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALL = sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CADENCE_MODEL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")


def test_there_are_examples() -> None:
    assert {"direct_tools.py", "host_team.py"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_each_example_says_how_to_run_it(name: str) -> None:
    source = (EXAMPLES / name).read_text()
    assert source.startswith('"""')
    assert f"python examples/{name}" in source.split('"""')[1]


@pytest.mark.parametrize("name", ALL)
def test_each_example_runs(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / name)])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_direct_tools_shows_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "direct_tools.py"), run_name="__main__")
    out = capsys.readouterr().out
    for title in (
        "create_sequence",
        "enroll_contacts",
        "get_enrollment_status",
        "suggest_personalization",
        "suggest_ab_test",
    ):
        assert f"== {title}" in out
    assert "(refused, as a model would read it)" in out
    assert '"enrolled": 2' in out and "already enrolled" in out


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_host_team_delegates_to_cadence_which_asks_and_enrolls(
    app: Cadence, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _load("host_team", monkeypatch).run(app, False)
    out = capsys.readouterr().out
    assert "cadence asks> Contact 1 has conflicts with 'Globex Q3'" in out
    speakers = [m.name for m in messages if isinstance(m, AIMessage)]
    assert speakers[0] == "supervisor" and "research" in speakers and "cadence" in speakers
    assert speakers[-1] == "supervisor"
    scope = app.scope(1)
    assert [s.name for s in sequences.list_sequences(scope)] == ["Old nurture", "Globex Q3"]
    assert [e.status.value for e in enrollments.list_enrollments(scope)] == ["pending", "pending"]
