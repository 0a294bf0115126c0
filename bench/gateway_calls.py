"""Gateway cost per proxied request, counted deterministically (no timing): Python calls and memory.

Run: ``.venv/bin/python bench/gateway_calls.py [--base /path/to/other/tree] [--requests 2000]``.

Wall-clock benches (``bench/gateway.py``) drift by more than 10 % on a shared machine, so this
one counts instead. For each source tree (this one, and ``--base``'s if given, e.g. a worktree
of an older commit) it starts a child process that:

- serves a trivial upstream (``/planets``) and the issuer's discovery and JWKS documents from a
  uvicorn thread (``sys.setprofile`` is per thread, so none of that is counted);
- builds the gateway app in process from the same configuration as ``bench/gateway.py``
  (``/planets`` needs the silver scope, token cache on) and drives it as uvicorn would
  (lifespan, then ASGI ``http`` scopes with a valid bearer token) on uvloop;
- warms up (the first request fetches the keys), then counts every Python function call
  (``call`` profile events: coroutine resumptions included) over ``--requests`` requests,
  and measures with ``tracemalloc`` the bytes allocated at peak within one request and the
  bytes still held after all of them (a leak check).

Then it serves the same requests through uvicorn as ``run_gateway`` does (its event loop and
the tree's HTTP protocol, one keep-alive connection from a client thread) and counts the calls
of the server thread: the protocol's per-request work included.

It prints calls/request per tree, their ratio, and the functions whose calls per request
differ most between the trees (``--top``; ``--server`` for the through-uvicorn counts).
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SILVER = "http://myapp.com/scp/silver"
EXPECTED = b'["mercury","venus","earth","mars","jupiter","saturn","uranus","neptune"]'


def _child(requests: int) -> dict[str, object]:  # pragma: no cover - runs in a subprocess
    import asyncio
    import socket
    import threading
    import time
    import tracemalloc

    import jwt
    import uvicorn
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from ostiary.gateway.config import parse_config
    from ostiary.gateway.proxy import build_gateway_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    origin = f"http://127.0.0.1:{port}"
    issuer = origin + "/oauth2/default"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": "k1", "alg": "RS256", "use": "sig"}

    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse({"issuer": issuer, "jwks_uri": issuer + "/v1/keys"})

    async def keys(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [jwk]}, headers={"Cache-Control": "max-age=3600"})

    async def planets(request: Request) -> Response:
        return Response(EXPECTED, media_type="application/json")

    side = Starlette(
        routes=[
            Route("/oauth2/default/.well-known/openid-configuration", discovery),
            Route("/oauth2/default/v1/keys", keys),
            Route("/planets", planets),
        ]
    )
    server = uvicorn.Server(
        uvicorn.Config(side, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("side server did not start")
        time.sleep(0.01)

    now = int(time.time())
    claims = {
        "ver": 1, "jti": "AT.bench", "iss": issuer, "aud": "api://default", "iat": now,
        "exp": now + 3600, "cid": "0oabench", "sub": "carl.sagan@mailinator.com", "scp": ["openid", SILVER],
    }  # fmt: skip
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    config = parse_config(
        {
            "issuers": [{"issuer": issuer, "audiences": ["api://default"]}],
            "routes": [{"path": "/planets", "upstream": origin, "scopes": {"all_of": [SILVER]}}],
            "metrics": {"enabled": True},  # "public" is newer than some base trees
            "token_cache": {"ttl": 30.0},
        }
    )
    app = build_gateway_app(config)
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"user-agent", b"wrk"),
        (b"accept", b"*/*"),
        (b"authorization", f"Bearer {token}".encode()),
    ]

    async def one() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 40000), "scheme": "http",
            "method": "GET", "root_path": "", "path": "/planets", "raw_path": b"/planets",
            "query_string": b"", "headers": list(headers),
        }  # fmt: skip
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
        if sent[0].get("status") != 200 or body != EXPECTED:
            raise RuntimeError(f"unexpected answer: {sent[:1]} {body[:200]!r}")

    async def run() -> dict[str, object]:
        events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        answers: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        lifespan = asyncio.ensure_future(app({"type": "lifespan"}, events.get, answers.put))
        await events.put({"type": "lifespan.startup"})
        if (await answers.get())["type"] != "lifespan.startup.complete":
            raise RuntimeError("gateway startup failed")
        for _ in range(200):
            await one()

        counts: Counter[object] = Counter()

        def profile(frame: object, event: str, arg: object) -> None:
            if event == "call":
                counts[frame.f_code] += 1  # type: ignore[attr-defined]

        sys.setprofile(profile)
        for _ in range(requests):
            await one()
        sys.setprofile(None)

        tracemalloc.start()
        peaks = []
        held_before = tracemalloc.get_traced_memory()[0]
        for _ in range(requests):
            current = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            await one()
            peaks.append(tracemalloc.get_traced_memory()[1] - current)
        held_after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()

        await events.put({"type": "lifespan.shutdown"})
        await answers.get()
        await lifespan
        by_function: Counter[str] = Counter()
        for code, n in counts.items():
            filename = code.co_filename  # type: ignore[attr-defined]
            short = filename.split("/src/", 1)[-1] if "/ostiary/" in filename else filename.rsplit("/", 2)[-1]
            by_function[f"{short}:{code.co_qualname}"] += n  # type: ignore[attr-defined]
        peaks.sort()
        return {
            "calls_per_request": sum(counts.values()) / requests,
            "by_function": {name: n / requests for name, n in by_function.items()},
            "peak_bytes_per_request_median": peaks[len(peaks) // 2],
            "held_bytes_per_request": (held_after - held_before) / requests,
        }

    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:
        result = asyncio.run(run())
    result["server"] = _through_uvicorn(parse_config, config.__class__, headers, requests, origin, issuer)
    server.should_exit = True
    return result


def _through_uvicorn(  # pragma: no cover - runs in a subprocess
    parse_config: Any, _: object, headers: list[tuple[bytes, bytes]], requests: int, origin: str, issuer: str
) -> dict[str, object]:
    """The same requests through uvicorn as ``run_gateway`` serves them (its loop and HTTP
    protocol, one keep-alive connection from a client thread); calls of the server thread."""
    import http.client
    import socket
    import threading

    import uvicorn

    from ostiary.gateway import server as gateway_server
    from ostiary.gateway.proxy import build_gateway_app

    config = parse_config(
        {
            "issuers": [{"issuer": issuer, "audiences": ["api://default"]}],
            "routes": [{"path": "/planets", "upstream": origin, "scopes": {"all_of": [SILVER]}}],
            "metrics": {"enabled": True},
            "token_cache": {"ttl": 30.0},
        }
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    settings = dict(
        host="127.0.0.1", port=port, loop=gateway_server._event_loop(), http=gateway_server._http_parser(),
        lifespan="on", access_log=False, server_header=False, date_header=False, proxy_headers=False,
        log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(build_gateway_app(config), **settings))
    counts: Counter[object] = Counter()
    result: dict[str, object] = {}

    def profile(frame: Any, event: str, arg: object) -> None:
        if event == "call":
            counts[frame.f_code] += 1

    def client() -> None:
        while not server.started:
            threading.Event().wait(0.01)
        loop = server_loop[0]
        connection = http.client.HTTPConnection("127.0.0.1", port)
        sent = {name.decode(): value.decode() for name, value in headers if name != b"host"}

        def get() -> None:
            connection.request("GET", "/planets", headers=sent)
            answer = connection.getresponse()
            if answer.status != 200 or answer.read() != EXPECTED:
                raise RuntimeError(f"unexpected answer {answer.status}")

        for _ in range(200):
            get()
        switched = threading.Event()
        loop.call_soon_threadsafe(lambda: (sys.setprofile(profile), switched.set()))
        switched.wait()
        for _ in range(requests):
            get()
        loop.call_soon_threadsafe(sys.setprofile, None)
        connection.close()
        result["calls_per_request"] = sum(counts.values()) / requests
        server.should_exit = True

    server_loop: list[Any] = []
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        import asyncio

        server_loop.append(asyncio.get_running_loop())
        await original_startup(sockets=sockets)

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=client)
    thread.start()
    server.run()
    thread.join()
    by_function: Counter[str] = Counter()
    for code, n in counts.items():
        filename = code.co_filename  # type: ignore[attr-defined]
        short = filename.split("/src/", 1)[-1] if "/ostiary/" in filename else filename.rsplit("/", 2)[-1]
        by_function[f"{short}:{code.co_qualname}"] += n  # type: ignore[attr-defined]
    result["by_function"] = {name: n / requests for name, n in by_function.items()}
    return result


def measure(tree: Path, requests: int) -> dict[str, object]:
    """Run the count in a child process with ``tree/src`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OSTIARY_LOG_LEVEL": "warning"}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--requests", str(requests)]
    output = subprocess.run(command, env=env, capture_output=True, text=True)
    if output.returncode != 0:
        raise SystemExit(f"{tree}: child failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another source tree to compare with (an older worktree)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=15, help="functions with the largest difference to list")
    parser.add_argument("--server", action="store_true", help="list the differences through uvicorn")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.requests)))
        return

    trees = [("current", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    results = {label: measure(tree, args.requests) for label, tree in trees}
    print(f"gateway, {args.requests} proxied GET /planets with a valid token (cache hit), in process:")
    print(f"  {'tree':10}{'calls/req':>12}{'peak B/req':>12}{'held B/req':>12}")
    for label, tree in trees:
        r = results[label]
        print(
            f"  {label:10}{r['calls_per_request']:>12.1f}{r['peak_bytes_per_request_median']:>12}"
            f"{r['held_bytes_per_request']:>12.1f}   {tree}"
        )
    print("  through uvicorn (its loop and HTTP protocol as run_gateway serves), calls/request:")
    for label, _ in trees:
        print(f"  {label:10}{results[label]['server']['calls_per_request']:>12.1f}")  # type: ignore[index]
    if "base" in results:
        current, base = results["current"], results["base"]
        for where, cur, bas in (
            ("in process", current, base),
            ("through uvicorn", current["server"], base["server"]),
        ):
            ratio = cur["calls_per_request"] / bas["calls_per_request"]  # type: ignore[index,operator]
            print(f"  calls ratio current/base, {where}: {ratio:.3f}")
            record = {"measure": f"gateway Python calls/request, {where}", "unit": "calls", "goal": None}
            record |= {"value": cur["calls_per_request"], "baseline": f"--base {args.base}"}  # type: ignore[index]
            record |= {"baseline_value": bas["calls_per_request"], "ratio": ratio}  # type: ignore[index]
            print("RESULT " + json.dumps(record))
        if args.server:
            current, base = current["server"], base["server"]  # type: ignore[assignment]
        cur_f: dict[str, float] = current["by_function"]  # type: ignore[assignment]
        base_f: dict[str, float] = base["by_function"]  # type: ignore[assignment]
        names = set(cur_f) | set(base_f)
        diff = sorted(names, key=lambda n: -abs(cur_f.get(n, 0) - base_f.get(n, 0)))[: args.top]
        print("  largest differences (calls/request, current - base):")
        for name in diff:
            print(f"    {cur_f.get(name, 0) - base_f.get(name, 0):+7.2f}  {name}")
    else:
        by: dict[str, float] = results["current"]["by_function"]  # type: ignore[assignment]
        print("  most called (calls/request):")
        for name in sorted(by, key=lambda n: -by[n])[: args.top]:
            print(f"    {by[name]:7.2f}  {name}")


if __name__ == "__main__":
    main()
