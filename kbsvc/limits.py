"""Input limits shared by API schemas and the importer (values from settings.limits)."""

from __future__ import annotations

from kbsvc.config import get_settings

# Fixed caps that need no setting: tags per object, departments per restriction.
MAX_TAGS = 50
MAX_DEPARTMENTS = 50


def max_text_chars() -> int:
    """Longest accepted free-text field (symptom, cause, solution …)."""
    return get_settings().limits.max_text_chars


def check_text(value: str | None) -> str | None:
    """Validator body: reject text longer than the configured limit."""
    limit = max_text_chars()
    if value is not None and len(value) > limit:
        raise ValueError(f"text is {len(value)} characters long; at most {limit} are accepted")
    return value
