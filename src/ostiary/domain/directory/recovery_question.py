"""A user's recovery question (``credentials.recovery_question``): asked before a password reset.

Set with the user (create, or update with ``credentials.recovery_question``) or by the user with
their password (``credentials/change_recovery_question``). Only the question is ever shown; the
answer is kept as an argon2id hash of its normalised form (surrounding spaces trimmed, case
folded), so ``Fluffy`` and `` fluffy`` are the same answer. An answer is at least
:data:`MIN_ANSWER_LENGTH` characters and may not contain the question's words wholesale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ostiary.domain.directory import passwords
from ostiary.domain.errors import Invalid
from ostiary.store.models import User

MIN_ANSWER_LENGTH = 4
MAX_LENGTH = 255


def _invalid(cause: str) -> Invalid:
    return Invalid("Api validation failed: recovery_question", code="E0000001", causes=[cause])


def _normalised(answer: str) -> str:
    return " ".join(answer.split()).casefold()


def parse(credentials: object) -> tuple[str, str] | None:
    """The ``(question, answer)`` a user body's ``credentials`` sets, or None."""
    if not isinstance(credentials, Mapping) or credentials.get("recovery_question") is None:
        return None
    given = credentials["recovery_question"]
    if not isinstance(given, Mapping):
        raise _invalid("recovery_question: must be an object")
    question, answer = given.get("question"), given.get("answer")
    if not isinstance(question, str) or not question.strip():
        raise _invalid("recovery_question.question: The field cannot be left blank")
    if not isinstance(answer, str) or len(answer.strip()) < MIN_ANSWER_LENGTH:
        raise _invalid(f"recovery_question.answer: must be at least {MIN_ANSWER_LENGTH} characters")
    if len(question) > MAX_LENGTH or len(answer) > MAX_LENGTH:
        raise _invalid(f"recovery_question: at most {MAX_LENGTH} characters")
    if _normalised(question) in _normalised(answer):
        raise _invalid("recovery_question.answer: The security question answer must not contain the question")
    return question.strip(), answer


async def store(user: User, question: str, answer: str) -> None:
    user.recovery_question = {
        "question": question,
        "answer_hash": await passwords.hash_password(_normalised(answer)),
    }


def question_of(user: User) -> str | None:
    stored = user.recovery_question
    question = stored.get("question") if isinstance(stored, Mapping) else None
    return question if isinstance(question, str) else None


async def matches(user: User, answer: object) -> bool:
    """Is ``answer`` the user's answer? (One argon2 verification whatever the input.)"""
    stored: Any = user.recovery_question
    digest = stored.get("answer_hash") if isinstance(stored, Mapping) else None
    text = _normalised(answer) if isinstance(answer, str) and len(answer) <= MAX_LENGTH else ""
    return await passwords.verify_password(text, digest if isinstance(digest, str) else None) and bool(text)
