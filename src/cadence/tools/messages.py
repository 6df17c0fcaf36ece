"""The text a model reads when a tool call fails or a person declines it.

Kept in named constants, as LangGraph's ``tool_node.py`` does, so prompts and tests can name them.
"""

from __future__ import annotations

__all__ = [
    "CANCELLED_BY_USER_TEMPLATE",
    "DEFAULT_HINT",
    "ERROR_HINTS",
    "INVALID_ARGUMENTS_TEMPLATE",
    "TOOL_ERROR_TEMPLATE",
]

TOOL_ERROR_TEMPLATE = "Error in {tool} ({code}): {message}\nNothing was changed. {hint}"
"""A ``CadenceError`` raised by the service; ``{details}`` JSON follows when there is some."""

INVALID_ARGUMENTS_TEMPLATE = (
    "Error in {tool} (invalid_arguments): the arguments do not fit the tool's schema:\n"
    "{errors}\n"
    "Nothing was changed. Fix these arguments and call {tool} again."
)
"""Arguments that fail the tool's pydantic schema, one ``field: problem (got value)`` a line."""

CANCELLED_BY_USER_TEMPLATE = (
    "Not done: the user declined {tool} ({what}). Nothing was changed. "
    "Do not retry it unless the user asks again."
)
"""The tool message for a call a person declined when asked to confirm it."""

DEFAULT_HINT = "Correct the arguments and call the tool again, or ask the user."

ERROR_HINTS: dict[str, str] = {
    "not_found": "The id or email is not in this workspace; look it up with list_sequences, "
    "get_sequence or get_enrollment_status, or ask the user.",
    "enrollment_conflict": "Show the conflicts to the user and ask whether to replace, run in "
    "parallel or skip; then call again with that resolution.",
    "already_enrolled": "The contact is already in this sequence; tell the user, or call again "
    "with resolution 'skip' (or 'replace' if the sequence allows re-enrolling).",
    "resolution_not_allowed": "Pick one of the allowed resolutions listed in the message.",
    "invalid_transition": "Check the enrollment's status with get_enrollment_status first.",
    "sequence_not_enrollable": "Activate the sequence (resume_sequence) or pick another one.",
    "cadence_error": "This cannot be done right now; tell the user why.",
    "unknown_merge_field": "Use standard merge fields such as {{first_name}} or {{company}}, "
    "with a fallback: {{first_name|there}}.",
}
"""Per error code, what the model can do next."""
