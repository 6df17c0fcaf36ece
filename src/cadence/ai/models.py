"""The chat-model factory: ``CADENCE_MODEL`` names any LangChain chat model.

The name is ``init_chat_model`` style: ``provider:model`` (``anthropic:claude-sonnet-4-5``,
``openai:gpt-4.1``...), or a bare model name whose provider is plain from its prefix; a bare
``claude-*`` is Anthropic's. ``None`` means no model: the tools still work and personalization is
deterministic. The provider's integration package must be installed (``langchain-anthropic`` is).
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from cadence.config import Settings, get_settings
from cadence.errors import ConfigurationError

__all__ = ["NO_MODEL_MESSAGE", "configured_chat_model", "load_chat_model", "require_chat_model"]

NO_MODEL_MESSAGE = (
    "No chat model is configured: set CADENCE_MODEL (e.g. 'anthropic:claude-sonnet-4-5') or pass "
    "model= explicitly. The Cadence tools work without a model; the agent does not."
)


def _split(name: str) -> tuple[str, str | None]:
    text = name.strip()
    provider, sep, model = text.partition(":")
    if sep and provider and model and "/" not in provider:
        return model.strip(), provider.strip().lower().replace("-", "_")
    if text.lower().startswith("claude"):
        return text, "anthropic"
    return text, None


def load_chat_model(name: str | None, **kwargs: Any) -> BaseChatModel | None:
    """The chat model ``name`` designates, or ``None`` for no name.

    Args:
        name: ``provider:model`` or a bare model name; ``None`` or empty for no model.
        **kwargs: Passed to the model's constructor (temperature, max_tokens, base_url...).

    Returns:
        The model, or ``None``.

    Raises:
        ConfigurationError: the provider is unknown, its package is missing, or it refused the
            settings.
    """
    if name is None or not name.strip():
        return None
    model, provider = _split(name)
    if provider == "anthropic":
        # The default path, without needing the ``langchain`` package.
        from langchain_anthropic import ChatAnthropic

        try:
            return ChatAnthropic(model_name=model, **kwargs)
        except Exception as exc:
            raise ConfigurationError(f"chat model {name!r} cannot be built: {exc}") from exc
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:  # pragma: no cover - langchain is a dependency
        raise ConfigurationError(
            f"chat model {name!r} needs the 'langchain' package for init_chat_model"
        ) from exc
    try:
        built = init_chat_model(model, model_provider=provider, **kwargs)
    except Exception as exc:  # missing package, unknown provider, missing credentials...
        raise ConfigurationError(f"chat model {name!r} cannot be built: {exc}") from exc
    if not isinstance(built, BaseChatModel):  # pragma: no cover - only configurable models
        raise ConfigurationError(f"chat model {name!r} is not a chat model")
    return built


def configured_chat_model(settings: Settings | None = None) -> BaseChatModel | None:
    """The model ``CADENCE_MODEL`` names, or ``None`` when it is not set."""
    return load_chat_model((settings or get_settings()).model)


def require_chat_model(settings: Settings | None = None) -> BaseChatModel:
    """The configured model.

    Raises:
        ConfigurationError: none is configured (``NO_MODEL_MESSAGE``), or it cannot be built.
    """
    model = configured_chat_model(settings)
    if model is None:
        raise ConfigurationError(NO_MODEL_MESSAGE)
    return model
