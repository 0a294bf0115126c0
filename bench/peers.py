"""Ostiary next to its peers, in one run: client_credentials RS256 tokens/s from one ``ostiary serve
--workers 1``, from node-oidc-provider 8.8.1 (one Node process) and ``openssl speed rsa2048``
signatures/s on one core.

    python bench/peers.py [--seconds 6] [--rounds 3] [--concurrency 64] [--quick]

node-oidc-provider is what a Node team would pick for an OAuth server. It is installed with
``npm ci`` from ``bench/node_peers/package-lock.json`` into the git-ignored
``bench/node_peers/node_modules`` on first use, and run by ``bench/node_peers/oidc_provider.mjs``:
client_credentials with ``client_secret_basic``, resource indicators with one resource whose
access tokens are RS256 JWTs (``accessTokenFormat: 'jwt'``), its in-memory adapter (the fastest
it has), ``NODE_ENV=production``. Without npm or node the peer is skipped with a message and
only the Ostiary and openssl figures are printed.

Both servers get the same load from the same client (``bench/token.py``'s: ``wrk`` when it is
on PATH, else aiohttp in this process; 64 keep-alive connections) in interleaved rounds, each
round measuring ``openssl speed`` first: a shared VM drifts by 10-25 % within minutes, so each
ratio is taken within its round and the figures are medians of rounds. The client shares the 2
cores with the servers, the same way for both. Plain ``openssl speed`` counts CPU time, so on a
machine others load it stays put while the servers slow down; ``openssl speed -elapsed`` (wall
clock) is printed next to it, with the ratio to it, because it feels the same load as the servers.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import base64
import importlib.util
import json
import math
import re
import secrets
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from types import ModuleType

import requests

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node_peers"
SCOPE = "okta.users.read"
PEER = "node-oidc-provider 8.8.1, 1 process"
OPENSSL = "openssl speed rsa2048 sign/s, 1 core"
OPENSSL_ELAPSED = "openssl speed -elapsed rsa2048 sign/s"


def openssl_elapsed_rate(seconds: int) -> float | None:
    """``openssl speed -elapsed rsa2048``: signatures per second of wall clock. Plain ``openssl
    speed`` counts its own CPU time, so another process's load does not lower it while it
    lowers the servers' figures; this one feels the same load as they do."""
    if shutil.which("openssl") is None:
        return None
    command = ["openssl", "speed", "-elapsed", "-seconds", str(seconds), "rsa2048"]
    output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    for line in output.splitlines():
        if re.match(r"^rsa\s+2048 bits", line):
            return float(line.split()[5])
    return None


def load_token_bench() -> ModuleType:
    """``bench/token.py`` (its load client and server start-up), loaded by path: its name is the
    stdlib's ``token``."""
    spec = importlib.util.spec_from_file_location("bench_token", HERE / "token.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def install_node_peer() -> str | None:
    """``npm ci`` the pinned peer once; the reason it cannot run, or None when it can."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return "npm or node is not installed (apt-get install nodejs npm)"
    installed = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
    if installed.exists() and json.loads(installed.read_text()).get("version") == "8.8.1":
        return None
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        return f"npm ci failed: {(result.stderr or result.stdout).strip()[-500:]}"
    return None


class NodePeer:
    """node-oidc-provider on a free port with one confidential client."""

    def __init__(self, free_port: int) -> None:
        self.url = f"http://127.0.0.1:{free_port}"
        client_id, secret = "benchclient", secrets.token_urlsafe(32)
        self.basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.process = subprocess.Popen(
            ["node", str(NODE_DIR / "oidc_provider.mjs"), str(free_port), client_id, secret, SCOPE],
            cwd=NODE_DIR,
            env={**os.environ, "NODE_ENV": "production"},
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"node-oidc-provider exited with {self.process.returncode}")
            try:
                answer = requests.post(
                    f"{self.url}/token",
                    data={"grant_type": "client_credentials", "scope": SCOPE},
                    headers={"Authorization": f"Basic {self.basic}"},
                    timeout=2,
                )
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        token = answer.json().get("access_token", "")
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        if answer.status_code != 200 or header.get("alg") != "RS256":
            raise RuntimeError(f"node-oidc-provider did not mint an RS256 JWT: {answer.text[:300]}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def result(
    measure: str,
    value: float,
    unit: str,
    baseline: str,
    baseline_value: float,
    ratio: float,
    goal: float | None,
) -> None:
    record = {"measure": measure, "value": value, "unit": unit, "baseline": baseline}
    record |= {"baseline_value": baseline_value, "ratio": ratio, "goal": goal}
    print(f"RESULT {json.dumps(record)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--openssl-seconds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run, noisy)")
    parser.add_argument("--driver", choices=["auto", "wrk", "aiohttp"], default="auto")
    args = parser.parse_args()
    use_wrk = args.driver == "wrk" or (args.driver == "auto" and shutil.which("wrk") is not None)
    print(
        f"load generator: {'wrk' if use_wrk else 'aiohttp (in this process)'}, {args.concurrency} connections"
    )
    if args.quick:
        args.seconds, args.rounds, args.openssl_seconds = 2.0, 1, 1

    token_bench = load_token_bench()
    skipped = install_node_peer()
    if skipped:
        print(f"node-oidc-provider skipped: {skipped}", flush=True)
    ostiary = token_bench.start_server("ostiary serve --workers 1", {})
    peer: NodePeer | None = None
    try:
        if not skipped:
            peer = NodePeer(token_bench.free_port())

        def load(url: str, basic: str) -> float:
            asyncio.run(token_bench.drive(url, basic, SCOPE, 1.0, 8))  # warm-up
            if use_wrk:
                rate, errors = token_bench.drive_wrk(url, basic, SCOPE, args.seconds, args.concurrency)
            else:
                rate, errors = asyncio.run(
                    token_bench.drive(url, basic, SCOPE, args.seconds, args.concurrency)
                )
            if errors:
                print(f"  WARNING: {errors} answers from {url} were not 200")
            return float(rate)

        bases: list[float] = []
        elapsed: list[float] = []
        ours: list[float] = []
        theirs: list[float] = []
        for index in range(1, max(args.rounds, 1) + 1):
            base = token_bench.openssl_sign_rate("rsa2048", args.openssl_seconds)
            if base is None:
                base = token_bench.cryptography_rsa_rate()
            bases.append(base)
            elapsed.append(openssl_elapsed_rate(args.openssl_seconds) or math.nan)
            ours.append(load(f"{ostiary.url}/oauth2/v1/token", ostiary.basic))
            line = f"round {index}: openssl {base:,.0f} sign/s (-elapsed {elapsed[-1]:,.0f}); "
            line += f"Ostiary {ours[-1]:,.0f} tokens/s"
            if peer is not None:
                theirs.append(load(f"{peer.url}/token", peer.basic))
                line += f"; node-oidc-provider {theirs[-1]:,.0f} tokens/s"
            print(line, flush=True)
    finally:
        ostiary.process.terminate()
        ostiary.process.wait(timeout=10)
        if peer is not None:
            peer.stop()

    base, rate = statistics.median(bases), statistics.median(ours)
    vs_openssl = statistics.median(o / b for o, b in zip(ours, bases, strict=True))
    print(f"Ostiary ÷ openssl rsa2048 (1 core): {vs_openssl:.2f} (goal >= 1.5, the limit on 2 cores is 2.0)")
    result("client_credentials RS256, serve --workers 1", rate, "tokens/s", OPENSSL, base, vs_openssl, 1.5)
    if not any(math.isnan(e) for e in elapsed):
        vs_elapsed = statistics.median(o / e for o, e in zip(ours, elapsed, strict=True))
        print(f"Ostiary ÷ openssl -elapsed rsa2048: {vs_elapsed:.2f} (the same ratio on a busy machine)")
        measure = "client_credentials RS256, serve --workers 1"
        result(measure, rate, "tokens/s", OPENSSL_ELAPSED, statistics.median(elapsed), vs_elapsed, None)
    if theirs:
        peer_rate = statistics.median(theirs)
        vs_peer = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
        peer_vs_openssl = statistics.median(t / b for t, b in zip(theirs, bases, strict=True))
        print(f"node-oidc-provider ÷ openssl rsa2048 (1 core): {peer_vs_openssl:.2f}")
        print(f"Ostiary ÷ node-oidc-provider: {vs_peer:.2f} (goal >= 1.5)")
        result("client_credentials RS256, serve --workers 1", rate, "tokens/s", PEER, peer_rate, vs_peer, 1.5)
        result(
            "node-oidc-provider 8.8.1 client_credentials RS256",
            peer_rate,
            "tokens/s",
            OPENSSL,
            base,
            peer_vs_openssl,
            None,
        )


if __name__ == "__main__":
    main()
