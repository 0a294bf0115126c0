"""The orders API: every request needs an access token of the Orders authorization server,
verified with Okta's own ``okta-jwt-verifier`` (0.5.0), and the scope its route asks for."""

from __future__ import annotations

from okta_jwt_verifier import AccessTokenVerifier
from okta_jwt_verifier.exceptions import JWTValidationException
from okta_jwt_verifier.jwt_utils import JWTUtils
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ORDERS = [{"id": "ord1", "item": "telescope"}]


def create_app(issuer: str, audience: str = "api://orders") -> Starlette:
    verifier = AccessTokenVerifier(issuer=issuer, audience=audience)

    async def claims_with_scope(request: Request, scope: str) -> dict | JSONResponse:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return JSONResponse({"error": "unauthorized"}, 401)
        token = header[len("Bearer ") :]
        try:
            await verifier.verify(token)
        except JWTValidationException as exc:
            return JSONResponse({"error": "invalid_token", "detail": str(exc)}, 401)
        _headers, claims, _signed, _signature = JWTUtils.parse_token(token)
        if scope not in claims.get("scp", []):
            return JSONResponse({"error": "insufficient_scope"}, 403)
        return claims

    async def list_orders(request: Request) -> JSONResponse:
        claims = await claims_with_scope(request, "orders:read")
        if isinstance(claims, JSONResponse):
            return claims
        return JSONResponse({"orders": ORDERS, "caller": claims["sub"]})

    async def place_order(request: Request) -> JSONResponse:
        claims = await claims_with_scope(request, "orders:write")
        if isinstance(claims, JSONResponse):
            return claims
        return JSONResponse({"placedBy": claims["sub"]}, 201)

    app = Starlette(
        routes=[
            Route("/orders", list_orders, methods=["GET"]),
            Route("/orders", place_order, methods=["POST"]),
        ]
    )
    app.state.verifier = verifier
    return app
