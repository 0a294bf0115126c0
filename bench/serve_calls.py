"""``ostiary serve``'s HTTP path per request, through uvicorn: Python calls and event-loop CPU.

Run: ``.venv/bin/python bench/serve_calls.py [--base /path/to/other/tree] [--requests 2000]``.

``bench/verify_paths.py`` reads the server's CPU under ``wrk``; on the shared 2-core VM (load
average 10-20) the rate a server gets swings several-fold between rounds, and CPU per request
swings with it (fewer requests per loop iteration, more wake-ups each). This one is steadier.
For each source tree (this one, and ``--base``'s, alternating ``--rounds`` times) a child process
with that tree's ``src`` on ``PYTHONPATH`` builds the org server app (``create_app`` over SQLite,
as the unit tests do), serves it on uvloop with ``ostiary serve``'s uvicorn settings (its HTTP
protocol, ``proxy_headers=True``, no access log), and a client process sends each path's request
on one keep-alive connection, one at a time. Over ``--requests`` requests per path (after a
warm-up) it counts every Python call of the event loop's thread (``call`` profile events,
coroutine resumptions included; the client, the signing processes and aiosqlite's thread
are not counted) and, in a separate pass without the profiler, that thread's CPU time
(``time.thread_time``). Paths: ``GET /healthz``, ``GET /oauth2/v1/keys``, ``POST
/oauth2/v1/introspect`` of an RS256 access token and ``POST /oauth2/v1/token``
(client_credentials, the signature is in a signing process), and ``POST /oauth2/default/v1/token``
redeeming an authorization code (``redeem``: ``openid email``, an access and an ID token;
``redeem_offline``: with ``offline_access``, a refresh token too), each request a code
minted just before through ``/authorize`` with a signed-in session; and ``refresh``, the refresh
token grant with that app's (static: a web app's) refresh token (``refresh``) and with tokens
an app rotates (``refresh_rotate``: each request a token of a new family, used once); and
``create_user``, ``POST /api/v1/users`` with an API token, each request a new login.

``--postgres`` serves from a new database on ``OSTIARY_TEST_POSTGRES_URL`` (dropped after each
run) instead of SQLite; ``--paths`` measures only the paths named.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import base64
import contextlib
import json
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
TOKEN_PATH = "/oauth2/default/v1/token"
MINTED_REQUESTS = 500
"""At most this many requests of a path whose every request needs a code minted before it:
minting is most of such a path's run time."""


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost:8080", *(f"{k}: {v}" for k, v in headers.items())]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _read_answer(sock: socket.socket, buffer: bytearray) -> bytes:
    """One answer framed by its Content-Length (every answer here has one)."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buffer[:end]).lower()
            start = head.find(b"content-length: ") + len(b"content-length: ")
            length = int(head[start : head.find(b"\r\n", start) if b"\r\n" in head[start:] else None])
            if len(buffer) >= end + 4 + length:
                answer = bytes(buffer[: end + 4 + length])
                del buffer[: end + 4 + length]
                return answer
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk


async def _measure(
    requests: int, database_url: str | None, only: set[str]
) -> dict[str, Any]:  # pragma: no cover
    sys.path.insert(0, str(ROOT))
    import uvicorn
    from tests.conftest import Server, make_settings, sqlite_url
    from tests.support.authorize import (
        REDIRECT,
        authorize,
        exchange,
        redirected,
        session_token,
        user,
        web_app,
    )
    from tests.support.oauth import client_token, service_client

    from ostiary.app import create_app, prepare
    from ostiary.serving.uvicorn_protocol import CoalescingHttpToolsProtocol

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_settings(Path(tmp), database_url or sqlite_url(Path(tmp))), run_migrations=True)
        server = Server(app)
        await prepare(server.rt)
        server.rt.signer.start()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            app,
            http=CoalescingHttpToolsProtocol,
            ws="none",
            lifespan="off",
            access_log=False,
            date_header=False,
            server_header=False,
            proxy_headers=True,
            log_level="warning",
        )
        http = uvicorn.Server(config)
        config.load()
        http.lifespan = config.lifespan_class(config)
        await http.startup(sockets=[sock])
        try:
            api_token = await server.create_token()
            async with server.client(api_token) as admin:
                client_id, secret = await service_client(admin, "okta.users.read")
                web_id, web_secret = await web_app(admin)
                rotating = await web_app(admin, refresh_token={"rotation_type": "ROTATE", "leeway": 30})
                login = "bench.user@example.com"
                await user(admin, login)
            async with server.client() as anon:
                minted = await client_token(anon, client_id, secret, "okta.users.read")
            token = minted.json()["access_token"]
            basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic}
            mint = urlencode({"grant_type": "client_credentials", "scope": "okta.users.read"}).encode()
            checked = urlencode({"token": token}).encode()
            web_basic = "Basic " + base64.b64encode(f"{web_id}:{web_secret}".encode()).decode()
            web_form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": web_basic}
            browser = server.client()
            await browser.__aenter__()
            # One sign-in; the session cookie it sets answers every /authorize after it.
            redirected(await authorize(browser, web_id, sessionToken=await session_token(browser, login)))

            def redemptions(scope: str) -> Requests:
                async def minted(count: int) -> list[bytes]:
                    """``count`` fresh codes (they live 60 s), each a redemption request."""
                    raws = []
                    for _ in range(count):
                        code = redirected(await authorize(browser, web_id, scope=scope))["code"]
                        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
                        raws.append(_request("POST", TOKEN_PATH, web_form, urlencode(body).encode()))
                    return raws

                return minted

            offline = "openid email offline_access"
            code = redirected(await authorize(browser, web_id, scope=offline))["code"]
            redeemed = await exchange(browser, code, web_id, web_secret)
            assert redeemed.status_code == 200, redeemed.text
            refreshed = redeemed.json()["refresh_token"]
            refresh = urlencode({"grant_type": "refresh_token", "refresh_token": refreshed})

            async def rotations(count: int) -> list[bytes]:
                """``count`` refresh tokens of an app that rotates them (as browser apps do), each
                of a new family from a code redeemed just before, each used once."""
                rot_id, rot_secret = rotating
                assert rot_secret is not None
                rot_basic = "Basic " + base64.b64encode(f"{rot_id}:{rot_secret}".encode()).decode()
                rot_form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": rot_basic}
                raws = []
                for _ in range(count):
                    code = redirected(await authorize(browser, rot_id, scope=offline))["code"]
                    answer = await exchange(browser, code, rot_id, rot_secret)
                    body = urlencode(
                        {"grant_type": "refresh_token", "refresh_token": answer.json()["refresh_token"]}
                    )
                    raws.append(_request("POST", TOKEN_PATH, rot_form, body.encode()))
                return raws

            created = 0

            async def creates(count: int) -> list[bytes]:
                """``count`` user creates, each of a login not taken yet."""
                nonlocal created
                headers = {"Content-Type": "application/json", "Authorization": f"SSWS {api_token}"}
                raws = []
                for n in range(created, created + count):
                    login = f"bench.{n}@example.com"
                    body = {
                        "profile": {"login": login, "email": login, "firstName": "Bench", "lastName": str(n)}
                    }
                    raws.append(_request("POST", "/api/v1/users", headers, json.dumps(body).encode()))
                created += count
                return raws

            paths: dict[str, Requests] = {
                "healthz": _same(_request("GET", "/healthz", {})),
                "keys": _same(_request("GET", "/oauth2/v1/keys", {})),
                "introspect": _same(_request("POST", "/oauth2/v1/introspect", form, checked)),
                "token": _same(_request("POST", "/oauth2/v1/token", form, mint)),
                "redeem": redemptions("openid email"),
                "redeem_offline": redemptions(offline),
                "refresh": _same(_request("POST", TOKEN_PATH, web_form, refresh.encode())),
                "refresh_rotate": rotations,
                "create_user": creates,
            }
            paths = {name: raws for name, raws in paths.items() if not only or name in only}
            minted_per_request = {"redeem", "redeem_offline", "refresh_rotate"}
            port = int(sock.getsockname()[1])
            try:
                for name, raws in paths.items():
                    # Each of these requests costs a code minted (and redeemed) beforehand.
                    count = min(requests, MINTED_REQUESTS) if name in minted_per_request else requests
                    results[name] = await _one_path(port, raws, count)
            finally:
                await browser.__aexit__(None, None, None)
        finally:
            await http.shutdown()
            server.rt.signer.close(wait=True)
            await server.rt.db.dispose()
    import ostiary

    return {"paths": results, "package": ostiary.__file__}


Requests = Callable[[int], Awaitable[list[bytes]]]
"""``count`` raw requests to send, in order (made before the measured stretch)."""


def _same(raw: bytes) -> Requests:
    async def repeated(count: int) -> list[bytes]:
        return [raw] * count

    return repeated


async def _one_path(port: int, requests_of: Requests, requests: int) -> dict[str, float]:  # pragma: no cover
    """Calls and loop-thread CPU per request of ``requests_of``, ``requests`` of them sent in lockstep."""
    loop = asyncio.get_running_loop()

    async def prepared(count: int) -> str:
        """The requests written for the client, before the measured stretch."""
        with tempfile.NamedTemporaryFile(suffix=".http", delete=False) as file:
            file.write(json.dumps([raw.decode("latin-1") for raw in await requests_of(count)]).encode())
        return file.name

    async def run(count: int, path: str | None = None) -> None:
        """The client in a process of its own: in this one it would hold the GIL the loop needs."""
        path = path or await prepared(count)
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", path, "--port", str(port), "--requests", str(count)
        )
        assert await process.wait() == 0
        os.unlink(path)

    await run(100)  # warm-up
    calls = 0

    def profile(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    # The polling sleep's own calls are counted too; measure an idle stretch of the same length
    # and take it off, so only the requests' calls remain.
    path = await prepared(requests)
    sys.setprofile(profile)
    started = time.monotonic()
    try:
        await run(requests, path)
    finally:
        sys.setprofile(None)
    elapsed = time.monotonic() - started
    busy_calls = calls
    calls = 0
    sys.setprofile(profile)
    try:
        await asyncio.sleep(elapsed)
    finally:
        sys.setprofile(None)
    idle_calls = calls
    del loop
    path = await prepared(requests)
    cpu0 = time.thread_time()
    await run(requests, path)
    cpu = time.thread_time() - cpu0
    return {"calls": (busy_calls - idle_calls) / requests, "cpu_us": cpu / requests * 1e6}


def _client(path: str, port: int, count: int) -> None:
    raws = [raw.encode("latin-1") for raw in json.loads(Path(path).read_text())]
    assert len(raws) == count
    with socket.create_connection(("127.0.0.1", port)) as conn:
        buffer = bytearray()
        for raw in raws:
            conn.sendall(raw)
            answer = _read_answer(conn, buffer)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


def _run_tree(tree: Path, requests: int, postgres: bool, only: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OSTIARY_RATE_LIMITS": "off"}
    command = [
        sys.executable,
        __file__,
        "--child",
        "--requests",
        str(requests),
        *(["--paths", *only] if only else []),
    ]
    with _database(postgres) as url:
        if url:
            command += ["--database-url", url]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"child for {tree} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def _database(postgres: bool) -> Iterator[str | None]:
    """A new PostgreSQL database for one run (None: the run uses SQLite), dropped after it."""
    if not postgres:
        yield None
        return
    import asyncpg

    base = os.environ.get("OSTIARY_TEST_POSTGRES_URL")
    if not base:
        sys.exit("--postgres needs OSTIARY_TEST_POSTGRES_URL (postgresql+asyncpg://...)")
    name = f"ostiary_calls_{os.getpid()}_{time.monotonic_ns()}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another source tree, measured in alternating rounds")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres", action="store_true", help="serve from PostgreSQL (OSTIARY_TEST_POSTGRES_URL)"
    )
    parser.add_argument("--paths", nargs="*", default=[], help="measure only these paths")
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        _client(args.client, args.port, args.requests)
        return
    if args.child:
        import uvloop

        print(json.dumps(uvloop.run(_measure(args.requests, args.database_url, set(args.paths)))))
        return
    trees = {"this": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in trees}
    for index in range(args.rounds):
        order = list(trees) if index % 2 == 0 else list(reversed(trees))
        for side in order:
            runs[side].append(_run_tree(trees[side], args.requests, args.postgres, args.paths))
            got = runs[side][-1]["paths"]
            print(
                f"round {index + 1} {side}: "
                + ", ".join(f"{n} {v['calls']:.0f} calls {v['cpu_us']:.0f} us" for n, v in got.items()),
                flush=True,
            )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name in runs["this"][0]["paths"]:
        line = f"{name:11}"
        for side in trees:
            calls = statistics.median(r["paths"][name]["calls"] for r in runs[side])
            cpu = [r["paths"][name]["cpu_us"] for r in runs[side]]
            rounds = "/".join(f"{c:.0f}" for c in cpu)
            line += f"  {side}: {calls:.0f} calls, loop CPU {statistics.median(cpu):.0f} us ({rounds})"
        print(line)


if __name__ == "__main__":
    main()
