"""Real HTTP servers on free loopback ports, for the proxy-to-upstream and JWKS-fetch paths.

Each server runs uvicorn in its own thread and event loop, like a separate process would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    def __init__(self, app: Any, *, lifespan: str = "off", uvloop: bool = False) -> None:
        self.use_uvloop = uvloop
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        if self.use_uvloop:
            import uvloop

            uvloop.run(self.server.serve(sockets=[self.sock]))
        else:
            asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> LoopbackServer:
        self.thread.start()
        deadline = time.monotonic() + 5
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("loopback server did not start")
            time.sleep(0.005)
        return self

    def stop(self, *, force: bool = True) -> None:
        """Stop; ``force`` skips waiting for open requests (and the app's lifespan shutdown)."""
        self.server.should_exit = True
        self.server.force_exit = force
        self.thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class JwksServer:
    """An issuer's key endpoints, with knobs: the served JWKS, its Cache-Control, a delay,
    whether discovery exists, and an outage switch. ``hits`` counts requests by path."""

    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    cache_control: str | None = "max-age=3600"
    delay: float = 0.0
    discovery: bool = True
    down: bool = False
    hits: Counter[str] = field(default_factory=Counter)
    issuer_path: str = "/oauth2/default"
    server: LoopbackServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def issuer(self) -> str:
        return self.base_url + self.issuer_path

    @property
    def keys_url(self) -> str:
        return self.issuer + "/v1/keys"

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            self.hits[request.url.path] += 1
            if self.down or not self.discovery:
                return Response(status_code=503 if self.down else 404)
            return JSONResponse({"issuer": self.issuer, "jwks_uri": self.keys_url})

        async def keys(request: Request) -> Response:
            self.hits[request.url.path] += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.down:
                return Response(status_code=503)
            headers = {"Cache-Control": self.cache_control} if self.cache_control else {}
            return JSONResponse(self.jwks, headers=headers)

        async def anything(request: Request) -> Response:
            self.hits[request.url.path] += 1
            return JSONResponse(self.jwks)

        return Starlette(
            routes=[
                Route(self.issuer_path + "/.well-known/openid-configuration", discovery),
                Route(self.issuer_path + "/v1/keys", keys),
                Route("/{rest:path}", anything),
            ]
        )

    def start(self) -> JwksServer:
        self.server = LoopbackServer(self.app()).start()
        return self

    def reset(self, jwks: dict[str, Any]) -> JwksServer:
        """Back to a healthy issuer serving ``jwks`` (for a server shared by several tests)."""
        self.jwks, self.cache_control, self.delay = jwks, "max-age=3600", 0.0
        self.discovery, self.down = True, False
        self.hits.clear()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def upstream_app() -> Any:
    """The solar-system API plus test routes: ``/echo/...`` describes the request it got,
    ``/slow`` stalls, ``/big/{n}`` sends n bytes with a length, ``/stream/{n}`` sends n bytes
    chunked, ``/cookie`` sets cookies, ``/gzip`` answers a gzip-encoded body."""
    import gzip

    from ostiary.demo.solar_system import build_solar_system_app

    solar = build_solar_system_app()

    async def echo(request: Request) -> Response:
        body = await request.body()
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope.get("raw_path", b"").decode("latin-1"),
                "query": request.url.query,
                "headers": [[k, v] for k, v in request.headers.items()],
                "body": body.decode("latin-1"),
            },
            status_code=int(request.headers.get("x-echo-status", "200")),
            headers={"X-Upstream": "echo"},
        )

    async def slow(request: Request) -> Response:
        await asyncio.sleep(3)
        return JSONResponse({"slow": True})

    async def big(request: Request) -> Response:
        return Response(b"x" * int(request.path_params["n"]), media_type="application/octet-stream")

    async def stream(request: Request) -> Response:
        from starlette.responses import StreamingResponse

        total = int(request.path_params["n"])

        async def chunks() -> Any:
            sent = 0
            while sent < total:
                size = min(16384, total - sent)
                yield bytes([65 + (sent // 16384) % 26]) * size
                sent += size

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def cookie(request: Request) -> Response:
        response = JSONResponse({"cookie": request.headers.get("cookie")})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def no_content(request: Request) -> Response:
        return Response(status_code=204, headers={"Vary": "Accept-Encoding"})

    async def gzipped(request: Request) -> Response:
        data = gzip.compress(b'{"compressed":true}')
        return Response(data, media_type="application/json", headers={"Content-Encoding": "gzip"})

    test_routes = Starlette(
        routes=[
            Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"]),
            Route("/slow", slow),
            Route("/big/{n:int}", big),
            Route("/stream/{n:int}", stream),
            Route("/cookie", cookie),
            Route("/gzip", gzipped),
            Route("/no-content", no_content),
        ]
    )

    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(
            ("/echo/", "/slow", "/big/", "/stream/", "/cookie", "/gzip", "/no-content")
        ):
            await test_routes(scope, receive, send)
        else:
            await solar(scope, receive, send)

    return app
