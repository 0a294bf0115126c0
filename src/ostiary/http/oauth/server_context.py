"""Which authorization server a ``/oauth2/...`` request is for, and its issuer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request

from ostiary.domain.authz import server_lookup as servers_domain
from ostiary.domain.orgs import Org
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.runtime import Runtime, runtime


@dataclass(frozen=True)
class ServerContext:
    """One server of one org as the OAuth endpoints see it; built once per (org, server)
    snapshot and reused until either cached object is replaced."""

    org: Org
    org_url: str
    server: servers_domain.ServerRecord
    issuer: str
    audiences: tuple[str, ...] = ()
    endpoint_base: str = ""
    """``{issuer}`` for custom servers, ``{org}/oauth2`` for the org AS."""

    def endpoint(self, name: str) -> str:
        """``{issuer}/v1/{name}`` for custom servers, ``{org}/oauth2/v1/{name}`` for the org AS."""
        return f"{self.endpoint_base}/v1/{name}"


async def resolve_server(request: Request) -> ServerContext:
    org = request.scope.get("state", {}).get("org")
    return await server_context(
        runtime(request), request.headers.get("host", ""), request.path_params, org=org
    )


async def server_context(
    rt: Runtime, host: str, path_params: Mapping[str, str], *, org: Org | None = None
) -> ServerContext:
    """The server named by the route's ``authServerId`` (the org AS without one) in the org
    that ``host`` selects (or ``org``, when the edge resolved it already); 404 ``not_found``
    when it does not exist or is inactive."""
    if org is None:
        org = await rt.org_for_host(host)
    server_id = path_params.get("authServerId") or servers_domain.ORG_SERVER_ID
    if server_id == servers_domain.ORG_SERVER_ID and "authServerId" in path_params:
        raise OAuthHTTPError(404, "not_found", "The authorization server was not found.")
    server = await rt.servers.get(org.id, server_id)
    if server is None or server.status != "ACTIVE":
        raise OAuthHTTPError(404, "not_found", "The authorization server was not found or is inactive.")
    key = (org.id, server_id)
    ctx = rt.server_contexts.get(key)
    if ctx is None or ctx.org is not org or ctx.server is not server:
        ctx = _context(org, rt.org_url(org), server)
        rt.server_contexts.set(key, ctx)
    return ctx


def _context(org: Org, org_url: str, server: servers_domain.ServerRecord) -> ServerContext:
    issuer = servers_domain.issuer(server, org_url)
    return ServerContext(
        org=org,
        org_url=org_url,
        server=server,
        issuer=issuer,
        audiences=tuple(servers_domain.audiences(server, org_url)),
        endpoint_base=f"{org_url}/oauth2" if server.kind == servers_domain.ORG else issuer,
    )
