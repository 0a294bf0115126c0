"""``{issuer}/v1/keys``: the JWKS of an authorization server (ACTIVE, NEXT and retained keys).

Two ways in, one answer:

- :func:`keys`, the router's endpoint (wrapped in ``oauth_cors``): ``HEAD``, the first request
  after a key ring was dropped, and anything :class:`KeysEndpoint` declines;
- :class:`KeysEndpoint`, which ``http.fast_routes.TokenFastPath`` hands ``GET`` to before the
  router, and which answers only from what is cached: the org the edge resolved, the server
  record (``ServerCache``) and the key ring (``KeyRings.cached``). Its body is the ring's JWKS
  serialized once per ring object and reused while that ring is the cached one: a rotation, the
  ``ring`` cache event or the ring's TTL replaces the ring, and the next request serializes the
  new one (:class:`JwksAnswers`). The server's status is read per request, so a deactivated
  server is 404 at once, from the router.

Why (issue 20, goal 3: JWKS at least 0.8 of ``/healthz``): profiled under ``bench/verify_paths.py``
(py-spy), the keys-specific part of the router path was the CORS wrapper 13 %, the server lookup
6 %, the JSON response 5 %, and the generic path (three ASGI layers, the router, ``Request`` and
``Response`` objects) most of the rest. Measured in one run, alternating rounds against the
router path (``bench/verify_paths.py --rounds 3 --compare-src``, load average ~10): CPU per
request 207-349 µs → 87-203 µs over two such runs; capacity ÷ ``/healthz`` 0.52-0.70 → 0.99-1.19.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.compact_json import dumps
from ostiary.domain.authz.key_rotation import MAX_RINGS, KeyRing
from ostiary.domain.authz.server_lookup import ORG_SERVER_ID
from ostiary.http.cors import actual_response_headers, merge_vary, trusted_origin_for
from ostiary.http.oauth.server_context import resolve_server
from ostiary.http.oauth.token import Answer, TokenHeaders, raw_headers
from ostiary.http.responses import JSON_TYPE, json_response
from ostiary.http.runtime import runtime, runtime_of

# Verifiers cache the JWKS; the NEXT key is published ahead of rotation, so an hour is safe.
CACHE_CONTROL = "max-age=3600, must-revalidate"
HEADERS = {"Cache-Control": CACHE_CONTROL, "Vary": "Origin"}


async def keys(request: Request) -> Response:
    ctx = await resolve_server(request)
    ring = await runtime(request).rings.ring(ctx.org.id, ctx.server.id)
    return json_response(ring.jwks, headers=HEADERS)


@dataclass(frozen=True, slots=True)
class JwksAnswer:
    """One ring's JWKS as sent: the body, and the headers in the router path's order."""

    ring: KeyRing
    body: bytes
    headers: list[tuple[bytes, bytes]]
    """Without an Origin, or for one that is not trusted."""

    def for_origin(self, origin: str) -> list[tuple[bytes, bytes]]:
        """The headers for a trusted ``origin``, as ``oauth_cors`` makes them from the router's
        response: its ``Vary`` joined into the endpoint's own (``Origin`` already, so unchanged),
        the ``Access-Control-*`` headers after the content headers."""
        cors = actual_response_headers(origin, credentials=False)
        vary = merge_vary(HEADERS["Vary"], cors.pop("Vary"))
        first = [(b"cache-control", CACHE_CONTROL.encode()), (b"vary", vary.encode())]
        return first + self.headers[2:] + raw_headers(cors)


def jwks_answer(ring: KeyRing) -> JwksAnswer:
    body = dumps(ring.jwks)
    headers = [
        *raw_headers(HEADERS),
        (b"content-length", str(len(body)).encode()),
        (b"content-type", JSON_TYPE.encode()),
    ]
    return JwksAnswer(ring, body, headers)


class JwksAnswers:
    """(org id, server id) → the :class:`JwksAnswer` of the ring last served. An entry is used
    only while its ring is the very object ``KeyRings`` holds, so it never outlives the ring:
    no invalidation of its own is needed, and a stale entry is just replaced."""

    def __init__(self, max_size: int = MAX_RINGS) -> None:
        self._answers: BoundedTTLCache[tuple[str, str], JwksAnswer] = BoundedTTLCache(max_size, float("inf"))

    def get(self, org_id: str, server_id: str, ring: KeyRing) -> JwksAnswer:
        found, answer = self._answers.lookup((org_id, server_id))
        if found and answer is not None and answer.ring is ring:
            return answer
        answer = jwks_answer(ring)
        self._answers.set((org_id, server_id), answer)
        return answer


class KeysEndpoint:
    """``GET {issuer}/v1/keys`` from the caches, or ``None`` (the router answers) when anything
    it needs is not cached or the request is not the plain case (module docstring)."""

    def __init__(self) -> None:
        self.answers = JwksAnswers()

    async def answer(
        self, scope: Scope, path_params: Mapping[str, str], found: TokenHeaders
    ) -> Answer | None:
        org = scope["state"].get("org")
        if org is None:
            return None
        server_id = path_params.get("authServerId") or ORG_SERVER_ID
        if server_id == ORG_SERVER_ID and "authServerId" in path_params:
            return None
        rt = runtime_of(scope)
        server = await rt.servers.get(org.id, server_id)
        if server is None or server.status != "ACTIVE":
            return None
        ring = rt.rings.cached(org.id, server_id)
        if ring is None:
            return None
        answer = self.answers.get(org.id, server_id, ring)
        if found.origin:
            origin = await trusted_origin_for(rt, found.host, found.origin)
            if origin is not None:
                return 200, answer.for_origin(origin), answer.body
        return 200, answer.headers, answer.body
