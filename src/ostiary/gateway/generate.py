"""``ostiary gateway config --from-authorization-server ID``: a gateway configuration built
from an authorization server, its scopes, and a mapping of scopes to API paths.

The mapping file (YAML or JSON) says which calls each scope opens::

    upstream: http://127.0.0.1:8082
    scopes:
      http://myapp.com/scp/silver: ["GET /planets"]
      http://myapp.com/scp/gold:   ["GET /moons"]
    authenticated: ["GET /asteroids"]       # any valid token
    public: ["GET /visitors"]               # no token

An entry is ``"METHOD[,METHOD] /path"`` (``GET`` when no method is given) or a mapping
``{path, methods, upstream}``. A call listed under several scopes is open to any of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ostiary.gateway.config import parse_config


def _calls(entries: Any, where: str, default_upstream: str | None) -> list[tuple[tuple[str, ...], str, str]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of calls such as 'GET /planets'")
    result = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if isinstance(entry, str):
            methods_text, _, path = entry.strip().rpartition(" ")
            methods = tuple(m.strip().upper() for m in methods_text.split(",") if m.strip()) or ("GET",)
            upstream = default_upstream
        elif isinstance(entry, Mapping):
            path = entry.get("path", "")
            raw_methods = entry.get("methods", ["GET"])
            methods = tuple(
                str(m).upper() for m in ([raw_methods] if isinstance(raw_methods, str) else raw_methods)
            )
            upstream = entry.get("upstream", default_upstream)
        else:
            raise ValueError(f"{at}: expected 'METHOD /path' or a mapping with 'path'")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"{at}: {entry!r} has no path starting with '/'")
        if not upstream:
            raise ValueError(f"{at}: no upstream (set 'upstream' at the top of the mapping)")
        result.append((methods, path, upstream))
    return result


def generate_config(
    auth_server: Mapping[str, Any], scopes: Sequence[Mapping[str, Any]], mapping: Mapping[str, Any]
) -> dict[str, Any]:
    """A gateway configuration (the dict form of ``gateway.yaml``), validated before it is returned.

    ``auth_server`` is an Okta ``AuthorizationServer`` object (``issuer``, ``audiences``),
    ``scopes`` its scope objects (``name``); a scope in the mapping that the server does not
    define is an error, so a typo cannot leave a route unreachable.
    """
    issuer = auth_server.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("the authorization server has no issuer")
    audiences = [a for a in auth_server.get("audiences") or [] if isinstance(a, str)]
    known = {s.get("name") for s in scopes}
    upstream = mapping.get("upstream")

    by_call: dict[tuple[tuple[str, ...], str, str], list[str]] = {}
    scope_map = mapping.get("scopes") or {}
    if not isinstance(scope_map, Mapping):
        raise ValueError("scopes: expected a mapping of scope name to calls")
    for scope_name, entries in scope_map.items():
        if scope_name not in known:
            raise ValueError(
                f"scopes: {scope_name!r} is not a scope of authorization server {auth_server.get('id')!r}"
            )
        for call in _calls(entries, f"scopes.{scope_name}", upstream):
            by_call.setdefault(call, []).append(scope_name)

    routes: list[dict[str, Any]] = []
    for (methods, path, route_upstream), needed in by_call.items():
        routes.append(
            {"path": path, "methods": list(methods), "upstream": route_upstream, "scopes": {"any_of": needed}}
        )
    for methods, path, route_upstream in _calls(mapping.get("authenticated"), "authenticated", upstream):
        routes.append({"path": path, "methods": list(methods), "upstream": route_upstream})
    for methods, path, route_upstream in _calls(mapping.get("public"), "public", upstream):
        routes.append({"path": path, "methods": list(methods), "upstream": route_upstream, "public": True})
    if not routes:
        raise ValueError("the mapping names no calls")

    issuer_entry: dict[str, Any] = {"issuer": issuer}
    if audiences:
        issuer_entry["audiences"] = audiences
    config: dict[str, Any] = {"issuers": [issuer_entry], "routes": routes}
    for section in ("forward_claims", "rate_limit", "limits", "timeouts", "listen", "metrics", "cors"):
        if section in mapping:
            config[section] = mapping[section]
    parse_config(config, source=f"generated from authorization server {auth_server.get('id')}")
    return config
