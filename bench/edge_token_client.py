"""What ``EdgeMiddleware`` adds to a token request for the per-client rate limit (security review F3).

Times one pass of ``EdgeMiddleware`` (in-process counters, a do-nothing app behind it) for a
``POST /oauth2/v1/token`` — the per-address bucket, then the ``TokenLimit`` left in
``scope["state"]`` for the token endpoint (``http/token_clients.py``), which counts the
per-client bucket once the client is *verified* — against the same request to
``/oauth2/v1/introspect`` in the same run: same rate-limit class, same headers and body, no
per-client step. The difference is the added cost, per way of naming the client. (The edge
used to read the client id from the unverified request itself; since the limit counts only
verified clients, that read and its timing are gone.) Nothing suspends, so each coroutine is
driven to the end with one ``send`` and ``timeit`` measures the middleware, not an event loop.

    python bench/edge_token_client.py [--number 2000]
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import base64
import json
import timeit
from collections.abc import Coroutine
from typing import Any

from ostiary.http.middleware import EdgeMiddleware
from ostiary.http.ratelimit import DEFAULT_LIMITS, MemoryCounter, RateLimiter
from ostiary.store.models import Org


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


CLIENT = "0oa1abcdefGHIJKLMN5d7"
CLAIMS = {"iss": CLIENT, "sub": CLIENT, "aud": "https://x/oauth2/v1/token", "exp": 2, "jti": "j" * 36}
ASSERTION = f"{_b64({'alg': 'RS256', 'kid': 'k1'})}.{_b64(CLAIMS)}.{'s' * 342}"
BASIC = "Basic " + base64.b64encode(f"{CLIENT}:{'x' * 40}".encode()).decode()
BODIES = {
    "basic": (BASIC, b"grant_type=client_credentials&scope=okta.users.read"),
    "client_id": (
        None,
        f"grant_type=client_credentials&scope=a&client_id={CLIENT}&client_secret={'x' * 40}".encode(),
    ),
    "assertion": (
        None,
        f"grant_type=client_credentials&scope=a&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={ASSERTION}".encode(),
    ),
    "none": (None, b"grant_type=client_credentials&scope=a"),
}


def drive(coro: Coroutine[Any, Any, None]) -> None:
    try:
        coro.send(None)
    except StopIteration:
        return
    raise RuntimeError("the middleware suspended: the benchmark would time the event loop")


def edge() -> EdgeMiddleware:
    org = Org(id="00o1", name="default")

    async def resolve(host: str) -> Org:
        return org

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limits = {**DEFAULT_LIMITS, "oauth2": 10**12, "token_client": 10**12}
    return EdgeMiddleware(
        app,
        limiter=RateLimiter(limits, MemoryCounter(), clock=lambda: 90.0),
        max_body=1 << 20,
        resolve_org=resolve,
    )


def one_request(middleware: EdgeMiddleware, path: str, authorization: str | None, body: bytes):  # type: ignore[no-untyped-def]
    headers = [
        (b"host", b"localhost:8080"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
    ]
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(message: Any) -> None:
        return None

    def run() -> None:
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": b"",
            "headers": headers,
            "client": ("203.0.113.7", 4000),
        }
        drive(middleware(scope, receive, send))

    return run


def paired(baseline: Any, candidate: Any, number: int) -> tuple[float, float]:
    """Best µs per call of each, their repeats interleaved so that both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(25):
        for i, stmt in enumerate((baseline, candidate)):
            times[i].append(timeit.timeit(stmt, number=number) / number * 1e6)
    return min(times[0]), min(times[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=2000)
    number = parser.parse_args().number
    middleware = edge()
    print(f"{'request':<12} {'introspect µs':>14} {'token µs':>10} {'added µs':>9}")
    for name, (authorization, body) in BODIES.items():
        baseline, token = paired(
            one_request(middleware, "/oauth2/v1/introspect", authorization, body),
            one_request(middleware, "/oauth2/v1/token", authorization, body),
            number,
        )
        print(f"{name:<12} {baseline:>14.2f} {token:>10.2f} {token - baseline:>9.2f}")


if __name__ == "__main__":
    main()
