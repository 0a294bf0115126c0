"""Access-policy evaluation for custom authorization servers, the way Okta does it.

Okta: "Okta evaluates these policies and the rules within the policy in the given priority
order. After the first policy and rule match, Okta applies the client request and no
further rule or policy processing occurs." (help.okta.com, *Create access policies*). So:

1. Active policies are tried in priority order (1 first; ties keep their given order).
   A policy applies when its client condition names ``ALL_CLIENTS`` or the client id
   (an empty list names no client).
2. Within an applicable policy, its active rules are tried in priority order; the first
   rule whose conditions all hold wins. When none holds, evaluation **falls through to the
   next policy**: only a policy *and* a rule matching ends it.
3. A rule holds when the grant type is in its list, the people condition holds, and
   **every** requested scope is in its scopes (``*`` means any). The winning rule grants
   all requested scopes, with its token lifetimes.
4. People: an excluded user, or a member of an excluded group, never matches; otherwise,
   with no users or groups included (or the group ``EVERYONE`` included) anyone matches,
   else the user must be an included user or a member of an included group. A request
   without a user (``client_credentials``: the client acts for itself) skips the people
   condition, as Okta does for service apps.
5. Nothing matched: ``access_denied`` with Okta's description, :data:`POLICY_DENIED`.

The grant type is taken as given: for ``refresh_token`` requests the caller decides which
grant type to check. Whether the scopes exist on the server is checked before, with
:func:`resolve_requested_scopes`. Build a :class:`CompiledPolicySet` once per server
(and cache it until a policy or rule changes); :meth:`CompiledPolicySet.evaluate` is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from ostiary.domain.errors import Invalid
from ostiary.domain.oauth_errors import ACCESS_DENIED, INVALID_SCOPE

ALL_CLIENTS: Final = "ALL_CLIENTS"
EVERYONE: Final = "EVERYONE"
ANY_SCOPE: Final = "*"

POLICY_DENIED: Final = "Policy evaluation failed for this request, please check the policy configurations."
# Okta's texts at a custom authorization server, as seen in real responses.
UNKNOWN_SCOPE: Final = "One or more scopes are not configured for the authorization server resource."
NO_SCOPE: Final = (
    "The authorization server resource does not have any configured default scopes, 'scope' must be provided."
)


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleView:
    """A policy rule as evaluation sees it. A refresh lifetime of None or 0 is unlimited."""

    id: str
    name: str
    priority: int
    active: bool
    users_include: frozenset[str] = field(default_factory=frozenset)
    users_exclude: frozenset[str] = field(default_factory=frozenset)
    groups_include: frozenset[str] = field(default_factory=frozenset)
    groups_exclude: frozenset[str] = field(default_factory=frozenset)
    grant_types: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    access_token_lifetime_minutes: int = 60
    refresh_token_lifetime_minutes: int | None = None
    refresh_token_window_minutes: int = 10080


@dataclass(frozen=True, slots=True)
class PolicyView:
    id: str
    name: str
    priority: int
    active: bool
    clients_include: frozenset[str]
    rules: tuple[RuleView, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What is asked: ``user_id`` is None when the client acts for itself."""

    client_id: str
    user_id: str | None
    user_group_ids: frozenset[str]
    grant_type: str
    scopes: tuple[str, ...]


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One policy or rule looked at; ``rule_id`` is None for a step about the policy itself."""

    policy_id: str
    policy_name: str
    rule_id: str | None
    rule_name: str | None
    matched: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    granted: bool
    policy_id: str | None
    rule_id: str | None
    scopes: tuple[str, ...]
    access_token_lifetime_minutes: int | None
    refresh_token_lifetime_minutes: int | None
    refresh_token_window_minutes: int | None
    error: str | None
    error_description: str | None
    trace: tuple[TraceStep, ...]


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    view: RuleView
    anyone: bool
    any_scope: bool


@dataclass(frozen=True, slots=True)
class _Policy:
    view: PolicyView
    all_clients: bool
    rules: tuple[_Rule, ...]


_Prioritized = TypeVar("_Prioritized", PolicyView, RuleView)


def _by_priority(items: Iterable[_Prioritized]) -> list[_Prioritized]:
    return sorted(items, key=lambda item: item.priority)


def _compile_rule(rule: RuleView) -> _Rule:
    anyone = (not rule.users_include and not rule.groups_include) or EVERYONE in rule.groups_include
    return _Rule(rule, anyone, ANY_SCOPE in rule.scopes)


def _people_failure(rule: _Rule, request: TokenRequest) -> str | None:
    view = rule.view
    if request.user_id is None:
        return None
    if request.user_id in view.users_exclude:
        return "user is excluded by this rule"
    if not request.user_group_ids.isdisjoint(view.groups_exclude):
        return "user is in a group this rule excludes"
    if rule.anyone or request.user_id in view.users_include:
        return None
    if not request.user_group_ids.isdisjoint(view.groups_include):
        return None
    return "user is not among the rule's users or in its groups"


def _rule_failure(rule: _Rule, request: TokenRequest, requested: frozenset[str]) -> str | None:
    """Why the rule does not hold for the request, or None when it does."""
    view = rule.view
    if request.grant_type not in view.grant_types:
        return f"grant type {request.grant_type} is not allowed by this rule"
    people = _people_failure(rule, request)
    if people is not None:
        return people
    if rule.any_scope or requested <= view.scopes:
        return None
    refused = [scope for scope in request.scopes if scope not in view.scopes]
    noun = "scope" if len(refused) == 1 else "scopes"
    return f"{noun} {' '.join(refused)} not allowed by this rule"


def _denied(trace: list[TraceStep]) -> PolicyDecision:
    return PolicyDecision(
        granted=False,
        policy_id=None,
        rule_id=None,
        scopes=(),
        access_token_lifetime_minutes=None,
        refresh_token_lifetime_minutes=None,
        refresh_token_window_minutes=None,
        error=ACCESS_DENIED,
        error_description=POLICY_DENIED,
        trace=tuple(trace),
    )


def _granted(
    policy: PolicyView, rule: RuleView, scopes: tuple[str, ...], trace: list[TraceStep]
) -> PolicyDecision:
    return PolicyDecision(
        granted=True,
        policy_id=policy.id,
        rule_id=rule.id,
        scopes=scopes,
        access_token_lifetime_minutes=rule.access_token_lifetime_minutes,
        refresh_token_lifetime_minutes=rule.refresh_token_lifetime_minutes or None,
        refresh_token_window_minutes=rule.refresh_token_window_minutes,
        error=None,
        error_description=None,
        trace=tuple(trace),
    )


class CompiledPolicySet:
    """A server's policies, sorted and indexed once; evaluate many requests against it."""

    __slots__ = ("_policies",)

    def __init__(self, policies: Iterable[PolicyView]) -> None:
        self._policies = tuple(
            _Policy(
                policy,
                ALL_CLIENTS in policy.clients_include,
                tuple(_compile_rule(rule) for rule in _by_priority(policy.rules)),
            )
            for policy in _by_priority(policies)
        )

    def evaluate(self, request: TokenRequest, *, explain: bool = False) -> PolicyDecision:
        """Okta's decision for ``request``.

        A denial always carries its trace. A grant carries one only with ``explain=True``:
        recording every step costs several times the evaluation itself, so the common path
        runs without it and a denial is evaluated a second time to explain itself.
        """
        decision = self._run(request, explain)
        if decision.granted or explain:
            return decision
        return self._run(request, True)

    def _run(self, request: TokenRequest, explain: bool) -> PolicyDecision:
        trace: list[TraceStep] | None = [] if explain else None
        scopes = tuple(dict.fromkeys(request.scopes))
        requested = frozenset(scopes)
        for policy in self._policies:
            rule = _first_matching_rule(policy, request, requested, trace)
            if rule is not None:
                return _granted(policy.view, rule, scopes, trace or [])
        return _denied(trace or [])


def _note(
    trace: list[TraceStep] | None, policy: PolicyView, rule: RuleView | None, matched: bool, reason: str
) -> None:
    if trace is not None:
        rule_id, rule_name = (rule.id, rule.name) if rule is not None else (None, None)
        trace.append(TraceStep(policy.id, policy.name, rule_id, rule_name, matched, reason))


def _first_matching_rule(
    policy: _Policy, request: TokenRequest, requested: frozenset[str], trace: list[TraceStep] | None
) -> RuleView | None:
    """The policy's winning rule for the request, or None to go on with the next policy."""
    view = policy.view
    if not view.active:
        _note(trace, view, None, False, "policy is inactive")
        return None
    if not policy.all_clients and request.client_id not in view.clients_include:
        _note(trace, view, None, False, f"client {request.client_id} is not assigned to this policy")
        return None
    _note(trace, view, None, True, "client matched")
    for rule in policy.rules:
        failure = _rule_failure(rule, request, requested) if rule.view.active else "rule is inactive"
        if failure is None:
            _note(trace, view, rule.view, True, "rule matched")
            return rule.view
        if trace is not None:
            _note(trace, view, rule.view, False, failure)
    _note(trace, view, None, False, "no rule matched; trying the next policy")
    return None


# --- requested scopes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    """A scope defined on the server (``default``: granted when a request names none)."""

    name: str
    default: bool = False
    system: bool = False


@dataclass
class PolicyScopeError(Invalid):
    """An OAuth ``invalid_scope`` refusal: ``error`` and ``description`` go on the wire."""

    error: str = INVALID_SCOPE
    description: str = ""


def _scope_error(description: str, causes: list[str] | None = None) -> PolicyScopeError:
    return PolicyScopeError(description, causes=causes or [], error=INVALID_SCOPE, description=description)


def resolve_requested_scopes(
    requested: Sequence[str], known: Mapping[str, ScopeInfo], default_scopes: Sequence[str]
) -> tuple[str, ...]:
    """The scopes to evaluate: the requested ones (deduplicated, in order), all known to the
    server, or the server's default scopes when none is requested (as Okta does for
    ``client_credentials``). ``requested`` may also be the raw space-separated string.
    Raises :class:`PolicyScopeError` for an unknown scope, or when nothing is requested and
    the server has no default scope.
    """
    names = requested.split() if isinstance(requested, str) else [name for name in requested if name]
    scopes = tuple(dict.fromkeys(names))
    if not scopes:
        defaults = tuple(dict.fromkeys(default_scopes))
        if not defaults:
            raise _scope_error(NO_SCOPE)
        return defaults
    unknown = [scope for scope in scopes if scope not in known]
    if unknown:
        raise _scope_error(UNKNOWN_SCOPE, causes=[f"scope: {scope} is not defined" for scope in unknown])
    return scopes


__all__ = [
    "ACCESS_DENIED",
    "ALL_CLIENTS",
    "ANY_SCOPE",
    "EVERYONE",
    "INVALID_SCOPE",
    "NO_SCOPE",
    "POLICY_DENIED",
    "UNKNOWN_SCOPE",
    "CompiledPolicySet",
    "PolicyDecision",
    "PolicyScopeError",
    "PolicyView",
    "RuleView",
    "ScopeInfo",
    "TokenRequest",
    "TraceStep",
    "resolve_requested_scopes",
]
