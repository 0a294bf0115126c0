"""The IdP side of an app: an OIDC web app in the Okta (or Ostiary) org, made and kept up to
date through the org's management API with the IdP's SSWS ``apiToken``, like the real
appliance does, so the operator never touches the org by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(10.0)
CHECK_TIMEOUT = httpx.Timeout(3.0)
"""A status check (``validationStatus``, the health check) gives a slow org less time."""


class OrgSyncError(RuntimeError):
    """The org refused or could not be reached; the message is safe to show an operator."""


def org_base_url(domain: str) -> str:
    """A host means https; a full ``http(s)://`` URL is taken as is (local orgs)."""
    if domain.startswith(("http://", "https://")):
        return domain.rstrip("/")
    return f"https://{domain}"


@dataclass(frozen=True)
class OidcApp:
    app_id: str
    client_id: str
    client_secret: str
    group_names: tuple[str, ...] = ()
    """The names of the groups assigned (ID tokens carry names; the proxy checks them)."""


class OrgClient:
    def __init__(
        self, domain: str, api_token: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.base_url = org_base_url(domain)
        self._headers = {
            "Authorization": f"SSWS {api_token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._transport = transport

    async def _call(
        self,
        method: str,
        path: str,
        json: Any = None,
        expect: Sequence[int] = (200,),
        limit: httpx.Timeout = TIMEOUT,
    ) -> Any:
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, headers=self._headers, timeout=limit, transport=self._transport
            ) as client:
                response = await client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise OrgSyncError(
                f"the IdP at {self.base_url} could not be reached ({type(exc).__name__})"
            ) from None
        if response.status_code not in expect:
            summary = ""
            try:
                body = response.json()
                summary = str(body.get("errorSummary") or "")
                causes = [
                    c.get("errorSummary", "") for c in body.get("errorCauses") or [] if isinstance(c, dict)
                ]
                if causes:
                    summary += " (" + "; ".join(causes) + ")"
            except ValueError:
                pass
            raise OrgSyncError(
                f"the IdP answered {method} {path} with {response.status_code}: {summary}".strip()
            )
        return response.json() if response.content else None

    async def check(self) -> bool:
        """Whether the API token works against the org."""
        try:
            await self._call("GET", "/api/v1/apps?limit=1", limit=CHECK_TIMEOUT)
        except OrgSyncError:
            return False
        return True

    def _app_body(self, label: str, redirect_uri: str, post_logout: Sequence[str]) -> dict[str, Any]:
        return {
            "name": "oidc_client",
            "label": label,
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "redirect_uris": [redirect_uri],
                    "post_logout_redirect_uris": list(post_logout),
                    "response_types": ["code"],
                    "grant_types": ["authorization_code"],
                    "application_type": "web",
                }
            },
        }

    async def create_oidc_app(self, label: str, redirect_uri: str, post_logout: Sequence[str]) -> OidcApp:
        body = await self._call("POST", "/api/v1/apps", self._app_body(label, redirect_uri, post_logout))
        oauth = body.get("credentials", {}).get("oauthClient", {})
        secret = oauth.get("client_secret")
        if not isinstance(secret, str) or not secret:
            await self.delete_app(body["id"])
            raise OrgSyncError("the IdP did not return a client secret for the new OIDC app")
        return OidcApp(
            app_id=body["id"], client_id=oauth.get("client_id") or body["id"], client_secret=secret
        )

    async def update_oidc_app(
        self, app_id: str, label: str, redirect_uri: str, post_logout: Sequence[str]
    ) -> None:
        await self._call("PUT", f"/api/v1/apps/{app_id}", self._app_body(label, redirect_uri, post_logout))

    async def set_groups(self, app_id: str, groups: Sequence[str]) -> tuple[str, ...]:
        """Assign exactly ``groups`` to the org app; their names."""
        current = await self._call("GET", f"/api/v1/apps/{app_id}/groups?limit=200")
        assigned = {item["id"] for item in current or []}
        for group_id in groups:
            if group_id not in assigned:
                await self._call("PUT", f"/api/v1/apps/{app_id}/groups/{group_id}", {})
        for group_id in assigned - set(groups):
            await self._call("DELETE", f"/api/v1/apps/{app_id}/groups/{group_id}", expect=(204, 404))
        return await self.group_names(groups)

    async def group_names(self, groups: Sequence[str]) -> tuple[str, ...]:
        names = []
        for group_id in groups:
            body = await self._call("GET", f"/api/v1/groups/{group_id}")
            name = (body.get("profile") or {}).get("name") if isinstance(body, dict) else None
            if not isinstance(name, str):
                raise OrgSyncError(f"the IdP returned no name for group {group_id}")
            names.append(name)
        return tuple(names)

    async def delete_app(self, app_id: str) -> None:
        await self._call("POST", f"/api/v1/apps/{app_id}/lifecycle/deactivate", {}, expect=(200, 404))
        await self._call("DELETE", f"/api/v1/apps/{app_id}", expect=(204, 404))


def with_group_names(app: OidcApp, names: tuple[str, ...]) -> OidcApp:
    return replace(app, group_names=names)
