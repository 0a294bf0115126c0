"""``POST /api/v2/oauth/token``: client credentials with a private_key_jwt client assertion.

Every failure is a 401 with the spec's error body (the issue's rule); the reason is in
``details.reason`` and never repeats the assertion.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.access_gateway.admin import access_tokens, client_assertion
from ostiary.access_gateway.admin.api_clients import find_client
from ostiary.access_gateway.admin.errors import AdminError, unauthorized
from ostiary.access_gateway.admin.scopes import ALL_SCOPES
from ostiary.access_gateway.runtime import GatewayRuntime

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_FORM_BYTES = 16 * 1024


def _refuse(reason: str) -> AdminError:
    return unauthorized("Client authentication failed", reason=reason)


async def _read_form(request: Request) -> dict[str, str]:
    if (
        request.headers.get("content-type", "").split(";")[0].strip().lower()
        != "application/x-www-form-urlencoded"
    ):
        raise _refuse("the request must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise _refuse("the request body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise _refuse("the request body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise _refuse(f"the parameter {name} is repeated")
        form[name] = value
    return form


def _requested_scopes(form: dict[str, str], asserted: list[str], client_scopes: list[str]) -> list[str]:
    requested = form["scope"].split() if form.get("scope", "").strip() else asserted
    unknown = [scope for scope in requested if scope not in ALL_SCOPES]
    if unknown:
        raise _refuse(f"unknown scope(s): {' '.join(unknown)}")
    if not set(requested) <= set(asserted):
        raise _refuse("the requested scopes are not all in the client assertion's scope claim")
    if not set(requested) <= set(client_scopes):
        raise _refuse("the client is not allowed the requested scopes")
    return list(dict.fromkeys(requested))


async def token(request: Request) -> Response:
    runtime: GatewayRuntime = request.app.state.runtime
    form = await _read_form(request)
    if form.get("grant_type") != "client_credentials":
        raise _refuse("grant_type must be client_credentials")
    if form.get("client_assertion_type") != JWT_BEARER:
        raise _refuse(f"client_assertion_type must be {JWT_BEARER}")
    assertion = form.get("client_assertion", "")
    now = runtime.clock()
    try:
        parsed = client_assertion.unverified(assertion)
        client = await find_client(runtime.engine, client_assertion.claimed_client_id(parsed))
        if client is None:
            raise client_assertion.AssertionRejected("unknown client")
        client_assertion.verify(parsed, client, audience=runtime.config.origin, now=now)
    except client_assertion.AssertionRejected as exc:
        raise _refuse(str(exc)) from None
    claims = parsed.claims
    scopes = _requested_scopes(form, str(claims["scope"]).split(), list(client["scopes"]))
    jti = claims.get("jti")
    replay_key = f"jti:{client['id']}:{jti}" if jti else f"jwt:{assertion}"
    if not await access_tokens.spend_assertion(runtime.engine, replay_key, float(claims["exp"]), now):
        raise _refuse("the client assertion was already used")
    access_token = await access_tokens.issue(runtime.engine, client["id"], scopes, now)
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": access_tokens.LIFETIME,
            "scope": " ".join(scopes),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
