"""Which authorization server a ``/oauth2/...`` request is for, and its issuer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request

from ostiary.domain.authz import servers as servers_domain
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.runtime import Runtime, runtime
from ostiary.store.models import AuthorizationServer, Org


@dataclass(frozen=True)
class ServerContext:
    """One server of one org as the OAuth endpoints see it; built once per (org, server)
    snapshot and reused until either cached object is replaced."""

    org: Org
    org_url: str
    server: AuthorizationServer
    issuer: str
    audiences: tuple[str, ...] = ()
    _endpoints: dict[str, str] = field(default_factory=dict, compare=False)

    def endpoint(self, name: str) -> str:
        """``{issuer}/v1/{name}`` for custom servers, ``{org}/oauth2/v1/{name}`` for the org AS."""
        url = self._endpoints.get(name)
        if url is None:
            base = f"{self.org_url}/oauth2" if self.server.kind == servers_domain.ORG else self.issuer
            url = self._endpoints[name] = f"{base}/v1/{name}"
        return url


async def resolve_server(request: Request) -> ServerContext:
    return await server_context(runtime(request), request.headers.get("host", ""), request.path_params)


async def server_context(rt: Runtime, host: str, path_params: Mapping[str, str]) -> ServerContext:
    """The server named by the route's ``authServerId`` (the org AS without one) in the org
    that ``host`` selects; 404 ``not_found`` when it does not exist or is inactive."""
    org = await rt.org_for_host(host)
    server_id = path_params.get("authServerId") or servers_domain.ORG_SERVER_ID
    if server_id == servers_domain.ORG_SERVER_ID and "authServerId" in path_params:
        raise OAuthHTTPError(404, "not_found", "The authorization server was not found.")
    server = await rt.servers.get(org.id, server_id)
    if server is None or server.status != "ACTIVE":
        raise OAuthHTTPError(404, "not_found", "The authorization server was not found or is inactive.")
    key = (org.id, server_id)
    ctx: ServerContext | None = rt.server_contexts.get(key)
    if ctx is None or ctx.org is not org or ctx.server is not server:
        org_url = rt.org_url(org)
        ctx = ServerContext(
            org=org,
            org_url=org_url,
            server=server,
            issuer=servers_domain.issuer(server, org_url),
            audiences=tuple(servers_domain.audiences(server, org_url)),
        )
        rt.server_contexts[key] = ctx
    return ctx
