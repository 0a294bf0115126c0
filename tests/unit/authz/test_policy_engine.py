"""Access-policy evaluation: the API Center seed scenario, Okta's ordering rules, traces, scopes."""

from __future__ import annotations

import dataclasses

import pytest

from ostiary.domain.authz.policy_engine import (
    ACCESS_DENIED,
    ALL_CLIENTS,
    EVERYONE,
    INVALID_SCOPE,
    NO_SCOPE,
    POLICY_DENIED,
    UNKNOWN_SCOPE,
    CompiledPolicySet,
    PolicyScopeError,
    PolicyView,
    RuleView,
    ScopeInfo,
    TokenRequest,
    TraceStep,
    resolve_requested_scopes,
)
from ostiary.domain.errors import Invalid

SILVER_SCOPE = "http://myapp.com/scp/silver"
GOLD_SCOPE = "http://myapp.com/scp/gold"
OIDC = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})
BROWSER_GRANTS = frozenset({"authorization_code", "implicit"})

SILVER_GROUP = "00gSilver"
GOLD_GROUP = "00gGold"
EVERYONE_GROUP = "00gEveryone"
SILVER_USER = "00uSilver"
GOLD_USER = "00uGold"
WEB_APP = "0oaWebApp"
SERVICE_APP = "0oaService"

SILVER_RULE = RuleView(
    "0prSilver",
    "silver",
    1,
    True,
    groups_include=frozenset({SILVER_GROUP}),
    grant_types=BROWSER_GRANTS,
    scopes=OIDC | {SILVER_SCOPE},
    access_token_lifetime_minutes=60,
    refresh_token_lifetime_minutes=0,
    refresh_token_window_minutes=10080,
)
GOLD_RULE = RuleView(
    "0prGold",
    "gold",
    2,
    True,
    groups_include=frozenset({GOLD_GROUP}),
    grant_types=BROWSER_GRANTS,
    scopes=OIDC | {SILVER_SCOPE, GOLD_SCOPE},
    access_token_lifetime_minutes=30,
    refresh_token_lifetime_minutes=1440,
    refresh_token_window_minutes=60,
)
SERVICE_RULE = RuleView(
    "0prService",
    "service",
    1,
    True,
    grant_types=frozenset({"client_credentials"}),
    scopes=frozenset({SILVER_SCOPE, GOLD_SCOPE}),
    access_token_lifetime_minutes=5,
)
API_CENTER = PolicyView(
    "00pApiCenter", "API Center", 1, True, frozenset({ALL_CLIENTS}), (SILVER_RULE, GOLD_RULE)
)
SERVICES = PolicyView("00pServices", "Services", 2, True, frozenset({SERVICE_APP}), (SERVICE_RULE,))
SEED = CompiledPolicySet([API_CENTER, SERVICES])


def user_request(
    user_id: str,
    groups: set[str],
    *scopes: str,
    grant_type: str = "authorization_code",
    client_id: str = WEB_APP,
) -> TokenRequest:
    return TokenRequest(client_id, user_id, frozenset(groups | {EVERYONE_GROUP}), grant_type, scopes)


def service_request(*scopes: str, client_id: str = SERVICE_APP) -> TokenRequest:
    return TokenRequest(client_id, None, frozenset(), "client_credentials", scopes)


def reasons(trace: tuple[TraceStep, ...]) -> list[tuple[str, str | None, bool, str]]:
    return [(step.policy_id, step.rule_id, step.matched, step.reason) for step in trace]


def rule(rule_id: str, priority: int = 1, **changes: object) -> RuleView:
    base = RuleView(rule_id, rule_id, priority, True, grant_types=BROWSER_GRANTS, scopes=frozenset({"*"}))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def policy(policy_id: str, *rules: RuleView, priority: int = 1, **changes: object) -> PolicyView:
    base = PolicyView(policy_id, policy_id, priority, True, frozenset({ALL_CLIENTS}), rules)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def decide(request: TokenRequest, *policies: PolicyView) -> str | None:
    return CompiledPolicySet(policies).evaluate(request).rule_id


ANYONE = user_request("00uAnyone", set(), "openid")


# --- the API Center seed scenario -----------------------------------------------------------


def test_silver_user_asking_silver_is_granted_by_the_silver_rule() -> None:
    decision = SEED.evaluate(user_request(SILVER_USER, {SILVER_GROUP}, "openid", SILVER_SCOPE))
    assert decision.granted
    assert (decision.policy_id, decision.rule_id) == ("00pApiCenter", "0prSilver")
    assert decision.scopes == ("openid", SILVER_SCOPE)
    assert decision.error is None


def test_silver_user_asking_gold_is_denied_with_oktas_description() -> None:
    decision = SEED.evaluate(user_request(SILVER_USER, {SILVER_GROUP}, "openid", GOLD_SCOPE))
    assert not decision.granted
    assert decision.error == "access_denied"
    assert decision.error_description == (
        "Policy evaluation failed for this request, please check the policy configurations."
    )
    assert (decision.policy_id, decision.rule_id, decision.scopes) == (None, None, ())


def test_gold_user_asking_silver_and_gold_is_granted_by_the_gold_rule() -> None:
    decision = SEED.evaluate(user_request(GOLD_USER, {GOLD_GROUP}, "openid", SILVER_SCOPE, GOLD_SCOPE))
    assert decision.granted
    assert decision.rule_id == "0prGold"
    assert decision.scopes == ("openid", SILVER_SCOPE, GOLD_SCOPE)


def test_seed_rules_allow_the_implicit_grant() -> None:
    request = user_request(SILVER_USER, {SILVER_GROUP}, "openid", SILVER_SCOPE, grant_type="implicit")
    assert SEED.evaluate(request).rule_id == "0prSilver"


def test_service_app_gets_client_credentials_from_its_policy() -> None:
    decision = SEED.evaluate(service_request(GOLD_SCOPE))
    assert decision.granted
    assert (decision.policy_id, decision.rule_id) == ("00pServices", "0prService")
    assert decision.access_token_lifetime_minutes == 5


def test_another_client_cannot_use_the_service_policy() -> None:
    decision = SEED.evaluate(service_request(GOLD_SCOPE, client_id=WEB_APP))
    assert decision.error == ACCESS_DENIED
    assert ("00pServices", None, False, f"client {WEB_APP} is not assigned to this policy") in reasons(
        decision.trace
    )


def test_a_grant_type_the_rules_do_not_list_is_denied() -> None:
    request = user_request(SILVER_USER, {SILVER_GROUP}, "openid", SILVER_SCOPE, grant_type="password")
    assert not SEED.evaluate(request).granted


def test_a_user_in_neither_group_is_denied() -> None:
    assert not SEED.evaluate(user_request("00uNobody", set(), "openid")).granted


# --- decisions ------------------------------------------------------------------------------


def test_lifetimes_come_from_the_winning_rule() -> None:
    decision = SEED.evaluate(user_request(GOLD_USER, {GOLD_GROUP}, "openid", GOLD_SCOPE))
    assert decision.access_token_lifetime_minutes == 30
    assert decision.refresh_token_lifetime_minutes == 1440
    assert decision.refresh_token_window_minutes == 60


def test_a_zero_refresh_lifetime_means_unlimited() -> None:
    decision = SEED.evaluate(user_request(SILVER_USER, {SILVER_GROUP}, "openid"))
    assert decision.refresh_token_lifetime_minutes is None


def test_denial_has_no_lifetimes() -> None:
    decision = SEED.evaluate(user_request("00uNobody", set(), "openid"))
    assert decision.access_token_lifetime_minutes is None
    assert decision.refresh_token_window_minutes is None


def test_granted_scopes_are_the_requested_ones_once_each_in_order() -> None:
    decision = SEED.evaluate(user_request(SILVER_USER, {SILVER_GROUP}, SILVER_SCOPE, "openid", SILVER_SCOPE))
    assert decision.scopes == (SILVER_SCOPE, "openid")


# --- Okta's ordering ------------------------------------------------------------------------


def test_rules_are_tried_in_priority_order_not_list_order() -> None:
    assert decide(ANYONE, policy("00p1", rule("second", 2), rule("first", 1))) == "first"


def test_policies_are_tried_in_priority_order_not_list_order() -> None:
    later = policy("00pLater", rule("fromLater"), priority=2)
    earlier = policy("00pEarlier", rule("fromEarlier"), priority=1)
    assert decide(ANYONE, later, earlier) == "fromEarlier"


def test_equal_priorities_keep_the_given_order() -> None:
    assert decide(ANYONE, policy("00p1", rule("a", 1), rule("b", 1))) == "a"


def test_no_matching_rule_falls_through_to_the_next_policy() -> None:
    first = policy("00pFirst", rule("passwordOnly", grant_types=frozenset({"password"})), priority=1)
    second = policy("00pSecond", rule("fallback"), priority=2)
    decision = CompiledPolicySet([first, second]).evaluate(ANYONE)
    assert (decision.policy_id, decision.rule_id) == ("00pSecond", "fallback")


def test_inactive_rule_is_skipped() -> None:
    assert decide(ANYONE, policy("00p1", rule("off", 1, active=False), rule("on", 2))) == "on"


def test_inactive_policy_is_skipped() -> None:
    off = policy("00pOff", rule("inOff"), priority=1, active=False)
    on = policy("00pOn", rule("inOn"), priority=2)
    assert decide(ANYONE, off, on) == "inOn"


def test_no_policies_deny() -> None:
    assert CompiledPolicySet([]).evaluate(ANYONE).error == ACCESS_DENIED


# --- conditions -----------------------------------------------------------------------------


def test_client_condition_matches_a_listed_client() -> None:
    listed = policy("00p1", rule("r"), clients_include=frozenset({WEB_APP}))
    assert decide(ANYONE, listed) == "r"


def test_client_condition_refuses_an_unlisted_client() -> None:
    listed = policy("00p1", rule("r"), clients_include=frozenset({"0oaOther"}))
    assert decide(ANYONE, listed) is None


def test_empty_client_condition_matches_no_client() -> None:
    assert decide(ANYONE, policy("00p1", rule("r"), clients_include=frozenset())) is None


def test_rule_without_people_includes_matches_any_user() -> None:
    assert decide(ANYONE, policy("00p1", rule("r"))) == "r"


def test_everyone_group_alias_matches_any_user() -> None:
    assert decide(ANYONE, policy("00p1", rule("r", groups_include=frozenset({EVERYONE})))) == "r"


def test_included_user_matches_without_an_included_group() -> None:
    people = rule("r", users_include=frozenset({"00uAnyone"}), groups_include=frozenset({GOLD_GROUP}))
    assert decide(ANYONE, policy("00p1", people)) == "r"


def test_member_of_an_included_group_matches() -> None:
    request = user_request("00u1", {GOLD_GROUP}, "openid")
    assert (
        decide(request, policy("00p1", rule("r", groups_include=frozenset({SILVER_GROUP, GOLD_GROUP}))))
        == "r"
    )


def test_excluded_user_does_not_match_even_in_an_included_group() -> None:
    request = user_request("00u1", {GOLD_GROUP}, "openid")
    people = rule("r", groups_include=frozenset({GOLD_GROUP}), users_exclude=frozenset({"00u1"}))
    assert decide(request, policy("00p1", people)) is None


def test_member_of_an_excluded_group_does_not_match() -> None:
    request = user_request("00u1", {GOLD_GROUP}, "openid")
    assert decide(request, policy("00p1", rule("r", groups_exclude=frozenset({GOLD_GROUP})))) is None


def test_client_credentials_ignores_people_conditions() -> None:
    people = rule(
        "r",
        grant_types=frozenset({"client_credentials"}),
        users_include=frozenset({"00u1"}),
        groups_exclude=frozenset({EVERYONE_GROUP}),
    )
    assert decide(service_request("openid"), policy("00p1", people)) == "r"


def test_star_allows_any_scope() -> None:
    assert decide(user_request("00u1", set(), "anything", GOLD_SCOPE), policy("00p1", rule("r"))) == "r"


def test_every_requested_scope_must_be_allowed() -> None:
    narrow = rule("r", scopes=frozenset({"openid"}))
    assert decide(user_request("00u1", set(), "openid", "email"), policy("00p1", narrow)) is None


# --- traces ---------------------------------------------------------------------------------


def test_denial_trace_says_why_each_rule_failed() -> None:
    decision = SEED.evaluate(user_request(SILVER_USER, {SILVER_GROUP}, "openid", GOLD_SCOPE))
    assert reasons(decision.trace) == [
        ("00pApiCenter", None, True, "client matched"),
        ("00pApiCenter", "0prSilver", False, f"scope {GOLD_SCOPE} not allowed by this rule"),
        ("00pApiCenter", "0prGold", False, "user is not among the rule's users or in its groups"),
        ("00pApiCenter", None, False, "no rule matched; trying the next policy"),
        ("00pServices", None, False, f"client {WEB_APP} is not assigned to this policy"),
    ]


def test_trace_names_the_policy_and_rule() -> None:
    decision = SEED.evaluate(user_request(SILVER_USER, {SILVER_GROUP}, GOLD_SCOPE))
    step = decision.trace[1]
    assert (step.policy_name, step.rule_name) == ("API Center", "silver")


def test_trace_names_a_refused_grant_type() -> None:
    decision = CompiledPolicySet([policy("00p1", rule("r"))]).evaluate(
        user_request("00u1", set(), "openid", grant_type="password")
    )
    assert ("00p1", "r", False, "grant type password is not allowed by this rule") in reasons(decision.trace)


def test_trace_names_every_refused_scope() -> None:
    narrow = rule("r", scopes=frozenset({"openid"}))
    decision = CompiledPolicySet([policy("00p1", narrow)]).evaluate(
        user_request("00u1", set(), "a", "openid", "b")
    )
    assert ("00p1", "r", False, "scopes a b not allowed by this rule") in reasons(decision.trace)


def test_trace_notes_exclusions() -> None:
    request = user_request("00u1", {GOLD_GROUP}, "openid")
    by_user = rule("byUser", 1, users_exclude=frozenset({"00u1"}))
    by_group = rule("byGroup", 2, groups_exclude=frozenset({GOLD_GROUP}))
    decision = CompiledPolicySet([policy("00p1", by_user, by_group)]).evaluate(request)
    assert ("00p1", "byUser", False, "user is excluded by this rule") in reasons(decision.trace)
    assert ("00p1", "byGroup", False, "user is in a group this rule excludes") in reasons(decision.trace)


def test_trace_notes_inactive_policies_and_rules() -> None:
    off = policy("00pOff", rule("x"), priority=1, active=False)
    on = policy("00pOn", rule("offRule", active=False), priority=2)
    trace = reasons(CompiledPolicySet([off, on]).evaluate(ANYONE).trace)
    assert ("00pOff", None, False, "policy is inactive") in trace
    assert ("00pOn", "offRule", False, "rule is inactive") in trace


def test_a_grant_has_no_trace_unless_explained() -> None:
    request = user_request(SILVER_USER, {SILVER_GROUP}, "openid")
    assert SEED.evaluate(request).trace == ()


def test_an_explained_grant_ends_with_the_matching_rule() -> None:
    decision = SEED.evaluate(user_request(GOLD_USER, {GOLD_GROUP}, "openid"), explain=True)
    assert reasons(decision.trace)[-1] == ("00pApiCenter", "0prGold", True, "rule matched")
    assert len(decision.trace) == 3


# --- requested scopes -----------------------------------------------------------------------

KNOWN = {name: ScopeInfo(name) for name in ("openid", "email", SILVER_SCOPE)}


def test_known_scopes_are_returned_once_each_in_order() -> None:
    assert resolve_requested_scopes([SILVER_SCOPE, "openid", SILVER_SCOPE], KNOWN, []) == (
        SILVER_SCOPE,
        "openid",
    )


def test_a_space_separated_scope_string_is_accepted() -> None:
    assert resolve_requested_scopes("openid  email", KNOWN, []) == ("openid", "email")


def test_an_unknown_scope_is_invalid_scope() -> None:
    with pytest.raises(PolicyScopeError) as caught:
        resolve_requested_scopes(["openid", GOLD_SCOPE], KNOWN, [])
    assert (caught.value.error, caught.value.description) == (INVALID_SCOPE, UNKNOWN_SCOPE)
    assert caught.value.causes == [f"scope: {GOLD_SCOPE} is not defined"]


def test_unknown_scope_description_is_oktas_text() -> None:
    assert UNKNOWN_SCOPE == "One or more scopes are not configured for the authorization server resource."


def test_no_requested_scope_gives_the_default_scopes() -> None:
    assert resolve_requested_scopes([], KNOWN, [SILVER_SCOPE]) == (SILVER_SCOPE,)


def test_no_requested_scope_and_no_default_is_invalid_scope() -> None:
    with pytest.raises(PolicyScopeError) as caught:
        resolve_requested_scopes([""], KNOWN, [])
    assert (caught.value.error, caught.value.description) == (INVALID_SCOPE, NO_SCOPE)


def test_scope_error_is_a_domain_invalid() -> None:
    with pytest.raises(Invalid):
        resolve_requested_scopes(["nope"], KNOWN, [])


def test_policy_denied_constant_is_oktas_text() -> None:
    assert (
        POLICY_DENIED == "Policy evaluation failed for this request, please check the policy configurations."
    )
