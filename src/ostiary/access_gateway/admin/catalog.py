"""The proxy's view of configuration: ``StoreAppCatalog.app_for_host``.

It answers the proxy's ``AppCatalog`` protocol with the app document exactly as
``GET /api/v2/apps/{id}?expand=...`` returns it, every ``_embedded`` part expanded, plus
``ostiaryOidc``: the org's base URL and the OIDC web app the gateway made there for this app.
A short cache keeps the proxy off the database; every admin write empties it in this process,
and entries live at most ``ttl`` seconds so other processes see changes within a second.
"""

from __future__ import annotations

import time
from typing import Any

from ostiary.access_gateway.admin import repository
from ostiary.access_gateway.admin.app_documents import ALL_EXPANSIONS, callback_uri, render_app
from ostiary.access_gateway.admin.org_sync import org_base_url
from ostiary.access_gateway.runtime import GatewayRuntime

_MAX_ENTRIES = 1024


class StoreAppCatalog:
    def __init__(self, runtime: GatewayRuntime, *, ttl: float = 0.5) -> None:
        self._runtime = runtime
        self._ttl = ttl
        self._entries: dict[str, tuple[float, dict[str, Any] | None]] = {}
        runtime.write_listeners.append(self.invalidate)

    def invalidate(self) -> None:
        self._entries.clear()

    async def app_for_host(self, host: str) -> dict[str, Any] | None:
        key = host.lower()
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        document = await self._load(key)
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now + self._ttl, document)
        return document

    async def _load(self, host: str) -> dict[str, Any] | None:
        candidates = [host]
        if ":" in host:
            candidates.append(host.rsplit(":", 1)[0])
        async with self._runtime.engine.connect() as conn:
            for candidate in candidates:
                row = await repository.app_by_domain(conn, candidate)
                if row is not None:
                    document = await render_app(conn, row, ALL_EXPANSIONS)
                    document["ostiaryOidc"] = await self._oidc(conn, row)
                    return document
        return None

    async def _oidc(self, conn: Any, row: dict[str, Any]) -> dict[str, Any] | None:
        idp = await repository.get_idp(conn, row["idp_id"]) if row["idp_id"] else None
        if idp is None or not row["org_client_secret_encrypted"]:
            return None
        client_id, _, secret = self._runtime.secrets.open(
            row["org_client_secret_encrypted"], "apps", row["id"]
        ).partition("\n")
        oidc: dict[str, Any] = {
            "orgUrl": org_base_url(idp["domain"]),
            "clientId": client_id,
            "clientSecret": secret,
            "redirectUri": callback_uri(self._runtime.config, row["public_domain"]),
        }
        if row.get("group_names"):  # the app's groups, by name, for the proxy's own check
            oidc["groupNames"] = list(row["group_names"])
        return oidc
