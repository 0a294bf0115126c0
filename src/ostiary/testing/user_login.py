"""A user's tokens through the real authorization-code flow with PKCE, without a browser: the
authn API gives a ``sessionToken``, ``/authorize`` takes it and redirects with a code, and the
token endpoint redeems the code with the verifier (RFC 7636), as a browser app would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ostiary.testing.http_client import HttpError, Reply, basic, request


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def session_token(org_url: str, login: str, password: str, **http: Any) -> str:
    reply = request("POST", f"{org_url}/api/v1/authn", json={"username": login, "password": password}, **http)
    body = reply.json() if reply.status == 200 else {}
    if body.get("status") != "SUCCESS":
        raise HttpError(f"sign-in of {login}", reply)
    return str(body["sessionToken"])


def authorization_code(
    endpoint_base: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    session: str,
    challenge: str,
    **http: Any,
) -> str:
    """``GET /authorize`` with the session token; the code of the redirect."""
    state = secrets.token_urlsafe(16)
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": " ".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "sessionToken": session,
    }
    reply = request("GET", f"{endpoint_base}/authorize?{urlencode(query)}", **http)
    location = reply.header("location") or ""
    params = parse_qs(urlsplit(location).query)
    if reply.status not in (302, 303) or "code" not in params:
        raise HttpError(f"/authorize for {client_id} (redirect {location!r})", reply)
    if params.get("state") != [state]:
        raise HttpError("/authorize answered another state", reply)
    return params["code"][0]


def redeem_code(
    endpoint_base: str,
    *,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    code: str,
    verifier: str,
    **http: Any,
) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    form["code_verifier"] = verifier
    headers = {}
    if client_secret is None:
        form["client_id"] = client_id
    else:
        headers["Authorization"] = basic(client_id, client_secret)
    reply: Reply = request("POST", f"{endpoint_base}/token", form=form, headers=headers, **http)
    if reply.status != 200:
        raise HttpError(f"code redemption for {client_id}", reply)
    result: dict[str, Any] = reply.json()
    return result
