"""Group filters of claims with ``valueType: GROUPS`` (not expression language, same regex rules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ostiary.domain.authz.expressions.context import MAX_REGEX_SUBJECT_LENGTH, GroupRef, refuse, sentence
from ostiary.domain.authz.expressions.regex import compile_regex

GROUP_FILTER_TYPES: Final = frozenset({"STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"})


def validate_group_filter(filter_type: str, value: str) -> None:
    """Refuse an unknown ``group_filter_type`` or an unusable ``REGEX`` when the claim is saved."""
    if filter_type not in GROUP_FILTER_TYPES:
        allowed = ", ".join(sorted(GROUP_FILTER_TYPES))
        raise refuse(f"group_filter_type must be one of {allowed}")
    if not isinstance(value, str):
        raise refuse("The group filter value must be a string")
    if filter_type == "REGEX":
        try:
            compile_regex(value)
        except ValueError as exc:
            raise refuse(sentence(str(exc))) from None


def filter_groups(groups: Sequence[GroupRef], filter_type: str, value: str) -> list[str]:
    """Names of ``groups`` that pass the filter, in the given order.

    ``STARTS_WITH``, ``EQUALS`` and ``CONTAINS`` ignore case; ``REGEX`` must match the whole
    name, case as written (``(?i)`` makes it insensitive). Validate with
    :func:`validate_group_filter` first; an invalid filter raises :class:`ExpressionError`.
    """
    validate_group_filter(filter_type, value)
    if filter_type == "REGEX":
        pattern = compile_regex(value)
        return [
            group.name
            for group in groups
            if len(group.name) <= MAX_REGEX_SUBJECT_LENGTH and pattern.fullmatch(group.name)
        ]
    wanted = value.casefold()
    if filter_type == "EQUALS":
        return [group.name for group in groups if group.name.casefold() == wanted]
    if filter_type == "STARTS_WITH":
        return [group.name for group in groups if group.name.casefold().startswith(wanted)]
    return [group.name for group in groups if wanted in group.name.casefold()]
