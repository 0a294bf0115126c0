"""Verify the bearer tokens sent to your own API (like Okta's ``OktaJwtVerifier`` / ``OktaJwtAuth``).

``JwtAuth`` checks tokens of one issuer for one audience, fetching the issuer's keys
through a ``JwksCache``. ``current_claims`` and ``require_scopes`` are request-level
helpers with the signature FastAPI expects of a dependency (``Depends(require_scopes("x"))``)
and which a Starlette endpoint can simply await::

    auth = JwtAuth("https://example.okta.com/oauth2/default", "api://default")

    async def messages(request):
        claims = await auth.require_scopes("messages:read")(request)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.requests import HTTPConnection

from ostiary.jose.token_kind import check_access_token
from ostiary.jose.verify import IssuerConfig, JwksCache, KeysUnavailable, TokenInvalid, parse_token
from ostiary.resource.bearer import (
    REALM,
    TWO_AUTHORIZATION_HEADERS,
    BearerError,
    authorization_header_count,
    bearer_token,
    insufficient_scope,
    invalid_request,
    invalid_token,
    missing_token,
)

CLAIMS_KEY = "ostiary.claims"
AUTH_KEY = "ostiary.auth"

Dependency = Callable[[HTTPConnection], Awaitable[dict[str, Any]]]


def granted_scopes(claims: Mapping[str, Any]) -> list[str]:
    """Scopes in the order the token lists them: Okta's ``scp`` array, or a space-separated
    ``scp``/``scope`` string."""
    for name in ("scp", "scope"):
        value = claims.get(name)
        if isinstance(value, list):
            return [s for s in value if isinstance(s, str)]
        if isinstance(value, str):
            return value.split()
    return []


class JwtAuth:
    def __init__(
        self,
        issuer: str,
        audience: str | Sequence[str] | None = "api://default",
        *,
        jwks_uri: str | None = None,
        cache: JwksCache | None = None,
        leeway: int = 30,
        realm: str = REALM,
    ) -> None:
        audiences = (
            None if audience is None else (audience,) if isinstance(audience, str) else tuple(audience)
        )
        self.config = IssuerConfig(issuer=issuer, audiences=audiences, jwks_uri=jwks_uri, leeway=leeway)
        self.cache = cache or JwksCache()
        self._owns_cache = cache is None
        self.realm = realm

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token; ``TokenInvalid`` otherwise (ID tokens included:
        ``jose.token_kind``)."""
        parsed = parse_token(token)
        check_access_token(parsed.header, parsed.claims)
        verifier = await self.cache.get_verifier(self.config)
        return await verifier.verify(token)

    async def authenticate(self, authorization: str | None) -> dict[str, Any]:
        """The claims behind an ``Authorization`` header value; ``BearerError`` (401) otherwise."""
        token = bearer_token(authorization)
        if token is None:
            raise missing_token(self.realm)
        if not token:
            raise invalid_token("The bearer token is empty.", self.realm)
        try:
            return await self.verify(token)
        except KeysUnavailable as exc:
            raise BearerError(503, "temporarily_unavailable", exc.description, realm=self.realm) from exc
        except TokenInvalid as exc:
            raise invalid_token(exc.description, self.realm) from exc

    def check_scopes(self, claims: Mapping[str, Any], scopes: Sequence[str]) -> None:
        granted = set(granted_scopes(claims))
        if any(scope not in granted for scope in scopes):
            raise insufficient_scope(" ".join(scopes), self.realm)

    async def current_claims(self, request: HTTPConnection) -> dict[str, Any]:
        claims = request.scope.get(CLAIMS_KEY)
        if claims is None:
            if authorization_header_count(request.scope["headers"]) > 1:
                raise invalid_request(TWO_AUTHORIZATION_HEADERS, self.realm)
            claims = await self.authenticate(request.headers.get("authorization"))
            request.scope[CLAIMS_KEY] = claims
        return dict(claims)

    def require_scopes(self, *scopes: str) -> Dependency:
        async def dependency(request: HTTPConnection) -> dict[str, Any]:
            claims = await self.current_claims(request)
            self.check_scopes(claims, scopes)
            return claims

        return dependency

    async def close(self) -> None:
        if self._owns_cache:
            await self.cache.close()


def _auth_of(request: HTTPConnection) -> JwtAuth:
    auth = request.scope.get(AUTH_KEY)
    if not isinstance(auth, JwtAuth):
        raise RuntimeError(
            "no JwtAuth for this request: add ProtectedAPIMiddleware, or use JwtAuth.current_claims"
        )
    return auth


async def current_claims(request: HTTPConnection) -> dict[str, Any]:
    """The verified claims of the request's token (set by ``ProtectedAPIMiddleware``, or checked
    now with the middleware's ``JwtAuth`` on a public path); 401 without a valid token."""
    claims = request.scope.get(CLAIMS_KEY)
    if claims is not None:
        return dict(claims)
    return await _auth_of(request).current_claims(request)


def require_scopes(*scopes: str) -> Dependency:
    """A dependency giving the claims if the token holds every one of ``scopes`` (else 403)."""

    async def dependency(request: HTTPConnection) -> dict[str, Any]:
        claims = await current_claims(request)
        granted = set(granted_scopes(claims))
        if any(scope not in granted for scope in scopes):
            auth = request.scope.get(AUTH_KEY)
            raise insufficient_scope(" ".join(scopes), auth.realm if isinstance(auth, JwtAuth) else REALM)
        return claims

    return dependency
