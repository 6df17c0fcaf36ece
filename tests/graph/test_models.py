"""The chat-model factory behind CADENCE_MODEL."""

from __future__ import annotations

import pytest
from langchain_anthropic import ChatAnthropic

from cadence.ai.models import configured_chat_model, load_chat_model, require_chat_model
from cadence.config import Settings
from cadence.errors import ConfigurationError


@pytest.mark.parametrize(
    "name", ["anthropic:claude-sonnet-5", "claude-sonnet-5", " claude-sonnet-5 "]
)
def test_claude_names_give_chat_anthropic(name: str) -> None:
    model = load_chat_model(name)
    assert isinstance(model, ChatAnthropic) and model.model == "claude-sonnet-5"


def test_no_name_means_no_model() -> None:
    assert load_chat_model(None) is None and load_chat_model("  ") is None
    assert configured_chat_model(Settings(model=None)) is None
    with pytest.raises(ConfigurationError, match="CADENCE_MODEL"):
        require_chat_model(Settings(model=None))


@pytest.mark.parametrize("name", ["nonsense-model", "madeup_provider:some-model"])
def test_an_unusable_name_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigurationError, match="cannot be built"):
        load_chat_model(name)


def test_other_providers_go_through_init_chat_model() -> None:
    # Without langchain-openai, or without an OpenAI key (tests have none), it cannot be built.
    with pytest.raises(ConfigurationError, match="openai"):
        load_chat_model("openai:gpt-4.1")


def test_keyword_settings_reach_the_model() -> None:
    model = load_chat_model("anthropic:claude-sonnet-5", temperature=0.1, max_tokens=321)
    assert isinstance(model, ChatAnthropic)
    assert model.temperature == 0.1 and model.max_tokens == 321
