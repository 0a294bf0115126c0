"""Okta filter/search expressions: grammar, values, policies and limits."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest

from ostiary.domain.directory.filter_expr import (
    GROUP_FILTER_POLICY,
    GROUP_SEARCH_POLICY,
    LOG_FILTER_POLICY,
    MAX_BYTES,
    MAX_COMPARISONS,
    MAX_DEPTH,
    OPERATORS,
    USER_FILTER_POLICY,
    USER_SEARCH_POLICY,
    AttributePolicy,
    AttributeRule,
    parse_filter,
)
from ostiary.domain.errors import Invalid
from ostiary.filter_ast import And, Comparison, Not, Or, Present

ANYTHING = AttributePolicy(
    name="test",
    attributes={
        "a": AttributeRule(OPERATORS, kind="any"),
        "b": AttributeRule(OPERATORS, kind="any"),
        "c": AttributeRule(OPERATORS, kind="any"),
        "when": AttributeRule(OPERATORS, kind="datetime"),
    },
    patterns={"profile.*": AttributeRule(OPERATORS, kind="any")},
    allow_not=True,
)


EXPECTED_VALUE = "Expected a value (a double-quoted string, a number, true, false or null)"
EXPECTED_OPERATOR = "Expected an operator (eq, ne, gt, ge, lt, le, sw, co, pr)"


def parse(text: str, policy: AttributePolicy = ANYTHING) -> object:
    return parse_filter(text, allowed=policy)


def refusal(text: str, policy: AttributePolicy = ANYTHING) -> str:
    with pytest.raises(Invalid) as caught:
        parse_filter(text, allowed=policy)
    error = caught.value
    assert error.code == "E0000031"
    assert error.message == "Invalid search criteria."
    assert len(error.causes) == 1
    return error.causes[0]


def eq(attr: str, value: object, ignore_case: bool = False) -> Comparison:
    return Comparison(attr, "eq", value, ignore_case=ignore_case)  # type: ignore[arg-type]


_WRITTEN = re.compile(r'\b([A-Za-z][\w.]*) (eq|ne|gt|ge|lt|le|sw|co|pr)\b(?: ("[^"]*"|[\w.:-]+))?')


def as_written(text: str) -> list[tuple[str, str, object]]:
    """The comparisons of ``text`` in order: (attribute, operator, value as written)."""
    found = []
    for attr, op, raw in _WRITTEN.findall(text):
        if op == "pr":
            found.append((attr, op, None))
        else:
            found.append((attr, op, raw[1:-1] if raw.startswith('"') else raw))
    return found


def as_parsed(node: object) -> list[tuple[str, str, object]]:
    """The comparisons of a parsed tree in order, values written back as text."""
    if isinstance(node, Present):
        return [(node.attr, "pr", None)]
    if isinstance(node, Comparison):
        value = node.value
        if isinstance(value, datetime):
            written: object = value
        elif value is None:
            written = "null"
        else:
            written = str(value).lower() if isinstance(value, bool) else str(value)
        return [(node.attr, node.op, written)]
    if isinstance(node, And | Or):
        return as_parsed(node.left) + as_parsed(node.right)
    assert isinstance(node, Not)
    return as_parsed(node.expr)


def assert_parsed_as_written(text: str, policy: AttributePolicy) -> None:
    """Every comparison of ``text`` is in the tree, in order, with its operator and value
    (timestamps become datetimes), joined by as many ``and``/``or``/``not`` as were written."""
    tree = parse(text, policy)
    parsed, written = as_parsed(tree), as_written(text)
    assert [(a, op) for a, op, _ in parsed] == [(a, op) for a, op, _ in written]
    for (_, _, got), (_, _, raw) in zip(parsed, written, strict=True):
        if isinstance(got, datetime):
            assert got == datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        elif raw is not None:
            assert got == raw
    connectives = {"and": And, "or": Or, "not": Not}
    for word, kind in connectives.items():
        assert _count(tree, kind) == len(re.findall(rf"(?<![\w\"]){word}(?![\w\"])", _unquoted(text)))


def _count(node: object, kind: type) -> int:
    own = int(isinstance(node, kind))
    if isinstance(node, And | Or):
        return own + _count(node.left, kind) + _count(node.right, kind)
    if isinstance(node, Not):
        return own + _count(node.expr, kind)
    return own


def _unquoted(text: str) -> str:
    return re.sub(r'"[^"]*"', '""', text)


# --- grammar --------------------------------------------------------------------------------


def test_a_comparison_parses_into_attribute_operator_and_value() -> None:
    assert parse('a eq "x"') == eq("a", "x")


@pytest.mark.parametrize("op", ["eq", "ne", "gt", "ge", "lt", "le", "sw", "co"])
def test_every_comparison_operator_parses(op: str) -> None:
    assert parse(f'a {op} "x"') == Comparison("a", op, "x")  # type: ignore[arg-type]


def test_pr_takes_no_value() -> None:
    assert parse("a pr") == Present("a")


def test_operators_and_logic_keywords_are_case_insensitive() -> None:
    assert parse('a EQ "x" AND b Sw "y" Or c PR') == Or(
        And(eq("a", "x"), Comparison("b", "sw", "y")), Present("c")
    )


def test_and_binds_tighter_than_or() -> None:
    assert parse("a eq 1 or b eq 2 and c eq 3") == Or(eq("a", 1), And(eq("b", 2), eq("c", 3)))
    assert parse("a eq 1 and b eq 2 or c eq 3") == Or(And(eq("a", 1), eq("b", 2)), eq("c", 3))


def test_chains_associate_to_the_left() -> None:
    assert parse("a eq 1 or b eq 2 or c eq 3") == Or(Or(eq("a", 1), eq("b", 2)), eq("c", 3))
    assert parse("a eq 1 and b eq 2 and c eq 3") == And(And(eq("a", 1), eq("b", 2)), eq("c", 3))


def test_parentheses_override_precedence() -> None:
    assert parse("(a eq 1 or b eq 2) and c eq 3") == And(Or(eq("a", 1), eq("b", 2)), eq("c", 3))


def test_redundant_parentheses_and_whitespace_are_harmless() -> None:
    assert parse('  ((a   eq\t"x"))  ') == eq("a", "x")


def test_no_space_is_needed_around_quotes_and_parentheses() -> None:
    assert parse('(a eq"x")and(b eq"y")') == And(eq("a", "x"), eq("b", "y"))


def test_not_wraps_a_parenthesised_expression() -> None:
    assert parse("not (a eq 1 or b eq 2) and c pr") == And(Not(Or(eq("a", 1), eq("b", 2))), Present("c"))


def test_not_needs_parentheses() -> None:
    assert "Expected '(' after 'not'" in refusal("not a eq 1")


def test_the_tree_is_immutable_and_comparable() -> None:
    node = parse('a eq "x" and b pr')
    assert node == parse('a eq "x" and b pr')
    assert hash(node) == hash(parse('a eq "x" and b pr'))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.left = Present("c")  # type: ignore[attr-defined]


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"a\/b"', "a/b"),
        (r'"tab\tnew\nline"', "tab\tnew\nline"),
        (r'"\u00e9t\u00C9"', "étÉ"),
        (r'"\ud83d\ude00"', "\U0001f600"),
        ('"Émile ü"', "Émile ü"),
        ('""', ""),
        ('"a and b or c)"', "a and b or c)"),
    ],
)
def test_strings_take_json_escapes(literal: str, value: str) -> None:
    assert parse(f"a eq {literal}") == eq("a", value)


@pytest.mark.parametrize(
    ("literal", "value"),
    [("42", 42), ("-7", -7), ("0", 0), ("3.5", 3.5), ("-0.25", -0.25), ("1e3", 1000.0), ("2.5E-1", 0.25)],
)
def test_numbers_are_ints_or_floats(literal: str, value: float) -> None:
    node = parse(f"a gt {literal}")
    assert node == Comparison("a", "gt", value)
    assert type(node.value) is type(value)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("literal", "value"), [("true", True), ("FALSE", False), ("null", None), ("Null", None)]
)
def test_true_false_and_null_are_literals(literal: str, value: object) -> None:
    assert parse(f"a eq {literal}") == eq("a", value)


def test_an_unpaired_surrogate_escape_is_refused() -> None:
    assert "unpaired surrogate" in refusal(r'a eq "\ud83d"')


def test_a_nul_character_is_refused() -> None:
    assert "NUL" in refusal(r'a eq "x\u0000y"')


def test_an_unknown_escape_is_refused_with_its_position() -> None:
    assert refusal(r'a eq "x\qy"') == "Invalid escape '\\\\q' in the string at position 8."


def test_a_short_unicode_escape_is_refused() -> None:
    assert "Invalid escape" in refusal(r'a eq "\u12"')


def test_an_unterminated_string_is_refused_with_where_it_started() -> None:
    assert refusal('a eq "abc') == "Unterminated string starting at position 6; expected a closing '\"'."


def test_an_escaped_quote_does_not_close_the_string() -> None:
    assert refusal(r'a eq "abc\"') == "Unterminated string starting at position 6; expected a closing '\"'."


def test_a_lone_trailing_backslash_is_refused() -> None:
    assert refusal('a eq "abc\\') == "Invalid escape '\\\\' in the string at position 10."


# --- timestamps -----------------------------------------------------------------------------


def test_timestamps_become_utc_datetimes() -> None:
    node = parse('when gt "2013-06-01T00:00:00.000Z"')
    assert node == Comparison("when", "gt", datetime(2013, 6, 1, tzinfo=UTC))


def test_timestamp_offsets_are_converted_to_utc() -> None:
    node = parse('when eq "2013-06-01T02:30:00+02:00"')
    assert node.value == datetime(2013, 6, 1, 0, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    assert node.value.tzinfo is UTC  # type: ignore[attr-defined]


def test_a_timestamp_without_zone_is_utc() -> None:
    assert parse('when lt "2013-06-01T00:00:00"') == Comparison(
        "when", "lt", datetime(2013, 6, 1, tzinfo=UTC)
    )


def test_timestamp_fractions_beyond_microseconds_are_truncated() -> None:
    node = parse('when ge "2013-06-01T00:00:00.123456789Z"')
    assert node.value == datetime(2013, 6, 1, 0, 0, 0, 123456, tzinfo=UTC)  # type: ignore[attr-defined]


def test_null_is_accepted_for_a_timestamp_attribute() -> None:
    assert parse("when eq null") == eq("when", None)


@pytest.mark.parametrize(
    "literal",
    [
        '"2013-13-01T00:00:00.000Z"',
        '"2013-06-01"',
        '"yesterday"',
        '"2013-06-01 00:00:00Z"',
        "20130601",
        "true",
    ],
)
def test_invalid_timestamps_are_refused(literal: str) -> None:
    assert "needs an ISO-8601 date-time" in refusal(f"when eq {literal}")


def test_timestamps_of_profile_attributes_stay_strings() -> None:
    node = parse('profile.hired gt "2013-06-01T00:00:00.000Z"', USER_SEARCH_POLICY)
    assert node.value == "2013-06-01T00:00:00.000Z"  # type: ignore[attr-defined]


# --- value and operator compatibility -------------------------------------------------------


@pytest.mark.parametrize("text", ["a sw 1", "a co true", "a sw null"])
def test_sw_and_co_need_strings(text: str) -> None:
    cause = refusal(text)
    assert "needs a string value" in cause or "cannot compare with null" in cause


@pytest.mark.parametrize("text", ["a gt true", "a le false"])
def test_ordering_refuses_booleans(text: str) -> None:
    assert "needs a string, number or date value" in refusal(text)


def test_ordering_refuses_null() -> None:
    assert refusal("a lt null") == "Operator 'lt' cannot compare with null (position 6)."


def test_a_string_attribute_refuses_numbers() -> None:
    assert (
        refusal("status eq 1", USER_FILTER_POLICY) == "'status' needs a string value at position 11, found 1."
    )


# --- case rules -----------------------------------------------------------------------------


def test_filter_values_are_case_sensitive() -> None:
    assert parse('profile.login eq "Ann@Example.com"', USER_FILTER_POLICY) == eq(
        "profile.login", "Ann@Example.com"
    )
    assert parse('status eq "active"', USER_FILTER_POLICY) == eq("status", "active")


def test_search_string_values_ignore_case() -> None:
    node = parse('profile.email eq "ann@example.com"', USER_SEARCH_POLICY)
    assert node == eq("profile.email", "ann@example.com", ignore_case=True)


def test_search_numbers_and_booleans_carry_no_case_flag() -> None:
    node = parse("profile.age eq 30 and profile.admin eq true", USER_SEARCH_POLICY)
    assert node == And(eq("profile.age", 30), eq("profile.admin", True))


def test_search_upper_cases_status_values_so_comparison_stays_exact() -> None:
    assert parse('status eq "locked_out"', USER_SEARCH_POLICY) == eq("status", "LOCKED_OUT")
    assert parse('type eq "okta_group"', GROUP_SEARCH_POLICY) == eq("type", "OKTA_GROUP")


def test_search_ids_stay_case_sensitive() -> None:
    assert parse('id eq "00uAbC"', USER_SEARCH_POLICY) == eq("id", "00uAbC")


def test_attribute_names_are_case_sensitive() -> None:
    assert refusal('Status eq "ACTIVE"', USER_FILTER_POLICY) == (
        "Attribute 'Status' at position 1 is not supported in filter."
    )


# --- policies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'status eq "ACTIVE"',
        'id eq "00u1ero7vZFVEIYLWPBN"',
        'profile.login eq "login@example.com"',
        'profile.email eq "a@example.com" or profile.firstName eq "A" or profile.lastName eq "B"',
        'lastUpdated gt "2013-06-01T00:00:00.000Z" and lastUpdated lt "2014-01-01T00:00:00.000Z"',
        'lastUpdated ge "2013-06-01T00:00:00.000Z" and lastUpdated le "2014-01-01T00:00:00.000Z"',
        'lastUpdated gt "2013-06-01T00:00:00.000Z" and (status eq "LOCKED_OUT" or status eq "RECOVERY")',
    ],
)
def test_user_filter_accepts_okta_documented_expressions(text: str) -> None:
    assert_parsed_as_written(text, USER_FILTER_POLICY)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (
            'profile.department eq "x"',
            "Attribute 'profile.department' at position 1 is not supported in filter.",
        ),
        (
            'created gt "2013-06-01T00:00:00.000Z"',
            "Attribute 'created' at position 1 is not supported in filter.",
        ),
        ('status sw "ACT"', "Operator 'sw' at position 8 is not supported for 'status' in filter."),
        ('status ne "ACTIVE"', "Operator 'ne' at position 8 is not supported for 'status' in filter."),
        (
            'profile.login co "x"',
            "Operator 'co' at position 15 is not supported for 'profile.login' in filter.",
        ),
        ('id gt "00u"', "Operator 'gt' at position 4 is not supported for 'id' in filter."),
        ("status pr", "Operator 'pr' at position 8 is not supported for 'status' in filter."),
        ('not (status eq "ACTIVE")', "'not' at position 1 is not supported in filter."),
    ],
)
def test_user_filter_refuses_other_attributes_and_operators(text: str, cause: str) -> None:
    assert refusal(text, USER_FILTER_POLICY) == cause


@pytest.mark.parametrize(
    "text",
    [
        'status eq "STAGED"',
        'lastUpdated gt "2014-01-01T00:00:00.000Z"',
        'id eq "00u1ero7vZFVEIYLWPBN"',
        'profile.department eq "Engineering" and '
        '(created lt "2014-01-01T00:00:00.000Z" or status eq "ACTIVE")',
        'profile.arrayAttr eq "arrayAttrVal1"',
        '(status lt "STAGED" or status gt "STAGED")',
        'profile.firstName co "li" or profile.lastName co "x" or profile.email co "@" '
        'or profile.login co "a"',
        'type.id eq "oty1"',
        'activated pr and statusChanged lt "2020-01-01T00:00:00Z"',
        "profile.mobilePhone pr",
        "profile.age ge 30",
    ],
)
def test_user_search_accepts_okta_documented_expressions(text: str) -> None:
    assert_parsed_as_written(text, USER_SEARCH_POLICY)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('status ne "STAGED"', "Operator 'ne' at position 8 is not supported for 'status' in search."),
        (
            'profile.department co "eng"',
            "Operator 'co' at position 20 is not supported for 'profile.department' in search.",
        ),
        ('status co "ACT"', "Operator 'co' at position 8 is not supported for 'status' in search."),
        ('created sw "2013"', "Operator 'sw' at position 9 is not supported for 'created' in search."),
        ('passwordHash eq "x"', "Attribute 'passwordHash' at position 1 is not supported in search."),
        (
            'profile.address.city eq "x"',
            "Attribute 'profile.address.city' at position 1 is not supported in search.",
        ),
        ('not (status eq "ACTIVE")', "'not' at position 1 is not supported in search."),
    ],
)
def test_user_search_refuses_ne_not_and_co_outside_names_and_emails(text: str, cause: str) -> None:
    assert refusal(text, USER_SEARCH_POLICY) == cause


@pytest.mark.parametrize(
    "text",
    [
        'id eq "00g1emaKYZTWRYYRRTSK"',
        'type eq "OKTA_GROUP"',
        'type eq "OKTA_GROUP" and lastUpdated gt "2016-11-11T00:00:00.000Z"',
        'type eq "OKTA_GROUP" and (lastUpdated lt "2015-11-11T00:00:00.000Z" '
        'or lastMembershipUpdated lt "2015-11-11T00:00:00.000Z")',
    ],
)
def test_group_filter_accepts_okta_documented_expressions(text: str) -> None:
    assert_parsed_as_written(text, GROUP_FILTER_POLICY)


@pytest.mark.parametrize(
    "text", ['profile.name eq "x"', 'type sw "OKTA"', 'created gt "2016-11-11T00:00:00Z"']
)
def test_group_filter_refuses_the_rest(text: str) -> None:
    refusal(text, GROUP_FILTER_POLICY)


@pytest.mark.parametrize(
    "text",
    [
        'type eq "APP_GROUP"',
        'lastMembershipUpdated gt "2024-01-01T00:00:00.000Z"',
        'profile.name eq "West Coast users"',
        'profile.samAccountName sw "West Coast"',
        'profile.name co "coast" or profile.description co "west"',
        'type eq "APP_GROUP" and (created lt "2014-01-01T00:00:00.000Z" and id sw "00g")',
    ],
)
def test_group_search_accepts_okta_documented_expressions(text: str) -> None:
    assert_parsed_as_written(text, GROUP_SEARCH_POLICY)


@pytest.mark.parametrize(
    "text", ['profile.samAccountName co "West"', 'type ne "APP_GROUP"', 'status eq "ACTIVE"']
)
def test_group_search_refuses_the_rest(text: str) -> None:
    refusal(text, GROUP_SEARCH_POLICY)


@pytest.mark.parametrize(
    "text",
    [
        'eventType eq "user.session.start"',
        'eventType sw "user.authentication." and outcome.result eq "FAILURE"',
        'eventType co ".create"',
        'target.id eq "00u1" or actor.id ne "00u2"',
        'severity eq "WARN" and not (actor.alternateId sw "admin")',
        'published gt "2024-01-01T00:00:00Z" and client.ipAddress pr',
        'debugContext.debugData.requestUri co "/api/v1/users"',
        'transaction.id eq "abc" and uuid eq "0e2d"',
    ],
)
def test_log_filter_accepts_every_operator_and_not(text: str) -> None:
    assert_parsed_as_written(text, LOG_FILTER_POLICY)


@pytest.mark.parametrize("text", ['actor.detail.name eq "x"', 'profile.login eq "x"', 'published sw "2024"'])
def test_log_filter_refuses_unknown_paths(text: str) -> None:
    refusal(text, LOG_FILTER_POLICY)


def test_exact_attributes_win_over_patterns() -> None:
    assert USER_SEARCH_POLICY.rule_for("profile.email") is USER_SEARCH_POLICY.attributes["profile.email"]
    assert USER_SEARCH_POLICY.rule_for("profile.city") is USER_SEARCH_POLICY.patterns["profile.*"]
    assert USER_SEARCH_POLICY.rule_for("profile.") is None


# --- malformed input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("", "The test expression is empty."),
        ("   ", "The test expression is empty."),
        (
            "a eq",
            f"{EXPECTED_VALUE} at position 5, found end of input.",
        ),
        (
            "a",
            f"{EXPECTED_OPERATOR} after 'a' at position 2, found end of input.",
        ),
        (
            'a like "x"',
            f"{EXPECTED_OPERATOR} after 'a' at position 3, found 'like'.",
        ),
        ('a eq "x" and', "Expected an attribute name at position 13, found end of input."),
        ('a eq "x" or or b pr', "Expected an attribute name at position 13, found 'or'."),
        ('a eq "x" b pr', "Expected 'and', 'or' or end of input at position 10, found 'b'."),
        (
            '(a eq "x"',
            "Expected 'and', 'or' or ')' at position 10 to close the '(' at position 1, found end of input.",
        ),
        ('a eq "x")', "Expected 'and', 'or' or end of input at position 9, found ')'."),
        ("()", "Expected an attribute name at position 2, found ')'."),
        ('a = "x"', "Unexpected character '=' at position 3."),
        ("a eq 'x'", 'Unexpected character "\'" at position 6; strings take double quotes.'),
        (
            "a eq ACTIVE",
            f"{EXPECTED_VALUE} at position 6, found 'ACTIVE'.",
        ),
        ('profile. eq "x"', "Invalid attribute name 'profile.' at position 1."),
        ('profile..x eq "x"', "Invalid attribute name 'profile..x' at position 1."),
        ('"a" eq "x"', "Expected an attribute name at position 1, found '\"a\"'."),
        ("a eq 1e999", "Number 1e999 at position 6 is out of range."),
    ],
)
def test_malformed_input_is_refused_with_a_specific_cause(text: str, cause: str) -> None:
    assert refusal(text) == cause


# --- limits ---------------------------------------------------------------------------------


def test_input_up_to_the_byte_limit_is_accepted() -> None:
    text = 'a eq "' + "x" * (MAX_BYTES - 7) + '"'
    assert len(text.encode()) == MAX_BYTES
    parse(text)


def test_input_over_the_byte_limit_is_refused() -> None:
    text = 'a eq "' + "x" * (MAX_BYTES - 6) + '"'
    assert refusal(text) == f"The test expression is longer than {MAX_BYTES} bytes."


def test_the_byte_limit_counts_utf8_bytes() -> None:
    text = 'a eq "' + "é" * (MAX_BYTES // 2) + '"'
    assert len(text) < MAX_BYTES
    assert "longer than" in refusal(text)


def test_up_to_the_comparison_limit_is_accepted() -> None:
    tree = parse(" or ".join(["a pr"] * MAX_COMPARISONS))
    assert as_parsed(tree) == [("a", "pr", None)] * MAX_COMPARISONS


def test_more_comparisons_than_the_limit_are_refused() -> None:
    assert f"More than {MAX_COMPARISONS} comparisons" in refusal(
        " or ".join(["a pr"] * (MAX_COMPARISONS + 1))
    )


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert parse("(" * MAX_DEPTH + "a pr" + ")" * MAX_DEPTH) == Present("a")


def test_nesting_beyond_the_limit_is_refused() -> None:
    text = "(" * (MAX_DEPTH + 1) + "a pr" + ")" * (MAX_DEPTH + 1)
    assert refusal(text) == f"Parentheses at position {MAX_DEPTH + 1} nest deeper than {MAX_DEPTH} levels."


def test_not_counts_towards_nesting() -> None:
    refusal("not (" * (MAX_DEPTH + 1) + "a pr" + ")" * (MAX_DEPTH + 1))


def test_deep_unbalanced_input_is_refused_without_recursion_errors() -> None:
    refusal("(" * 2000)
