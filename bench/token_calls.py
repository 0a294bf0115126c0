"""Token endpoint cost per request, counted deterministically (no timing): Python calls.

Run: ``.venv/bin/python bench/token_calls.py [--base /path/to/other/tree] [--requests 500]``.

Wall-clock benches (``bench/token.py``) drift by more than 10 % on a shared machine, so this one
counts instead. For each source tree (this one, and ``--base``'s if given, e.g. a worktree of an
older commit) a child process with that tree's ``src`` on ``PYTHONPATH`` builds the org server
app in process (``create_app`` over SQLite, as the unit tests do), creates a service app with an
``okta.*`` grant, warms up, then counts every Python function call of the event loop's thread
(``call`` profile events, coroutine resumptions included) over ``--requests``
``client_credentials`` requests (``client_secret_basic``, the org AS) sent through
``httpx.ASGITransport``: the whole middleware stack, the token fast path and the endpoint.
Signing runs on the signer's threads and is not counted. The client's own calls are counted
too; they are the same for both trees (this tree's ``tests/support`` drives both).
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


async def _count(requests: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import Server, make_settings, sqlite_url
    from tests.support.oauth import client_token, service_client

    from ostiary.app import create_app, prepare

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_settings(Path(tmp), sqlite_url(Path(tmp))), run_migrations=True)
        server = Server(app)
        await prepare(server.rt)
        server.rt.signer.start()
        try:
            async with server.client(await server.create_token()) as admin:
                client_id, secret = await service_client(admin, "okta.users.read")
            async with server.client() as anon:
                for _ in range(50):
                    response = await client_token(anon, client_id, secret, "okta.users.read")
                    assert response.status_code == 200, response.text
                calls = 0

                def profile(_frame: object, event: str, _arg: object) -> None:
                    nonlocal calls
                    if event == "call":
                        calls += 1

                sys.setprofile(profile)
                try:
                    for _ in range(requests):
                        await client_token(anon, client_id, secret, "okta.users.read")
                finally:
                    sys.setprofile(None)
        finally:
            server.rt.signer.close(wait=True)
            await server.rt.db.dispose()
    import ostiary

    return {"calls_per_token": calls / requests, "package": ostiary.__file__}


def _run_tree(tree: Path, requests: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OSTIARY_RATE_LIMITS": "off"}
    result = subprocess.run(
        [sys.executable, __file__, "--child", "--requests", str(requests)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another source tree to count in the same run")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_count(args.requests))))
        return
    this = _run_tree(ROOT, args.requests)
    print(f"this tree ({this['package']}): {this['calls_per_token']:.1f} Python calls per token")
    if args.base is not None:
        base = _run_tree(args.base.resolve(), args.requests)
        print(f"base tree ({base['package']}): {base['calls_per_token']:.1f} Python calls per token")
        print(f"ratio this/base: {this['calls_per_token'] / base['calls_per_token']:.3f}")


if __name__ == "__main__":
    main()
