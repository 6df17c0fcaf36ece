"""cadence.ai: the chat-model factory, personalization and suggestions.

Import from the modules: ``cadence.ai.models``, ``cadence.ai.personalize``,
``cadence.ai.abtest`` and ``cadence.ai.sendtime`` (which needs numpy).
"""
