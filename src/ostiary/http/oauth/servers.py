"""Which authorization server a ``/oauth2/...`` request is for, and its issuer."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ostiary.domain.authz import servers as servers_domain
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.runtime import runtime
from ostiary.store.models import AuthorizationServer, Org


@dataclass(frozen=True)
class ServerContext:
    org: Org
    org_url: str
    server: AuthorizationServer
    issuer: str

    def endpoint(self, name: str) -> str:
        """``{issuer}/v1/{name}`` for custom servers, ``{org}/oauth2/v1/{name}`` for the org AS."""
        base = f"{self.org_url}/oauth2" if self.server.kind == servers_domain.ORG else self.issuer
        return f"{base}/v1/{name}"

    @property
    def audiences(self) -> list[str]:
        return servers_domain.audiences(self.server, self.org_url)


async def resolve_server(request: Request) -> ServerContext:
    rt = runtime(request)
    org = await rt.org_for(request)
    server_id = request.path_params.get("authServerId") or servers_domain.ORG_SERVER_ID
    if server_id == servers_domain.ORG_SERVER_ID and "authServerId" in request.path_params:
        raise OAuthHTTPError(404, "not_found", "The authorization server was not found.")
    server = await rt.servers.get(org.id, server_id)
    if server is None or server.status != "ACTIVE":
        raise OAuthHTTPError(404, "not_found", "The authorization server was not found or is inactive.")
    org_url = rt.org_url(org)
    return ServerContext(
        org=org, org_url=org_url, server=server, issuer=servers_domain.issuer(server, org_url)
    )
