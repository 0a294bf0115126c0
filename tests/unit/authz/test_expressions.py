"""Okta Expression Language: references, literals, operators, functions, refusals, group filters."""

from __future__ import annotations

import pytest

from ostiary.domain.authz.expressions import (
    FUNCTION_NAMES,
    MAX_DEPTH,
    MAX_REGEX_LENGTH,
    MAX_REGEX_SUBJECT_LENGTH,
    MAX_SOURCE_LENGTH,
    EvalContext,
    ExpressionError,
    ExpressionEvaluationError,
    GroupRef,
    filter_groups,
    parse_expression,
    validate_group_filter,
)
from ostiary.domain.errors import Invalid

SILVER = GroupRef("00gSilver", "silverSubscribers")
GOLD = GroupRef("00gGold", "goldSubscribers")
EVERYONE = GroupRef("00gEveryone", "Everyone")
AD_EAST = GroupRef("00gAdEast", "Eastern-Region", source="active_directory")

CTX = EvalContext(
    user={
        "id": "00u1",
        "status": "ACTIVE",
        "login": "carl.sagan@example.com",
        "email": "carl.sagan@example.com",
        "firstName": "Carl",
        "lastName": "Sagan",
        "nickName": None,
        "employeeNumber": 42,
        "tags": ("astronomy", "cosmos"),
    },
    app={"id": "0oa1", "clientId": "0oa1", "name": "oidc_client"},
    appuser={"role": "viewer"},
    org={"name": "Acme", "subdomain": "acme"},
    groups=(SILVER, GOLD, EVERYONE, AD_EAST),
)


def ev(source: str, ctx: EvalContext = CTX) -> object:
    return parse_expression(source).evaluate(ctx)


def refusal(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(source)
    return caught.value


def evaluation_error(source: str, ctx: EvalContext = CTX) -> ExpressionEvaluationError:
    expression = parse_expression(source)
    with pytest.raises(ExpressionEvaluationError) as caught:
        expression.evaluate(ctx)
    return caught.value


# --- references -----------------------------------------------------------------------------


def test_user_attribute_reads_the_user_profile() -> None:
    assert ev("user.firstName") == "Carl"


def test_user_profile_prefix_reads_the_same_attribute() -> None:
    assert ev("user.profile.lastName") == "Sagan"


@pytest.mark.parametrize(
    ("source", "expected"),
    [("app.clientId", "0oa1"), ("appuser.role", "viewer"), ("org.name", "Acme"), ("org.subdomain", "acme")],
)
def test_app_appuser_and_org_attributes_are_readable(source: str, expected: str) -> None:
    assert ev(source) == expected


def test_missing_attribute_is_null() -> None:
    assert ev("user.middleName") is None


def test_array_attribute_reads_as_a_list() -> None:
    assert ev("user.tags") == ["astronomy", "cosmos"]


def test_get_internal_property_reads_the_user_id() -> None:
    assert ev('user.getInternalProperty("id")') == "00u1"


def test_a_parsed_expression_evaluates_against_each_context() -> None:
    expression = parse_expression("user.firstName")
    assert expression.evaluate(EvalContext(user={"firstName": "Ann"})) == "Ann"
    assert expression.evaluate(EvalContext(user={"firstName": "Bob"})) == "Bob"
    assert expression.source == "user.firstName"


# --- literals -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["'driving!'", '"driving!"'])
def test_strings_take_either_quote(source: str) -> None:
    assert ev(source) == "driving!"


def test_backslash_escapes_quotes_and_control_characters() -> None:
    assert ev(r'"say \"hi\"\n\t\\"') == 'say "hi"\n\t\\'


def test_doubled_quote_stands_for_itself() -> None:
    assert ev("'it''s'") == "it's"


def test_unknown_escape_keeps_its_backslash_for_regexes() -> None:
    assert ev(r'"\d+\."') == r"\d+\."


def test_unicode_escape_gives_the_character() -> None:
    assert ev(r'"\u00e9"') == "é"


@pytest.mark.parametrize(("source", "expected"), [("42", 42), ("3.25", 3.25), ("-7", -7)])
def test_numbers_are_integers_or_decimals(source: str, expected: float) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"), [("true", True), ("FALSE", False), ("null", None), ("Null", None)]
)
def test_constants_are_case_insensitive_keywords(source: str, expected: object) -> None:
    assert ev(source) is expected


def test_inline_array_lists_its_elements() -> None:
    assert ev("{\"a\", 'b', 1}") == ["a", "b", 1]


def test_empty_inline_array_is_an_empty_list() -> None:
    assert ev("{}") == []


# --- operators ------------------------------------------------------------------------------


def test_plus_concatenates_strings() -> None:
    assert ev('user.firstName + " " + user.lastName') == "Carl Sagan"


def test_plus_adds_two_numbers() -> None:
    assert ev("user.employeeNumber + 8") == 50


def test_plus_works_left_to_right_like_java() -> None:
    assert ev('1 + 2 + "a"') == "3a"
    assert ev('"a" + 1 + 2') == "a12"


def test_concatenation_treats_null_as_empty() -> None:
    assert ev('"<" + user.nickName + user.middleName + ">"') == "<>"


def test_concatenation_writes_booleans_like_java() -> None:
    assert ev('"admin=" + true') == "admin=true"


def test_minus_subtracts_numbers() -> None:
    assert ev("10 - 3 - 2") == 5


def test_unary_minus_negates_an_expression() -> None:
    assert ev("-(user.employeeNumber)") == -42


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 == 1", True),
        ("1 == 1.0", True),
        ("'a' != 'b'", True),
        ("user.nickName == null", True),
        ("2 < 3", True),
        ("3 > 2", True),
        ("2 <= 2", True),
        ("2 >= 3", False),
        ("'abc' < 'abd'", True),
        ("{'a'} == {'a'}", True),
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    assert ev(source) is expected


def test_a_boolean_never_equals_a_number() -> None:
    assert ev("true == 1") is False


@pytest.mark.parametrize("operator", ["AND", "and", "&&"])
def test_and_spellings(operator: str) -> None:
    assert ev(f"true {operator} false") is False


@pytest.mark.parametrize("operator", ["OR", "or", "||"])
def test_or_spellings(operator: str) -> None:
    assert ev(f"false {operator} true") is True


def test_not_negates_a_boolean() -> None:
    assert ev("!false") is True


def test_and_binds_tighter_than_or() -> None:
    assert ev("true or false and false") is True
    assert ev("(true or false) and false") is False


def test_comparison_binds_tighter_than_and() -> None:
    assert ev("1 < 2 && 3 > 2") is True


def test_plus_binds_tighter_than_comparison() -> None:
    assert ev("1 + 1 == 2") is True


def test_not_binds_tighter_than_and() -> None:
    assert ev("!false and false") is False


def test_ternary_picks_the_branch_its_condition_names() -> None:
    assert ev('isMemberOfGroupName("goldSubscribers") ? "gold" : "silver"') == "gold"
    assert ev('isMemberOfGroupName("platinum") ? "platinum" : "silver"') == "silver"


def test_ternary_in_the_else_branch_nests_to_the_right() -> None:
    assert ev("false ? 'a' : true ? 'b' : 'c'") == "b"


def test_ternary_in_the_then_branch_needs_no_parentheses() -> None:
    assert ev("true ? false ? 'a' : 'b' : 'c'") == "b"


def test_ternary_binds_looser_than_or() -> None:
    assert ev("false or true ? 'yes' : 'no'") == "yes"


def test_and_short_circuits_past_a_type_error() -> None:
    assert ev("false and (user.firstName - 1 == 0)") is False


def test_or_short_circuits_past_a_type_error() -> None:
    assert ev("true or (user.firstName - 1 == 0)") is True


def test_null_condition_counts_as_false() -> None:
    assert ev("user.middleName ? 'set' : 'unset'") == "unset"


def test_a_long_flat_concatenation_is_not_too_deep() -> None:
    source = " + ".join(["'x'"] * 150)
    assert ev(source) == "x" * 150


# --- String functions -----------------------------------------------------------------------


def test_to_upper_case() -> None:
    assert ev("String.toUpperCase(user.firstName)") == "CARL"


def test_to_lower_case() -> None:
    assert ev("String.toLowerCase(user.lastName)") == "sagan"


def test_string_functions_return_null_for_null() -> None:
    assert ev("String.toUpperCase(user.middleName)") is None


def test_string_functions_take_numbers_as_text() -> None:
    assert ev("String.len(user.employeeNumber)") == 2


def test_substring_takes_start_and_end() -> None:
    assert ev('String.substring("astronomy", 0, 5)') == "astro"


def test_substring_clamps_indexes_to_the_string() -> None:
    assert ev('String.substring("abc", 1, 99)') == "bc"


def test_substring_counts_negative_indexes_from_the_end() -> None:
    assert ev('String.substring("abcdef", -3, 6)') == "def"


def test_substring_of_the_last_characters_like_oktas_example() -> None:
    assert ev("String.substring(user.email, String.len(user.email) - 3, String.len(user.email))") == "com"


def test_substring_before() -> None:
    assert ev('String.substringBefore(user.email, "@")') == "carl.sagan"


def test_substring_before_a_missing_separator_is_the_whole_string() -> None:
    assert ev('String.substringBefore("abc", "@")') == "abc"


def test_substring_after() -> None:
    assert ev('String.substringAfter(user.email, "@")') == "example.com"


def test_substring_after_a_missing_separator_is_empty() -> None:
    assert ev('String.substringAfter("abc", "@")') == ""


def test_string_contains() -> None:
    assert ev('String.stringContains("This is a test", "test")') is True
    assert ev('String.stringContains("This is a test", "doesn\'tExist")') is False


def test_string_contains_is_false_for_null() -> None:
    assert ev('String.stringContains(user.middleName, "a")') is False


def test_starts_with() -> None:
    assert ev('String.startsWith(user.login, "carl")') is True
    assert ev('String.startsWith(user.login, "sagan")') is False


def test_len_counts_characters() -> None:
    assert ev('String.len("This")') == 4


def test_len_of_null_is_zero() -> None:
    assert ev("String.len(user.middleName)") == 0


def test_replace_replaces_every_regex_match() -> None:
    assert ev('String.replace("This is a test", "is", "at")') == "That at a test"


def test_replace_uses_java_group_references() -> None:
    assert ev(r'String.replace("carl.sagan", "(\w+)\.(\w+)", "$2, $1")') == "sagan, carl"


def test_replace_first_replaces_only_the_first_match() -> None:
    assert ev('String.replaceFirst("This is a test", "is", "at")') == "That is a test"


def test_replace_on_null_is_null() -> None:
    assert ev('String.replace(user.middleName, "a", "b")') is None


def test_remove_spaces() -> None:
    assert ev('String.removeSpaces("This is a test")') == "Thisisatest"


def test_append() -> None:
    assert ev('String.append("This is", " a test")') == "This is a test"


def test_join_uses_the_separator() -> None:
    assert ev('String.join(",", "This", "is", "a", "test")') == "This,is,a,test"


def test_join_spreads_an_array_argument() -> None:
    assert ev('String.join("|", {"a", "b"}, "c")') == "a|b|c"


def test_string_switch_returns_the_first_contained_key_value() -> None:
    source = 'String.stringSwitch("First match wins", "d", "absent", "v1", "wins", "v2", "match", "v3")'
    assert ev(source) == "v2"


def test_string_switch_falls_back_to_the_default() -> None:
    assert ev('String.stringSwitch("This is a test", "default", "key1", "value1")') == "default"


# --- Arrays functions -----------------------------------------------------------------------


def test_arrays_contains() -> None:
    assert ev('Arrays.contains({"a", "b"}, "b")') is True
    assert ev('Arrays.contains({"a", "b"}, "c")') is False


def test_arrays_is_empty() -> None:
    assert ev("Arrays.isEmpty({})") is True
    assert ev('Arrays.isEmpty({"a"})') is False


def test_arrays_is_empty_treats_null_and_empty_string_as_empty() -> None:
    assert ev("Arrays.isEmpty(user.roles)") is True
    assert ev('Arrays.isEmpty("")') is True


def test_arrays_size() -> None:
    assert ev('Arrays.size({"a", "b", "c"})') == 3


def test_arrays_add_appends() -> None:
    assert ev('Arrays.add({"a"}, "b")') == ["a", "b"]


def test_arrays_remove_drops_the_first_equal_element() -> None:
    assert ev('Arrays.remove({"a", "b", "a"}, "a")') == ["b", "a"]


def test_arrays_to_csv_string() -> None:
    assert ev('Arrays.toCsvString({"This is", " a test"})') == "This is, a test"


def test_arrays_flatten_merges_arrays() -> None:
    assert ev('Arrays.flatten({"a"}, {"b", "c"}, "d")') == ["a", "b", "c", "d"]


def test_arrays_functions_read_array_attributes() -> None:
    assert ev('Arrays.contains(user.tags, "cosmos")') is True


# --- group functions ------------------------------------------------------------------------


def test_is_member_of_group_name() -> None:
    assert ev('isMemberOfGroupName("silverSubscribers")') is True
    assert ev('isMemberOfGroupName("platinumSubscribers")') is False


def test_is_member_of_group_name_ignores_case() -> None:
    assert ev('isMemberOfGroupName("SILVERSUBSCRIBERS")') is True


def test_is_member_of_group_by_id() -> None:
    assert ev('isMemberOfGroup("00gGold")') is True
    assert ev('isMemberOfGroup("00gOther")') is False


def test_is_member_of_any_group() -> None:
    assert ev('isMemberOfAnyGroup("00gNope", "00gGold")') is True
    assert ev('isMemberOfAnyGroup("00gNope", "00gOther")') is False


def test_is_member_of_group_name_starts_with() -> None:
    assert ev('isMemberOfGroupNameStartsWith("gold")') is True
    assert ev('isMemberOfGroupNameStartsWith("Subscribers")') is False


def test_is_member_of_group_name_contains() -> None:
    assert ev('isMemberOfGroupNameContains("Subscri")') is True
    assert ev('isMemberOfGroupNameContains("platinum")') is False


def test_is_member_of_group_name_regex_matches_whole_names() -> None:
    assert ev('isMemberOfGroupNameRegex("(silver|gold)Subscribers")') is True
    assert ev('isMemberOfGroupNameRegex("gold")') is False


def test_groups_starts_with_lists_matching_okta_group_names() -> None:
    assert ev('Groups.startsWith("OKTA", "silver", 100)') == ["silverSubscribers"]


def test_groups_contains_lists_matching_names_in_order() -> None:
    assert ev('Groups.contains("OKTA", "subscribers", 100)') == ["silverSubscribers", "goldSubscribers"]


def test_groups_ends_with() -> None:
    assert ev('Groups.endsWith("OKTA", "one", 100)') == ["Everyone"]


def test_groups_functions_stop_at_the_limit() -> None:
    assert ev('Groups.contains("OKTA", "s", 1)') == ["silverSubscribers"]


def test_groups_functions_filter_by_app_source() -> None:
    assert ev('Groups.contains("active_directory", "region", 10)') == ["Eastern-Region"]
    assert ev('Groups.contains("OKTA", "region", 10)') == []


def test_groups_functions_with_null_app_search_every_source() -> None:
    assert ev('Groups.endsWith(null, "Region", 10)') == ["Eastern-Region"]


def test_groups_claim_pattern_from_oktas_support_article() -> None:
    source = (
        'Arrays.isEmpty(Arrays.toCsvString(Groups.startsWith("OKTA", "platinum", 100))) ? {} '
        ': Groups.startsWith("OKTA", "platinum", 100)'
    )
    assert ev(source) == []


# --- evaluation errors ----------------------------------------------------------------------


def test_concatenating_an_array_is_an_evaluation_error() -> None:
    assert "array" in evaluation_error('{"a"} + "x"').message


def test_minus_on_a_string_is_an_evaluation_error() -> None:
    assert "'-' needs two numbers" in evaluation_error("user.firstName - 1").message


def test_ordering_a_string_against_a_number_is_an_evaluation_error() -> None:
    assert "cannot compare string with number" in evaluation_error("user.firstName > 3").message


def test_a_non_boolean_condition_is_an_evaluation_error() -> None:
    assert "needs a boolean" in evaluation_error("'yes' ? 1 : 2").message


def test_a_function_error_names_the_function() -> None:
    assert evaluation_error('String.toUpperCase({"a"})').message.startswith("String.toUpperCase:")


def test_a_group_limit_computed_out_of_range_is_an_evaluation_error() -> None:
    error = evaluation_error('Groups.startsWith("OKTA", "s", user.employeeNumber + 100)')
    assert "from 1 to 100" in error.message


def test_a_regex_is_not_run_on_a_long_input() -> None:
    ctx = EvalContext(user={"bio": "x" * (MAX_REGEX_SUBJECT_LENGTH + 1)})
    assert "Regex input longer" in evaluation_error('String.replace(user.bio, "x", "y")', ctx).message


def test_a_regex_from_data_is_checked_at_evaluation() -> None:
    ctx = EvalContext(user={"pattern": "(?=a)"})
    assert "lookaround" in evaluation_error('String.replace("aaa", user.pattern, "")', ctx).message


def test_string_results_are_capped() -> None:
    source = 'String.replace("' + "a" * 200 + '", "", "' + "b" * 400 + '")'
    assert "longer than" in evaluation_error(source).message


def test_evaluation_error_is_a_domain_error_not_a_crash() -> None:
    error = evaluation_error("user.firstName - 1")
    assert not isinstance(error, Invalid)


# --- refusals at parse time -----------------------------------------------------------------


def test_refusal_is_invalid_with_okta_code_and_position() -> None:
    error = refusal("String.nope(user.email)")
    assert isinstance(error, Invalid)
    assert error.code == "E0000001"
    assert error.position == 1
    assert error.causes == [error.message]


def test_unknown_function_is_refused() -> None:
    assert "Unknown function 'String.nope'" in refusal("String.nope(user.email)").message


def test_unknown_root_is_refused() -> None:
    error = refusal("1 + foo.bar")
    assert "Unknown reference 'foo.bar'" in error.message
    assert error.position == 5


def test_bare_identifier_is_refused() -> None:
    assert "Unknown reference 'email'" in refusal("email").message


def test_bare_root_is_refused() -> None:
    assert "Unsupported reference 'user'" in refusal("user").message


def test_nested_attribute_path_is_refused() -> None:
    assert "Unsupported reference 'user.address.city'" in refusal("user.address.city").message


def test_method_call_on_a_reference_is_refused() -> None:
    assert "Unknown function 'user.isMemberOf'" in refusal("user.isMemberOf({'group.id': '00g1'})").message


def test_unterminated_string_is_refused() -> None:
    error = refusal('user.firstName + "abc')
    assert "Unterminated string literal" in error.message
    assert error.position == 18


def test_too_few_arguments_are_refused() -> None:
    error = refusal("String.substringBefore(user.email)")
    assert "String.substringBefore takes 2 arguments, got 1" in error.message


def test_too_many_arguments_are_refused() -> None:
    assert "String.len takes 1 argument, got 2" in refusal('String.len("a", "b")').message


def test_a_range_of_arguments_is_named_in_the_refusal() -> None:
    error = refusal('String.substring("a", 1, 2, 3)')
    assert "String.substring takes 2 to 3 arguments, got 4" in error.message


def test_variadic_function_needs_its_minimum() -> None:
    assert "String.join takes at least 2 arguments, got 1" in refusal('String.join(",")').message


def test_too_long_expression_is_refused() -> None:
    assert "longer than 1024" in refusal("'" + "x" * MAX_SOURCE_LENGTH + "'").message


def test_expression_at_the_length_limit_is_accepted() -> None:
    assert ev("'" + "x" * (MAX_SOURCE_LENGTH - 2) + "'") == "x" * (MAX_SOURCE_LENGTH - 2)


def test_too_deep_parentheses_are_refused() -> None:
    depth = MAX_DEPTH
    assert "nested deeper than" in refusal("(" * depth + "1" + ")" * depth).message


def test_nesting_at_the_depth_limit_is_accepted() -> None:
    depth = MAX_DEPTH - 1
    assert ev("(" * depth + "1" + ")" * depth) == 1


def test_too_deep_unary_chain_is_refused() -> None:
    assert "nested deeper than" in refusal("!" * (MAX_DEPTH + 1) + "true").message


def test_too_deep_function_nesting_is_refused() -> None:
    source = "String.toUpperCase(" * MAX_DEPTH + "'a'" + ")" * MAX_DEPTH
    assert "nested deeper than" in refusal(source).message


def test_single_equals_is_refused_with_a_hint() -> None:
    assert "use '==' to compare" in refusal("user.firstName = 'Carl'").message


def test_unexpected_character_is_refused() -> None:
    assert "Unexpected character '#'" in refusal("user.firstName # 1").message


def test_square_bracket_arrays_are_refused() -> None:
    assert "Unexpected character '['" in refusal('["a"]').message


def test_trailing_tokens_are_refused() -> None:
    assert "Unexpected 'user'" in refusal("'a' user.firstName").message


def test_missing_operand_is_refused() -> None:
    assert "Unexpected end of expression" in refusal("user.firstName +").message


def test_missing_closing_parenthesis_is_refused() -> None:
    assert "Expected ')'" in refusal('String.len("a"').message


def test_ternary_without_colon_is_refused() -> None:
    assert "Expected ':'" in refusal("true ? 'a'").message


def test_malformed_number_is_refused() -> None:
    assert "Malformed number" in refusal("12abc").message


def test_empty_expression_is_refused() -> None:
    assert "empty" in refusal("   ").message


@pytest.mark.parametrize("limit", ["0", "101", "'ten'"])
def test_literal_group_limit_outside_1_to_100_is_refused(limit: str) -> None:
    assert "from 1 to 100" in refusal(f'Groups.startsWith("OKTA", "x", {limit})').message


def test_invalid_literal_regex_is_refused() -> None:
    assert "Invalid regex" in refusal('isMemberOfGroupNameRegex("[a-")').message


def test_nested_quantifier_regex_runs_in_linear_time() -> None:
    assert ev(r'String.replace("carl sagan x", "(\w+\s?)+$", "-")') == "-"


def test_quantified_alternation_regex_runs() -> None:
    assert ev('isMemberOfGroupNameRegex("(a|aa)*b")') is False


def test_regex_with_many_unbounded_quantifiers_runs() -> None:
    assert ev('isMemberOfGroupNameRegex(".*l.*d.*S.*s")') is True


def test_backreference_regex_is_refused() -> None:
    assert "backreferences" in refusal(r'isMemberOfGroupNameRegex("(a)\\1")').message


def test_regex_quantifiers_inside_character_classes_do_not_count() -> None:
    assert ev('isMemberOfGroupNameRegex("[*+]*gold[*+]*Subscribers")') is True


def test_too_long_regex_is_refused() -> None:
    pattern = "a" * (MAX_REGEX_LENGTH + 1)
    assert "Regex longer than" in refusal(f'isMemberOfGroupNameRegex("{pattern}")').message


def test_replacement_naming_a_missing_group_is_refused() -> None:
    assert "no group 2" in refusal('String.replace(user.email, "(a)", "$2")').message


def test_string_switch_with_an_unpaired_key_is_refused() -> None:
    assert "key/value pairs" in refusal('String.stringSwitch(user.email, "d", "k1", "v1", "k2")').message


def test_every_listed_function_is_known() -> None:
    listed = {
        "String.toUpperCase",
        "String.toLowerCase",
        "String.substring",
        "String.substringBefore",
        "String.substringAfter",
        "String.stringContains",
        "String.startsWith",
        "String.len",
        "String.replace",
        "String.removeSpaces",
        "String.append",
        "String.join",
        "Arrays.contains",
        "Arrays.isEmpty",
        "Arrays.size",
        "Arrays.add",
        "Arrays.remove",
        "Arrays.toCsvString",
        "isMemberOfGroupName",
        "isMemberOfGroup",
        "isMemberOfAnyGroup",
        "isMemberOfGroupNameStartsWith",
        "isMemberOfGroupNameContains",
        "isMemberOfGroupNameRegex",
        "Groups.startsWith",
        "Groups.contains",
        "Groups.endsWith",
    }
    assert listed <= FUNCTION_NAMES


# --- group filters (valueType GROUPS) -------------------------------------------------------

GROUPS = (SILVER, GOLD, EVERYONE, GroupRef("00gGoldAdmins", "Gold-Admins"))


def test_starts_with_filter_ignores_case() -> None:
    assert filter_groups(GROUPS, "STARTS_WITH", "GOLD") == ["goldSubscribers", "Gold-Admins"]


def test_equals_filter_ignores_case() -> None:
    assert filter_groups(GROUPS, "EQUALS", "everyone") == ["Everyone"]


def test_contains_filter_ignores_case() -> None:
    assert filter_groups(GROUPS, "CONTAINS", "SUBSCRIBERS") == ["silverSubscribers", "goldSubscribers"]


def test_regex_filter_must_match_the_whole_name() -> None:
    assert filter_groups(GROUPS, "REGEX", "gold") == []
    assert filter_groups(GROUPS, "REGEX", "gold.*") == ["goldSubscribers"]


def test_regex_filter_is_case_sensitive_unless_asked() -> None:
    assert filter_groups(GROUPS, "REGEX", "(?i)gold.*") == ["goldSubscribers", "Gold-Admins"]


def test_regex_filter_dot_star_lists_every_group() -> None:
    assert filter_groups(GROUPS, "REGEX", ".*") == [group.name for group in GROUPS]


def test_unknown_filter_type_is_refused() -> None:
    with pytest.raises(ExpressionError, match="group_filter_type must be one of"):
        validate_group_filter("ENDS_WITH", "x")


def test_invalid_filter_regex_is_refused() -> None:
    with pytest.raises(ExpressionError, match="Invalid regex"):
        validate_group_filter("REGEX", "(unclosed")


def test_nested_quantifier_filter_regex_is_accepted() -> None:
    validate_group_filter("REGEX", "(a*)*$")
    assert filter_groups(GROUPS, "REGEX", "(g(o*)*l*d*)*Subscribers") == ["goldSubscribers"]


def test_lookaround_filter_regex_is_refused() -> None:
    with pytest.raises(ExpressionError, match="lookaround"):
        validate_group_filter("REGEX", "(?!gold).*")


@pytest.mark.parametrize("filter_type", ["STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"])
def test_valid_filters_pass_validation(filter_type: str) -> None:
    validate_group_filter(filter_type, "gold")
