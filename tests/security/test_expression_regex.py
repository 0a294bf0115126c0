"""F1: admin-supplied regexes (claim expressions, group filters) run on a linear-time engine.

The review's pattern ``(?:\\w\\w?){0,200}!`` passed the old syntactic screen and backtracked for
~100 s on 40 characters, blocking the event loop for every org. Regexes now run on RE2, so it
completes at once; what RE2 cannot run (backreferences, lookaround, possessive quantifiers,
atomic groups) is refused when the claim is saved, with Okta's 400.
"""

from __future__ import annotations

import httpx
import pytest

from ostiary.domain.authz.expressions import (
    EvalContext,
    ExpressionError,
    ExpressionEvaluationError,
    GroupRef,
    filter_groups,
    parse_expression,
    validate_group_filter,
)
from tests.support.authorization_servers import AS, assert_okta_error
from tests.support.scopes_claims import claims_of, expression_claim, new_server

REDOS = r"(?:\w\w?){0,200}!"
SUBJECT = "a" * 40


def test_the_reviews_pathological_replace_completes_without_a_match() -> None:
    expression = parse_expression(f'String.replace(app.name, "{REDOS}", "x")')
    assert expression.evaluate(EvalContext(app={"name": SUBJECT})) == SUBJECT


def test_a_pathological_replace_still_replaces_when_it_matches() -> None:
    expression = parse_expression(f'String.replaceFirst(app.name, "{REDOS}", "x")')
    assert expression.evaluate(EvalContext(app={"name": SUBJECT + "!"})) == "x"


@pytest.mark.parametrize("pattern", [REDOS, "(a+)+$", "(a|aa)*b", "(a*)*$", ".*a.*b.*c.*d.*e"])
def test_nested_quantifiers_on_a_long_group_name_complete(pattern: str) -> None:
    groups = (GroupRef("00g1", "a" * 250 + "X"),)  # backtracking engines explore every split
    expression = parse_expression(f'isMemberOfGroupNameRegex("{pattern}")')
    assert expression.evaluate(EvalContext(groups=groups)) is False
    assert filter_groups(groups, "REGEX", pattern) == []


def test_a_pathological_regex_from_data_completes_too() -> None:
    expression = parse_expression('String.replace(app.name, user.pattern, "x")')
    ctx = EvalContext(app={"name": SUBJECT}, user={"pattern": REDOS})
    assert expression.evaluate(ctx) == SUBJECT


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\\1", "(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b", "a++", "(?>a)b"],
)
def test_constructs_without_a_linear_time_match_are_refused_when_parsed(pattern: str) -> None:
    with pytest.raises(ExpressionError, match="RE2") as caught:
        parse_expression(f'isMemberOfGroupNameRegex("{pattern}")')
    assert caught.value.code == "E0000001"
    with pytest.raises(ExpressionError, match="RE2"):
        validate_group_filter("REGEX", pattern.replace("\\\\", "\\"))


def test_an_unsupported_regex_from_data_is_an_evaluation_error() -> None:
    expression = parse_expression('String.replace(app.name, user.pattern, "x")')
    with pytest.raises(ExpressionEvaluationError, match="RE2"):
        expression.evaluate(EvalContext(app={"name": "aa"}, user={"pattern": r"(a)\1"}))


async def test_a_claim_with_lookahead_is_refused_at_save_time(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    before = await claims_of(admin, server_id)
    claim = expression_claim(value='String.replace(user.email, "(?=a)b", "")')
    response = await admin.post(f"{AS}/{server_id}/claims", json=claim)
    assert_okta_error(response, 400, "E0000001", "Api validation failed: value")
    [cause] = response.json()["errorCauses"]
    assert "lookaround" in cause["errorSummary"] and "RE2" in cause["errorSummary"]
    assert await claims_of(admin, server_id) == before


async def test_a_groups_claim_with_a_backreference_is_refused_at_save_time(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    before = await claims_of(admin, server_id)
    claim = {
        "name": "groups",
        "claimType": "RESOURCE",
        "valueType": "GROUPS",
        "group_filter_type": "REGEX",
        "value": r"(a)\1",
    }
    response = await admin.post(f"{AS}/{server_id}/claims", json=claim)
    assert_okta_error(response, 400, "E0000001")
    assert "backreference" in response.json()["errorCauses"][0]["errorSummary"]
    assert await claims_of(admin, server_id) == before


async def test_the_reviews_claim_is_accepted_and_answers_promptly(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    claim = expression_claim(value=f'String.replace(user.email, "{REDOS}", "x")'.replace("\\", "\\\\"))
    response = await admin.post(f"{AS}/{server_id}/claims", json=claim)
    assert response.status_code == 201, response.text
    saved = response.json()
    assert (saved["valueType"], saved["value"]) == (claim["valueType"], claim["value"])
    assert saved in await claims_of(admin, server_id)
