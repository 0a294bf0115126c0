"""An app as the admin API shows it: its members, and ``_embedded`` parts on ``expand``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from ostiary.access_gateway.admin import repository
from ostiary.access_gateway.admin.errors import bad_request
from ostiary.access_gateway.runtime import GatewayConfig

CALLBACK_PATH = "/_ostiary/callback"
SIGNED_OUT_PATH = "/_ostiary/signed-out"
"""Where the proxy asks the org to return after single logout (registered in the org)."""
EXPANDABLE = {
    "healthCheck": "healthCheck",
    "behavior": "behavior",
    "session": "session",
    "resources": "protectedResources",
    "policies": "policies",
    "attributes": "attributes",
}
ALL_EXPANSIONS = frozenset(EXPANDABLE)
_IGNORED_EXPANSIONS = {"ebsAgent", "ebsClassic"}


def parse_expand(values: Iterable[str]) -> frozenset[str]:
    """``?expand=a,b`` or ``?expand=a&expand=b``; an unknown name is a 400."""
    names = {name.strip() for value in values for name in value.split(",") if name.strip()}
    unknown = names - ALL_EXPANSIONS - _IGNORED_EXPANSIONS
    if unknown:
        raise bad_request(
            "Request validation failed", expand=f"unknown value(s): {', '.join(sorted(unknown))}"
        )
    return frozenset(names & ALL_EXPANSIONS)


def app_origin(config: GatewayConfig, public_domain: str) -> str:
    """Where browsers reach the app: the gateway's scheme, the public domain, and the gateway's
    port when the domain names none and the public URL has a non-default one."""
    domain = public_domain.lower()
    port = urlsplit(config.public_url).port
    default = 443 if config.scheme == "https" else 80
    if ":" not in domain and port and port != default:
        domain = f"{domain}:{port}"
    return f"{config.scheme}://{domain}"


def callback_uri(config: GatewayConfig, public_domain: str) -> str:
    return app_origin(config, public_domain) + CALLBACK_PATH


def post_logout_uris(config: GatewayConfig, public_domain: str, behavior: dict[str, Any]) -> list[str]:
    uris = [app_origin(config, public_domain) + SIGNED_OUT_PATH]
    if behavior.get("postLogoutUrl"):
        uris.append(behavior["postLogoutUrl"])
    return list(dict.fromkeys(uris))


def with_weights(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total = sum(r.get("assignedWeight", 1) for r in resources if r.get("active", True))
    out = []
    for resource in resources:
        share = resource.get("assignedWeight", 1) / total if total and resource.get("active", True) else 0
        out.append({**_ordered_resource(resource), "calculatedWeight": round(share, 4)})
    return out


def _ordered_resource(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": resource["id"],
        "hostname": resource["hostname"],
        "assignedWeight": resource.get("assignedWeight", 1),
        "active": resource.get("active", True),
    }


def app_members(row: dict[str, Any]) -> dict[str, Any]:
    doc = dict(row["document"])
    members = {
        "id": row["id"],
        "name": doc.pop("name"),
        "type": doc.pop("type"),
        "description": doc.pop("description", ""),
        "label": row["label"],
        "idpId": row["idp_id"],
        "publicDomain": row["public_domain"],
        "status": row["status"],
    }
    doc.pop("label", None)
    doc.pop("publicDomain", None)
    doc.pop("idpId", None)
    members.update(doc)
    return members


async def render_app(conn: AsyncConnection, row: dict[str, Any], expand: frozenset[str]) -> dict[str, Any]:
    body = app_members(row)
    if expand:
        body["_embedded"] = await embedded(conn, row, expand)
    return body


async def embedded(conn: AsyncConnection, row: dict[str, Any], expand: frozenset[str]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    if "healthCheck" in expand:
        parts["healthCheck"] = row["health_check"]
    if "behavior" in expand:
        parts["behavior"] = row["behavior"]
    if "session" in expand:
        parts["session"] = row["session"]
    if "resources" in expand:
        parts["protectedResources"] = with_weights(
            await repository.list_parts(conn, row["id"], repository.RESOURCE)
        )
    if "policies" in expand:
        parts["policies"] = await repository.list_parts(conn, row["id"], repository.POLICY)
    if "attributes" in expand:
        parts["attributes"] = await repository.list_parts(conn, row["id"], repository.ATTRIBUTE)
    return parts
