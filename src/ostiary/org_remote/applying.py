"""``ostiary apply --org-url``: bring an org to an org file through Okta's management API only.

The org is read once (:mod:`.reading`); each object of the file is matched as the local apply
matches it (group name, user login, app label, server id or name, scope and policy names, claim
name and type) and sent only when the file holds something the org's JSON does not (the file's
members are compared with the JSON's, ids in place of names; secrets are never compared). There
is no transaction across HTTP calls, so the whole plan is first made without sending anything:
unknown names and refused references stop the run before the first change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ostiary.domain.org_file.applying import Change
from ostiary.domain.org_file.document import KEYWORDS, OrgFileError
from ostiary.domain.org_file.from_okta import OktaOrg, is_exported_app
from ostiary.org_remote.client import ManagementClient, RemoteError
from ostiary.org_remote.reading import SERVERS, read_org

READ_ONLY = frozenset({"id", "_links", "_embedded", "created", "lastUpdated", "createdBy", "lastUpdatedBy"})
DEFAULT_SERVER_ID = "default"


def covers(current: Any, wanted: Any) -> bool:
    """Whether ``current`` (the org's JSON) already holds everything ``wanted`` (the file) says."""
    if wanted in ([], {}) and current is None:
        return True
    if isinstance(wanted, Mapping):
        return isinstance(current, Mapping) and all(covers(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(covers(c, w) for c, w in zip(current, wanted, strict=True))
        )
    return bool(current == wanted)


def merged(base: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (the org's JSON, read-only members left out) with ``wanted`` laid over it."""
    out = {k: v for k, v in base.items() if k not in READ_ONLY}
    for key, value in wanted.items():
        current = out.get(key)
        out[key] = (
            merged(current, value) if isinstance(current, Mapping) and isinstance(value, Mapping) else value
        )
    return out


def _without_secret(app: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in app.items() if k not in ("assignments", "grants")}
    credentials = dict(body.get("credentials") or {})
    if "oauthClient" in credentials:
        credentials["oauthClient"] = {
            k: v for k, v in credentials["oauthClient"].items() if k != "client_secret"
        }
        body["credentials"] = credentials
    return body


class _Run:
    """One pass over the file: ``send`` False plans (no write is sent), True applies."""

    def __init__(self, client: ManagementClient, org: OktaOrg, *, send: bool) -> None:
        self.client, self.org, self.send = client, org, send
        self.changes: list[Change] = []
        self.groups = {g["profile"]["name"].lower(): g for g in org.groups}
        self.users = {u["profile"]["login"].lower(): u for u in org.users}
        self.apps = {a["label"].lower(): a for a in org.apps if is_exported_app(a)}

    def note(self, verb: str, kind: str, name: str) -> None:
        self.changes.append(Change(verb, kind, name))

    async def call(self, path: str, method: str, url: str, body: Any = None, **params: Any) -> Any:
        """A write: sent when applying (a refusal becomes an error at ``path``), skipped when planning."""
        if not self.send:
            return None
        try:
            return await self.client.json(method, url, body, **params)
        except RemoteError as exc:
            raise OrgFileError(path, str(exc)) from None

    async def create(
        self, path: str, url: str, body: Any, kind: str, name: str, **params: Any
    ) -> dict[str, Any]:
        created = await self.call(path, "POST", url, body, **params)
        self.note("create", kind, name)
        return created if isinstance(created, dict) else {"id": f"(new {kind} {name})", **body}

    def group_id(self, name: str, path: str) -> str:
        group = self.groups.get(name.lower())
        if group is None:
            raise OrgFileError(path, f"no group named '{name}'")
        return str(group["id"])

    def user_id(self, login: str, path: str) -> str:
        user = self.users.get(login.lower())
        if user is None:
            raise OrgFileError(path, f"no user with login '{login}'")
        return str(user["id"])

    def client_id(self, label: str, path: str) -> str:
        app = self.apps.get(label.strip().lower())
        if app is None:
            raise OrgFileError(path, f"no app labelled '{label}'")
        return str(((app.get("credentials") or {}).get("oauthClient") or {}).get("client_id") or app["id"])


async def apply_remote(
    client: ManagementClient, doc: Mapping[str, Any], *, dry_run: bool = False, prune: bool = False
) -> list[Change]:
    """Apply a checked document to the org behind ``client``; return the changes (planned ones
    when ``dry_run``)."""
    org = await read_org(client)
    keep = await _current_token_id(client) if prune else None
    planned = await _pass(_Run(client, org, send=False), doc, prune, keep)
    if dry_run or not any(change.verb != "skip" for change in planned):
        return planned
    return await _pass(_Run(client, org, send=True), doc, prune, keep)


async def _current_token_id(client: ManagementClient) -> str | None:
    try:
        current = await client.json("GET", "/api/v1/api-tokens/current")
    except RemoteError:
        return None
    return str(current["id"]) if isinstance(current, dict) and "id" in current else None


async def _pass(
    run: _Run, doc: Mapping[str, Any], prune: bool, keep_token: str | None = None
) -> list[Change]:
    for index, group in enumerate(doc.get("groups") or []):
        await _group(run, group, f"groups[{index}]")
    for index, user in enumerate(doc.get("users") or []):
        await _user(run, user, f"users[{index}]")
    for index, app in enumerate(doc.get("apps") or []):
        await _app(run, app, f"apps[{index}]")
    for index, server in enumerate(doc.get("authorizationServers") or []):
        await _server(run, server, f"authorizationServers[{index}]")
    origins = {o["name"].lower(): o for o in run.org.trusted_origins}
    for index, origin in enumerate(doc.get("trustedOrigins") or []):
        path, name = f"trustedOrigins[{index}]", origin["name"].strip()
        current = origins.get(name.lower())
        if current is None:
            await run.create(path, "/api/v1/trustedOrigins", dict(origin), "trustedOrigin", name)
        elif not covers(current, origin):
            await run.call(path, "PUT", f"/api/v1/trustedOrigins/{current['id']}", merged(current, origin))
            run.note("update", "trustedOrigin", name)
    tokens = {t["name"] for t in run.org.api_tokens}
    for token in doc.get("apiTokens") or []:
        if token["name"].strip() not in tokens:
            run.note("skip", "apiToken", f"{token['name']} (API tokens are made in the admin console)")
    if prune:
        from ostiary.org_remote.pruning import prune_remote

        await prune_remote(run, doc, keep_token)
    return run.changes


async def _group(run: _Run, body: Mapping[str, Any], path: str) -> None:
    profile = dict(body["profile"])
    name = profile["name"].strip()
    current = run.groups.get(name.lower())
    if current is None:
        run.groups[name.lower()] = await run.create(
            path, "/api/v1/groups", {"profile": profile}, "group", name
        )
    elif not covers(current.get("profile"), profile):
        await run.call(
            path, "PUT", f"/api/v1/groups/{current['id']}", {"profile": {**current["profile"], **profile}}
        )
        run.note("update", "group", name)


async def _user(run: _Run, body: Mapping[str, Any], path: str) -> None:
    profile = dict(body["profile"])
    login = profile["login"].strip()
    profile.setdefault("email", login)
    active = body.get("status", "ACTIVE") == "ACTIVE"
    current = run.users.get(login.lower())
    if current is None:
        okta: dict[str, Any] = {"profile": profile}
        credentials = dict(body.get("credentials") or {})
        if body.get("password") is not None:
            credentials["password"] = {"value": body["password"]}
        if credentials:
            okta["credentials"] = credentials
        params = {"activate": "true" if active else "false"}
        current = await run.create(path, "/api/v1/users", okta, "user", login, **params)
        run.users[login.lower()] = current
        member_of: set[str] = set()
    else:
        if not covers(current.get("profile"), profile):
            await run.call(path, "POST", f"/api/v1/users/{current['id']}", {"profile": profile})
            run.note("update", "user", login)
        if active and current.get("status") == "STAGED":
            url = f"/api/v1/users/{current['id']}/lifecycle/activate"
            await run.call(f"{path}.status", "POST", url, sendEmail="false")
            run.note("update", "user", f"{login} (activate)")
        member_of = set(run.org.user_groups.get(current["id"], []))
    for index, name in enumerate(body.get("groups") or []):
        group_id = run.group_id(name, f"{path}.groups[{index}]")
        if group_id not in member_of:
            await run.call(
                f"{path}.groups[{index}]", "PUT", f"/api/v1/groups/{group_id}/users/{current['id']}"
            )
            run.note("create", "membership", f"{login} in {name}")


async def _app(run: _Run, body: Mapping[str, Any], path: str) -> None:
    okta = {k: v for k, v in body.items() if k not in ("assignments", "grants")}
    okta.setdefault("name", "oidc_client")
    okta.setdefault("signOnMode", "OPENID_CONNECT")
    label = okta["label"].strip()
    current = run.apps.get(label.lower())
    if current is None:
        current = await run.create(path, "/api/v1/apps", okta, "app", label)
        run.apps[label.lower()] = current
        groups: set[str] = set()
        users: set[str] = set()
        grants: set[str] = set()
    else:
        wanted = _without_secret(okta)
        if not covers(current, wanted):
            await run.call(path, "PUT", f"/api/v1/apps/{current['id']}", merged(current, wanted))
            run.note("update", "app", label)
        groups = set(run.org.app_groups.get(current["id"], []))
        users = set(run.org.app_users.get(current["id"], []))
        grants = set(run.org.app_grants.get(current["id"], []))
    base = f"/api/v1/apps/{current['id']}"
    assignments = body.get("assignments") or {}
    for index, name in enumerate(assignments.get("groups") or []):
        group_id = run.group_id(name, f"{path}.assignments.groups[{index}]")
        if group_id not in groups:
            await run.call(f"{path}.assignments.groups[{index}]", "PUT", f"{base}/groups/{group_id}", {})
            run.note("create", "assignment", f"group {name} to {label}")
    for index, login in enumerate(assignments.get("users") or []):
        user_id = run.user_id(login, f"{path}.assignments.users[{index}]")
        if user_id not in users:
            body_user = {"id": user_id, "scope": "USER"}
            await run.call(f"{path}.assignments.users[{index}]", "POST", f"{base}/users", body_user)
            run.note("create", "assignment", f"user {login} to {label}")
    for index, scope in enumerate(body.get("grants") or []):
        if scope not in grants:
            grant = {"scopeId": scope, "issuer": run.client.org_url}
            await run.call(f"{path}.grants[{index}]", "POST", f"{base}/grants", grant)
            run.note("create", "grant", f"{scope} to {label}")


# --- authorization servers --------------------------------------------------------------------


def _server_of(run: _Run, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """By fixed id, then by name: Okta's API cannot fix a server's id, so a server created
    through it has a generated one and is found by its name afterwards."""
    fixed = body.get("id")
    by_id = next((s for s in run.org.servers if fixed is not None and s["id"] == fixed), None)
    return by_id or next((s for s in run.org.servers if s["name"] == body["name"].strip()), None)


async def _server(run: _Run, body: Mapping[str, Any], path: str) -> None:
    name = body["name"].strip()
    fields = {k: v for k, v in body.items() if k not in ("id", "scopes", "claims", "policies")}
    current = _server_of(run, body)
    if current is None:
        current = await run.create(path, SERVERS, fields, "authorizationServer", name)
        scopes: list[dict[str, Any]] = []
        claims: list[dict[str, Any]] = []
        policies: list[dict[str, Any]] = []
    else:
        if not covers(current, fields):
            signing = ((current.get("credentials") or {}).get("signing") or {}).get("rotationMode")
            base = {k: current[k] for k in ("name", "description", "audiences") if k in current}
            if signing:
                base["credentials"] = {"signing": {"rotationMode": signing}}
            await run.call(path, "PUT", f"{SERVERS}/{current['id']}", merged(base, fields))
            run.note("update", "authorizationServer", name)
        scopes = run.org.scopes.get(current["id"], [])
        claims = run.org.claims.get(current["id"], [])
        policies = run.org.policies.get(current["id"], [])
    base_url = f"{SERVERS}/{current['id']}"
    for index, scope in enumerate(body.get("scopes") or []):
        await _child(run, f"{path}.scopes[{index}]", f"{base_url}/scopes", scopes, scope, "scope", name)
    for index, claim in enumerate(body.get("claims") or []):
        existing = [c for c in claims if c.get("claimType") == claim.get("claimType")]
        await _child(run, f"{path}.claims[{index}]", f"{base_url}/claims", existing, claim, "claim", name)
    for index, policy in enumerate(body.get("policies") or []):
        p_path = f"{path}.policies[{index}]"
        okta = _with_ids(run, {k: v for k, v in policy.items() if k != "rules"}, p_path)
        okta.setdefault("type", "OAUTH_AUTHORIZATION_POLICY")
        okta.setdefault("conditions", {"clients": {"include": ["ALL_CLIENTS"]}})
        made = await _child(run, p_path, f"{base_url}/policies", policies, okta, "policy", name)
        rules = run.org.rules.get(made["id"], [])
        label = f"{name}/{policy['name'].strip()}"
        for r_index, rule in enumerate(policy.get("rules") or []):
            r_path = f"{p_path}.rules[{r_index}]"
            okta_rule = _with_ids(run, rule, r_path)
            okta_rule.setdefault("type", "RESOURCE_ACCESS")
            await _child(
                run, r_path, f"{base_url}/policies/{made['id']}/rules", rules, okta_rule, "rule", label
            )


async def _child(
    run: _Run,
    path: str,
    url: str,
    current: list[dict[str, Any]],
    body: Mapping[str, Any],
    kind: str,
    parent: str,
) -> dict[str, Any]:
    """A scope, claim, policy or rule: created, updated in place, or left as it is."""
    name = body["name"].strip()
    label = f"{parent}/{name}"
    existing = next((c for c in current if c.get("name") == name), None)
    if existing is None:
        return await run.create(path, url, dict(body), kind, label)
    if not covers(existing, body):
        await run.call(path, "PUT", f"{url}/{existing['id']}", merged(existing, body))
        run.note("update", kind, label)
    return existing


def _with_ids(run: _Run, body: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``body`` with the names in its conditions (app labels, group names, logins) as ids."""
    if body.get("conditions") is None:
        return dict(body)
    conditions = dict(body["conditions"])
    clients = conditions.get("clients")
    if isinstance(clients, Mapping) and isinstance(clients.get("include"), list):
        conditions["clients"] = {
            **clients,
            "include": [
                n if n in KEYWORDS else run.client_id(n, f"{path}.conditions.clients.include[{i}]")
                for i, n in enumerate(clients["include"])
            ],
        }
    people = conditions.get("people")
    if isinstance(people, Mapping):
        resolved = dict(people)
        for key, lookup in (("groups", run.group_id), ("users", run.user_id)):
            part = people.get(key)
            if isinstance(part, Mapping):
                resolved[key] = {
                    side: [
                        n if n in KEYWORDS else lookup(n, f"{path}.conditions.people.{key}.{side}[{i}]")
                        for i, n in enumerate(part.get(side) or [])
                    ]
                    for side in ("include", "exclude")
                    if side in part
                }
        conditions["people"] = resolved
    return {**body, "conditions": conditions}
