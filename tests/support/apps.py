"""OIDC apps made through /api/v1/apps: bodies, keys, scoped bearer clients."""

from __future__ import annotations

import functools
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ostiary.domain.context import Actor
from ostiary.http.runtime import Principal

APPS = "/api/v1/apps"


@functools.cache
def _rsa_private(name: str, bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def rsa_private(name: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The same key for the same name, however it is asked for (tests stay fast)."""
    return _rsa_private(name, bits)


@functools.cache
def ec_private(name: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_jwk(name: str = "k1", *, kid: str | None = None, bits: int = 2048, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(rsa_private(name, bits).public_key(), as_dict=True)
    jwk.update(alg="RS256", use="sig")
    if kid is not None:
        jwk["kid"] = kid
    jwk.update(extra)
    return jwk


def ec_jwk(name: str = "e1", *, kid: str | None = None) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(ec_private(name).public_key(), as_dict=True)
    jwk.update(alg="ES256", use="sig")
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def oidc_app(
    app_type: str = "web",
    *,
    method: str | None = "client_secret_basic",
    label: str = "My App",
    grants: list[str] | None = None,
    responses: list[str] | None = None,
    redirects: list[str] | None = None,
    credentials: dict[str, Any] | None = None,
    **oauth: Any,
) -> dict[str, Any]:
    defaults = {
        "web": (["authorization_code"], ["code"], ["https://app.example.com/callback"]),
        "native": (["authorization_code"], ["code"], ["com.example.app:/callback"]),
        "browser": (["authorization_code"], ["code"], ["https://spa.example.com/callback"]),
        "service": (["client_credentials"], ["token"], []),
    }[app_type]
    settings: dict[str, Any] = {
        "application_type": app_type,
        "grant_types": grants if grants is not None else defaults[0],
        "response_types": responses if responses is not None else defaults[1],
        "redirect_uris": redirects if redirects is not None else defaults[2],
        **oauth,
    }
    oauth_credentials = dict(credentials or {})
    if method is not None:
        oauth_credentials.setdefault("token_endpoint_auth_method", method)
    body: dict[str, Any] = {
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "settings": {"oauthClient": settings},
    }
    if oauth_credentials:
        body["credentials"] = {"oauthClient": oauth_credentials}
    return body


def service_app(**kwargs: Any) -> dict[str, Any]:
    return oidc_app("service", **kwargs)


def key_app(*keys: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return oidc_app("service", method="private_key_jwt", jwks={"keys": list(keys)}, **kwargs)


async def create_app(client: httpx.AsyncClient, body: dict[str, Any] | None = None, **params: str) -> Any:
    response = await client.post(APPS, json=body or oidc_app(), params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def count_apps(client: httpx.AsyncClient) -> int:
    return len((await client.get(APPS, params={"limit": "200"})).json())


def causes(response: httpx.Response) -> list[str]:
    return [c["errorSummary"] for c in response.json()["errorCauses"]]


def _scoped_bearer(*scopes: str) -> Any:
    async def authenticate(_session: Any, _org: Any, _org_url: str, token: str) -> Principal | None:
        if token != "scoped-token":
            return None
        actor = Actor("0oaCallerApp000000001", "PublicClientApp", "caller", "caller")
        return Principal(actor=actor, scopes=frozenset(scopes), kind="oauth")

    return authenticate
