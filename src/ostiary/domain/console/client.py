"""The org's own OAuth client for the admin console, created on first use.

The console signs admins in with OIDC code + PKCE (S256) against the org authorization server,
like any other app. Its client is an ordinary OIDC app of the org: a public ``browser`` client
(``token_endpoint_auth_method: none``, PKCE required) whose only redirect URI is
``{org URL}/admin/callback``, assigned to Everyone (who gets in is decided after sign-in by
:func:`ostiary.domain.console.access.console_access`, not by the assignment). Its id is derived
from the org id, so every process of a cluster finds the same app and none creates a second.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ostiary import ids
from ostiary.domain.clients import apps as apps_domain
from ostiary.domain.clients import assignments
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.errors import NotFound

LABEL = "Ostiary Admin Console"
CALLBACK_PATH = "/admin/callback"


def console_client_id(org_id: str) -> str:
    """``0oa`` + 17 base62 characters derived from the org id (stable, looks like any app id)."""
    value = int.from_bytes(hashlib.sha256(f"ostiary-console:{org_id}".encode()).digest(), "big")
    chars = []
    for _ in range(17):
        value, rem = divmod(value, 62)
        chars.append(ids.ALPHABET[rem])
    return ids.APP + "".join(chars)


def _body(redirect_uri: str) -> dict[str, Any]:
    return {
        "name": "oidc_client",
        "label": LABEL,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "none", "pkce_required": True}},
        "settings": {
            "oauthClient": {
                "application_type": "browser",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": [redirect_uri],
            }
        },
    }


async def ensure_console_client(tx: Tx, org_url: str) -> str:
    """The console's client id, creating the app (and its Everyone assignment) when missing."""
    app_id = console_client_id(tx.org_id)
    try:
        await apps_domain.get_app_view(tx, app_id)
        return app_id
    except NotFound:
        pass
    await apps_domain.create_app(tx, _body(org_url + CALLBACK_PATH), app_id=app_id)
    everyone = await groups_domain.everyone(tx)
    await assignments.assign_group(tx, app_id, everyone.id, {})
    return app_id
