"""Keeping each gateway app's OIDC web app in the IdP's org in step with the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ostiary.access_gateway.admin.app_documents import callback_uri, post_logout_uris
from ostiary.access_gateway.admin.errors import AdminError
from ostiary.access_gateway.admin.org_sync import OidcApp, OrgClient, OrgSyncError, with_group_names
from ostiary.access_gateway.runtime import GatewayRuntime


def sync_failed(exc: OrgSyncError) -> AdminError:
    return AdminError(400, "BAD_REQUEST", "The IdP could not be updated", {"idp": str(exc)})


def org_client(runtime: GatewayRuntime, idp: dict[str, Any]) -> OrgClient:
    token = runtime.secrets.open(idp["api_token_encrypted"], "idps", idp["id"])
    return OrgClient(idp["domain"], token)


async def create_org_app(
    runtime: GatewayRuntime,
    idp: dict[str, Any],
    *,
    label: str,
    public_domain: str,
    behavior: dict[str, Any],
    groups: Sequence[str],
) -> OidcApp:
    client = org_client(runtime, idp)
    config = runtime.config
    try:
        created = await client.create_oidc_app(
            label, callback_uri(config, public_domain), post_logout_uris(config, public_domain, behavior)
        )
        try:
            names = await client.set_groups(created.app_id, groups)
        except OrgSyncError:
            await client.delete_app(created.app_id)
            raise
    except OrgSyncError as exc:
        raise sync_failed(exc) from None
    return with_group_names(created, names)


async def update_org_app(
    runtime: GatewayRuntime,
    idp: dict[str, Any],
    org_app_id: str,
    *,
    label: str,
    public_domain: str,
    behavior: dict[str, Any],
    groups: Sequence[str],
) -> tuple[str, ...]:
    """Brings the org app in step; the names of its groups."""
    client = org_client(runtime, idp)
    config = runtime.config
    try:
        await client.update_oidc_app(
            org_app_id,
            label,
            callback_uri(config, public_domain),
            post_logout_uris(config, public_domain, behavior),
        )
        return await client.set_groups(org_app_id, groups)
    except OrgSyncError as exc:
        raise sync_failed(exc) from None


async def remove_org_app(runtime: GatewayRuntime, idp: dict[str, Any], org_app_id: str) -> None:
    try:
        await org_client(runtime, idp).delete_app(org_app_id)
    except OrgSyncError as exc:
        raise sync_failed(exc) from None
