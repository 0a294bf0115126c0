"""Introspection and JWKS from one `ostiary serve --workers 1` (issue 20, goal 3), each next to
its baseline measured in the same rounds:

* ``POST /oauth2/v1/introspect`` (client_secret_basic, an RS256 access token of the org AS) ÷ a
  raw RS256 verify loop in one process (``cryptography``, one thread, CPU time) — goal 0.3;
* ``GET /oauth2/v1/keys`` and ``GET /oauth2/default/v1/keys`` ÷ ``GET /healthz`` (the same
  server's hello world: same middleware, a constant JSON answer) — goal 0.8.

Figures are capacities from the server's CPU per request (``bench/support/load.py``: the event
loop is one thread, so one core's worth at most), with the wall-clock rates printed next to them.

    python bench/verify_paths.py [--seconds 5] [--rounds 3] [--connections 32] [--compare-src DIR]

``--compare-src DIR`` starts a second server from ``DIR/src`` (``PYTHONPATH``; e.g. /work/main for
the tree before a change) and loads both in the same rounds, alternating which goes first, then
prints each path's CPU per request before → after: on the shared machine those figures hold
where rates swing with the neighbours' load.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.load import Load, Serve, basic, result, serve, service_app, settle, wrk, wrk_script

FORM = "application/x-www-form-urlencoded"
ROOT = Path(__file__).resolve().parents[1]


def raw_verify_rate(seconds: float = 2.0) -> float:
    """RS256 verifications per CPU second of one thread, of a JWT-sized input."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = b"e" * 600
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(100):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        count += 100
    return count / (time.process_time() - start)


def prepare(server: Serve) -> dict[str, tuple[str, Path]]:
    """A client_credentials client of ``server``, one of its access tokens (checked active), and
    the wrk scripts of the four paths."""
    url, admin = server.url, server.admin
    client_id, secret = service_app(admin, url, "okta.users.read")
    basic_auth = basic(client_id, secret)
    minted = admin.post(
        f"{url}/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        headers={"Authorization": basic_auth},
    )
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    check = admin.post(
        f"{url}/oauth2/v1/introspect", data={"token": token}, headers={"Authorization": basic_auth}
    )
    assert check.json().get("active") is True, check.text
    return {
        "healthz": (f"{url}/healthz", wrk_script("GET")),
        "keys (org AS)": (f"{url}/oauth2/v1/keys", wrk_script("GET")),
        "keys (default AS)": (f"{url}/oauth2/default/v1/keys", wrk_script("GET")),
        "introspect": (
            f"{url}/oauth2/v1/introspect",
            wrk_script(
                "POST", urlencode({"token": token}), {"Content-Type": FORM, "Authorization": basic_auth}
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--compare-src", type=Path, help="a tree whose src/ is the 'before' server")
    args = parser.parse_args()

    servers: dict[str, Serve] = {}
    try:
        servers["after"] = serve({"PYTHONPATH": str(ROOT / "src")})
        if args.compare_src:
            servers["before"] = serve({"PYTHONPATH": str(args.compare_src.resolve() / "src")})
        scripts = {side: prepare(server) for side, server in servers.items()}
        rows: dict[str, dict[str, list[Load]]] = {
            side: {name: [] for name in scripts[side]} for side in servers
        }
        raw: list[float] = []
        for index in range(1, args.rounds + 1):
            raw.append(raw_verify_rate())
            print(f"round {index}: raw RS256 verify {raw[-1]:,.0f}/s (1 thread, CPU time)", flush=True)
            sides = list(servers) if index % 2 else list(reversed(servers))
            for name in scripts["after"]:
                for side in sides:
                    target, script = scripts[side][name]
                    pid = servers[side].process.pid
                    wrk(target, script, 1, 8, pid)  # warm-up
                    settle()
                    rows[side][name].append(wrk(target, script, args.seconds, args.connections, pid))
                    label = f"{name} ({side})" if len(servers) > 1 else name
                    print(f"  {label:27} {rows[side][name][-1].describe()}", flush=True)
    finally:
        for server in servers.values():
            server.stop()

    print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if "before" in rows:
        print("CPU per request (whole tree; event loop), before -> after, per round:")
        for name in rows["after"]:
            pairs = zip(rows["before"][name], rows["after"][name], strict=True)
            print(
                f"  {name:18} "
                + ", ".join(
                    f"{b.cpu_us:,.0f} -> {a.cpu_us:,.0f} us ({b.main_us:,.0f} -> {a.main_us:,.0f})"
                    for b, a in pairs
                )
            )
    for side in rows:
        report(rows[side], raw, side if len(rows) > 1 else "")


def report(rows: dict[str, list[Load]], raw: list[float], side: str) -> None:
    """The issue's ratios for one server, and (for the current tree) the ``RESULT`` lines."""

    def ratio(top: str, below: list[float]) -> float:
        return statistics.median(t.capacity / b for t, b in zip(rows[top], below, strict=True))

    def capacity(name: str) -> float:
        return statistics.median(load.capacity for load in rows[name])

    emit = side in ("", "after")
    tag = f" [{side}]" if side else ""
    hello = [load.capacity for load in rows["healthz"]]
    print()
    introspect = ratio("introspect", raw)
    print(
        f"introspection{tag}: {capacity('introspect'):,.0f}/s vs raw RS256 verify "
        f"{statistics.median(raw):,.0f}/s -> ratio {introspect:.2f} (goal 0.3)"
    )
    if emit:
        result(
            "introspection (RS256 access token), capacity",
            capacity("introspect"),
            "requests/s",
            "raw RS256 verify/s, 1 thread",
            statistics.median(raw),
            introspect,
            0.3,
        )
    for name in ("keys (org AS)", "keys (default AS)"):
        keys = ratio(name, hello)
        print(
            f"JWKS {name}{tag}: {capacity(name):,.0f}/s vs /healthz {statistics.median(hello):,.0f}/s "
            f"-> ratio {keys:.2f} (goal 0.8)"
        )
        if emit:
            result(
                f"JWKS {name}, capacity",
                capacity(name),
                "requests/s",
                "/healthz (same server)",
                statistics.median(hello),
                keys,
                0.8,
            )


if __name__ == "__main__":
    main()
