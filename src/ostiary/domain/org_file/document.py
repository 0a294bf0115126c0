"""The structure of an org file, checked as a whole before anything is applied.

The objects are Okta's management API bodies; references to other objects are names (a group's
name, an app's label, a user's login, a scope's name). The domain functions check the rest of
each body when it is applied; :class:`OrgFileError` carries the path of the bad field either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TOP_LEVEL = ("groups", "users", "apps", "authorizationServers", "trustedOrigins", "apiTokens")
MIN_TOKEN_LENGTH = 20
SYSTEM_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access", "device_sso"})
USER_STATUSES = ("ACTIVE", "STAGED")
KEYWORDS = frozenset({"ALL_CLIENTS", "EVERYONE"})


@dataclass
class OrgFileError(Exception):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise OrgFileError(path, "must be an object")
    return value


def _list(value: object, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OrgFileError(path, "must be a list")
    return value


def _names(value: object, path: str) -> list[str]:
    items = _list(value, path)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise OrgFileError(f"{path}[{index}]", "must be a non-empty string")
    return items


def _text(body: Mapping[str, Any], key: str, path: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise OrgFileError(f"{path}.{key}", "The field cannot be left blank")
    return value.strip()


def _unique(names: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name.lower() in seen:
            raise OrgFileError(f"{path}[{index}]", f"duplicate {what} '{name}'")
        seen.add(name.lower())


def check(document: object) -> Mapping[str, Any]:
    """Check ``document`` (the parsed YAML); return it unchanged or raise :class:`OrgFileError`."""
    if document is None:
        return {}
    doc = _mapping(document, "")
    for key in doc:
        if key not in TOP_LEVEL:
            raise OrgFileError(str(key), f"unknown key (expected one of {', '.join(TOP_LEVEL)})")
    groups = [
        _text(
            _mapping(g.get("profile") if isinstance(g, Mapping) else g, f"groups[{i}].profile"),
            "name",
            f"groups[{i}].profile",
        )
        for i, g in enumerate(_list(doc.get("groups"), "groups"))
    ]
    _unique(groups, "groups", "group")
    logins = [_check_user(u, f"users[{i}]") for i, u in enumerate(_list(doc.get("users"), "users"))]
    _unique(logins, "users", "user")
    labels = [_check_app(a, f"apps[{i}]") for i, a in enumerate(_list(doc.get("apps"), "apps"))]
    _unique(labels, "apps", "app")
    servers = [
        _check_server(s, f"authorizationServers[{i}]")
        for i, s in enumerate(_list(doc.get("authorizationServers"), "authorizationServers"))
    ]
    _unique(servers, "authorizationServers", "authorization server")
    origins = [
        _text(_mapping(o, f"trustedOrigins[{i}]"), "name", f"trustedOrigins[{i}]")
        for i, o in enumerate(_list(doc.get("trustedOrigins"), "trustedOrigins"))
    ]
    _unique(origins, "trustedOrigins", "trusted origin")
    tokens = [
        _check_token(t, f"apiTokens[{i}]") for i, t in enumerate(_list(doc.get("apiTokens"), "apiTokens"))
    ]
    _unique(tokens, "apiTokens", "API token")
    return doc


def _check_token(raw: object, path: str) -> str:
    token = _mapping(raw, path)
    name = _text(token, "name", path)
    value = token.get("token")
    if value is not None and (
        not isinstance(value, str) or len(value) < MIN_TOKEN_LENGTH or not value.isascii()
    ):
        raise OrgFileError(f"{path}.token", f"must be at least {MIN_TOKEN_LENGTH} ASCII characters")
    return name


def _check_user(raw: object, path: str) -> str:
    user = _mapping(raw, path)
    login = _text(_mapping(user.get("profile"), f"{path}.profile"), "login", f"{path}.profile")
    _names(user.get("groups"), f"{path}.groups")
    password = user.get("password")
    if password is not None and not isinstance(password, str):
        raise OrgFileError(f"{path}.password", "must be a string")
    status = user.get("status", "ACTIVE")
    if status not in USER_STATUSES:
        raise OrgFileError(f"{path}.status", f"must be one of {', '.join(USER_STATUSES)}")
    return login


def _check_app(raw: object, path: str) -> str:
    app = _mapping(raw, path)
    label = _text(app, "label", path)
    assignments = _mapping(app.get("assignments") or {}, f"{path}.assignments")
    for key in assignments:
        if key not in ("groups", "users"):
            raise OrgFileError(f"{path}.assignments.{key}", "unknown key (expected groups or users)")
        _names(assignments[key], f"{path}.assignments.{key}")
    for index, grant in enumerate(_names(app.get("grants"), f"{path}.grants")):
        if not grant.startswith("okta."):
            raise OrgFileError(f"{path}.grants[{index}]", f"'{grant}' is not an okta.* scope")
    return label


def _check_server(raw: object, path: str) -> str:
    server = _mapping(raw, path)
    name = _text(server, "name", path)
    fixed_id = server.get("id")
    if fixed_id is not None and (not isinstance(fixed_id, str) or not fixed_id.isalnum()):
        raise OrgFileError(f"{path}.id", "must be letters and digits")
    scopes = [
        _text(_mapping(s, f"{path}.scopes[{i}]"), "name", f"{path}.scopes[{i}]")
        for i, s in enumerate(_list(server.get("scopes"), f"{path}.scopes"))
    ]
    _unique(scopes, f"{path}.scopes", "scope")
    known = SYSTEM_SCOPES | set(scopes)
    for index, claim in enumerate(_list(server.get("claims"), f"{path}.claims")):
        _text(_mapping(claim, f"{path}.claims[{index}]"), "name", f"{path}.claims[{index}]")
    policies = _list(server.get("policies"), f"{path}.policies")
    names = []
    for p_index, raw_policy in enumerate(policies):
        p_path = f"{path}.policies[{p_index}]"
        policy = _mapping(raw_policy, p_path)
        names.append(_text(policy, "name", p_path))
        _check_references(policy, p_path)
        rules = _list(policy.get("rules"), f"{p_path}.rules")
        _unique(
            [
                _text(_mapping(r, f"{p_path}.rules[{i}]"), "name", f"{p_path}.rules[{i}]")
                for i, r in enumerate(rules)
            ],
            f"{p_path}.rules",
            "rule",
        )
        for r_index, rule in enumerate(rules):
            _check_references(rule, f"{p_path}.rules[{r_index}]")
            _check_rule_scopes(rule, f"{p_path}.rules[{r_index}]", known)
    _unique(names, f"{path}.policies", "policy")
    return name


def _check_rule_scopes(rule: Mapping[str, Any], path: str, known: frozenset[str] | set[str]) -> None:
    conditions = _mapping(rule.get("conditions") or {}, f"{path}.conditions")
    scopes = conditions.get("scopes")
    if scopes is None:
        return
    s_path = f"{path}.conditions.scopes"
    include = _names(_mapping(scopes, s_path).get("include"), f"{s_path}.include")
    for name in include:
        if name != "*" and name not in known:
            raise OrgFileError(
                s_path, f"unknown scope '{name}' (not a system scope nor one of the server's scopes)"
            )


def _check_references(body: Mapping[str, Any], path: str) -> None:
    """The name lists a policy or rule refers to: ``clients.include``, ``people.{groups,users}``."""
    if body.get("conditions") is None:
        return
    conditions = _mapping(body["conditions"], f"{path}.conditions")
    if conditions.get("clients") is not None:
        clients = _mapping(conditions["clients"], f"{path}.conditions.clients")
        _names(clients.get("include"), f"{path}.conditions.clients.include")
    if conditions.get("people") is not None:
        people = _mapping(conditions["people"], f"{path}.conditions.people")
        for key in ("groups", "users"):
            if people.get(key) is not None:
                part = _mapping(people[key], f"{path}.conditions.people.{key}")
                for side in ("include", "exclude"):
                    _names(part.get(side), f"{path}.conditions.people.{key}.{side}")
