"""Sign-in at the org (OpenID Connect, authorization code with PKCE S256, RFC 7636).

The org's authorization server is the org server itself: ``{orgUrl}/oauth2/v1/authorize``,
``/token`` (``client_secret_basic``), ``/keys``, ``/userinfo`` and ``/logout``; its issuer
is ``orgUrl``. The ID token is verified with the org's keys (signature, ``iss``, ``aud`` =
the client id, ``exp``, ``iat``) and its ``nonce`` compared with the one sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode

import aiohttp

from ostiary.access_gateway.proxy.config import OidcClient
from ostiary.jose.jwks_cache import IssuerConfig, JwksCache
from ostiary.jose.token_errors import TokenInvalid
from ostiary.randomness import token_urlsafe

SCOPES: Final = "openid profile email groups"
MAX_TOKEN_RESPONSE: Final = 64 * 1024


class SignInFailed(Exception):
    """The org did not hand out a usable identity; ``reason`` is for logs and metrics."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    claims: dict[str, Any]
    id_token: str


def pkce_pair() -> tuple[str, str]:
    verifier = token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    client: OidcClient, *, redirect_uri: str, state: str, nonce: str, challenge: str, force: bool = False
) -> str:
    params = {
        "client_id": client.client_id,
        "response_type": "code",
        "scope": SCOPES,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if force:
        params["prompt"] = "login"
    return f"{client.org_url}/oauth2/v1/authorize?{urlencode(params)}"


def logout_url(client: OidcClient, *, id_token: str, post_logout_redirect_uri: str) -> str:
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri}
    return f"{client.org_url}/oauth2/v1/logout?{urlencode(params)}"


def _basic(client: OidcClient) -> str:
    """RFC 6749 §2.3.1: each part form-urlencoded before the Basic encoding."""
    raw = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")


class OrgSignIn:
    def __init__(self, http: aiohttp.ClientSession, jwks: JwksCache, *, timeout: float = 10.0) -> None:
        self._http = http
        self._jwks = jwks
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _post_json(self, url: str, data: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        try:
            async with self._http.post(url, data=data, headers=headers, timeout=self._timeout) as response:
                body = await response.content.read(MAX_TOKEN_RESPONSE)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SignInFailed(f"org_unreachable: {type(exc).__name__}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise SignInFailed(f"token_endpoint_answered_{status}") from None
        if status != 200 or not isinstance(document, dict):
            error = document.get("error") if isinstance(document, dict) else None
            raise SignInFailed(f"token_endpoint_{error or status}")
        return document

    async def exchange(
        self, client: OidcClient, *, code: str, verifier: str, redirect_uri: str, nonce: str
    ) -> Identity:
        tokens = await self._post_json(
            f"{client.org_url}/oauth2/v1/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            {"Authorization": _basic(client), "Accept": "application/json"},
        )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("no_id_token")
        config = IssuerConfig(
            issuer=client.org_url,
            audiences=(client.client_id,),
            jwks_uri=f"{client.org_url}/oauth2/v1/keys",
            leeway=60,
        )
        try:
            claims = await self._jwks.verify(id_token, config)
        except TokenInvalid as exc:
            raise SignInFailed(f"id_token_{exc.reason}") from None
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            raise SignInFailed("id_token_nonce")
        if not isinstance(claims.get("sub"), str):
            raise SignInFailed("id_token_no_sub")
        access_token = tokens.get("access_token")
        if "groups" not in claims and isinstance(access_token, str):
            info = await self._userinfo(client, access_token)
            if info.get("sub") == claims["sub"]:
                claims = {**info, **claims}
        return Identity(claims=claims, id_token=id_token)

    async def _userinfo(self, client: OidcClient, access_token: str) -> dict[str, Any]:
        """The profile and groups from ``/userinfo`` when the ID token lacks them (used only
        when its ``sub`` is the ID token's; the ID token's claims win)."""
        try:
            async with self._http.get(
                f"{client.org_url}/oauth2/v1/userinfo",
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    return {}
                document = json.loads(await response.content.read(MAX_TOKEN_RESPONSE))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return {}
        return document if isinstance(document, dict) else {}
