"""``POST /api/v1/authn``: Okta's Classic primary authentication (username and password in,
a one-time ``sessionToken`` out). No API token; CORS for trusted origins only.

The attempt is committed before a refusal is answered, so failure counts, lockouts and log
events persist; every refusal is the same 401 ``E0000004``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory import authn as authn_domain
from ostiary.http import signin_throttle
from ostiary.http.auth import client_info
from ostiary.http.cors import preflight_endpoint, with_cors
from ostiary.http.errors import OktaHTTPError
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime
from ostiary.store.models import User
from ostiary.timeutil import iso

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_CREDENTIAL_LENGTH = 1024


def _credential(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise OktaHTTPError(
            400, "E0000001", f"Api validation failed: {name}", [f"{name}: The field cannot be left blank"]
        )
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise OktaHTTPError(400, "E0000001", f"Api validation failed: {name}", [f"{name}: is too long"])
    return value


def embedded_user(user: User) -> dict[str, Any]:
    """The ``_embedded.user`` of an authentication transaction."""
    profile = user.profile
    return {
        "id": user.id,
        "passwordChanged": iso(user.password_changed),
        "profile": {
            "login": user.login,
            "firstName": profile.get("firstName"),
            "lastName": profile.get("lastName"),
            "locale": profile.get("locale") or "en_US",
            "timeZone": profile.get("timeZone") or "America/Los_Angeles",
        },
    }


def transaction_json(result: authn_domain.AuthnResult) -> dict[str, Any]:
    if result.user is None:
        return {"status": result.status}
    body: dict[str, Any] = {}
    if result.state_token is not None:
        body["stateToken"] = result.state_token
    body["expiresAt"] = iso(result.expires_at)
    body["status"] = result.status
    if result.session_token is not None:
        body["sessionToken"] = result.session_token
    body["_embedded"] = {"user": embedded_user(result.user)}
    return body


async def authn(request: Request) -> Response:
    body = await json_object(request)
    username = _credential(body, "username")
    password = _credential(body, "password")
    rt = runtime(request)
    org = await rt.org_for(request)
    exhausted = await signin_throttle.throttled(request, org, username)
    if exhausted is not None:
        raise signin_throttle.too_many_attempts(exhausted)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        result = await authn_domain.primary_authentication(tx, username, password)
    if result.status == authn_domain.FAILED:
        raise authn_domain.authentication_failed()
    return json_response(transaction_json(result), headers=NO_STORE)


routes = [
    Route("/api/v1/authn", with_cors(authn), methods=["POST"]),
    Route("/api/v1/authn", preflight_endpoint("POST"), methods=["OPTIONS"]),
]
