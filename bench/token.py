"""Token endpoint benchmark: client_credentials tokens/s from one `ostiary serve` worker, next to
`openssl speed` single-core signatures/s measured in the same run (the ratio is the figure).

RS256 on the org authorization server (okta.* scope, client_secret_basic), and ES256 on a custom
server that opted in. The load generator runs in this process on the same machine.

    python bench/token.py [--seconds 8] [--concurrency 64] [--rounds 3] [--compare-threads]

Each round measures ``openssl speed rsa2048`` right before its RS256 and ES256 loads, and the
ratio is taken per round: a shared VM's speed drifts by 10-25% within minutes (seen here), so a
baseline from the start of the run can be off by the end of it. Figures are medians of rounds.
``--compare-threads`` measures, in the same rounds, a second server that signs on threads of its
own process (``OSTIARY_SIGNING_PROCESSES=0``) instead of in child processes (the default).
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib `token` module: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import base64
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.load import service_app
from tests.e2e.servers import OSTIARY, client_credentials_server, free_port, wait_until_up


def openssl_sign_rate(algorithm: str, seconds: int = 3) -> float | None:
    """Single-core signatures/s from `openssl speed` (rsa2048 or ecdsap256)."""
    if shutil.which("openssl") is None:
        return None
    result = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), algorithm], capture_output=True, text=True, check=False
    )
    for line in result.stdout.splitlines():
        if algorithm == "rsa2048" and re.match(r"^rsa\s+2048 bits", line):
            return float(line.split()[5])
        if algorithm == "ecdsap256" and re.match(r"^\s*256 bits ecdsa \(nistp256\)", line):
            return float(line.split()[6])
    return None


def cryptography_rsa_rate(seconds: float = 2.0) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        key.sign(b"x" * 300, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / (time.perf_counter() - start)


def setup(url: str, token: str) -> dict[str, str]:
    session = requests.Session()
    session.headers["Authorization"] = f"SSWS {token}"
    session.verify = False

    client_id, secret = service_app(session, url, "okta.users.read")
    server_id, _policy = client_credentials_server(
        session, url, "bench", credentials={"signing": {"alg": "ES256"}}
    )
    return {"client_id": client_id, "secret": secret, "es_server": server_id}


async def drive(url: str, basic: str, scope: str, seconds: float, concurrency: int) -> tuple[float, int]:
    done = errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                async with http.post(
                    url,
                    data={"grant_type": "client_credentials", "scope": scope},
                    headers={"Authorization": f"Basic {basic}"},
                ) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - start), errors


def drive_wrk(url: str, basic: str, scope: str, seconds: float, concurrency: int) -> tuple[float, int]:
    """The same load from wrk (C, two threads): the load generator costs the server's machine less."""
    script = Path(tempfile.mkdtemp()) / "token.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "grant_type=client_credentials&scope={scope}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {basic}"\n'
    )
    result = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    return rate, int(bad.group(1)) if bad else 0


@dataclass
class Server:
    """One `ostiary serve --workers 1` with a service app (RS256, org AS) and an ES256 server."""

    label: str
    url: str
    process: subprocess.Popen[bytes]
    basic: str
    es_server: str
    rs_runs: list[tuple[float, int]] = field(default_factory=list)
    es_runs: list[tuple[float, int]] = field(default_factory=list)


def start_server(label: str, extra_env: dict[str, str]) -> Server:
    data_dir = Path(tempfile.mkdtemp(prefix="ostiary-bench-token-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "OSTIARY_DATA_DIR": str(data_dir),
        "OSTIARY_BASE_URL": url,
        "OSTIARY_RATE_LIMITS": "off",
        "OSTIARY_LOG_LEVEL": "warning",
        **extra_env,
    }
    created = subprocess.run(
        [OSTIARY, "token", "create", "--name", "bench"], env=env, capture_output=True, text=True, check=False
    )
    if created.returncode != 0:
        sys.exit(f"ostiary token create failed:\n{created.stderr}")
    token = created.stdout.strip().splitlines()[-1]
    process = subprocess.Popen([OSTIARY, "serve", "--port", str(port), "--workers", "1"], env=env)
    try:
        wait_until_up(f"{url}/healthz", process=process, timeout=60.0)
        ids = setup(url, token)
    except BaseException:
        process.terminate()
        raise
    basic = base64.b64encode(f"{ids['client_id']}:{ids['secret']}".encode()).decode()
    return Server(label, url, process, basic, ids["es_server"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--driver", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--compare-threads",
        action="store_true",
        help="also measure a server that signs on threads (OSTIARY_SIGNING_PROCESSES=0) in each round",
    )
    args = parser.parse_args()
    use_wrk = args.driver == "wrk" or (args.driver == "auto" and shutil.which("wrk") is not None)
    print(
        f"load generator: {'wrk' if use_wrk else 'aiohttp (in this process)'}, {args.concurrency} connections"
    )

    rsa_openssl = openssl_sign_rate("rsa2048")
    ec_openssl = openssl_sign_rate("ecdsap256")
    rsa_raw = cryptography_rsa_rate()

    servers = [start_server("signing processes (default)", {})]
    if args.compare_threads:
        servers.append(start_server("signing threads", {"OSTIARY_SIGNING_PROCESSES": "0"}))
    baselines: list[float] = []

    def load(server: Server, target: str, scope: str) -> tuple[float, int]:
        asyncio.run(drive(target, server.basic, scope, 1.0, 8))  # warm-up
        if use_wrk:
            return drive_wrk(target, server.basic, scope, args.seconds, args.concurrency)
        return asyncio.run(drive(target, server.basic, scope, args.seconds, args.concurrency))

    try:
        for index in range(1, max(args.rounds, 1) + 1):
            base = openssl_sign_rate("rsa2048", 2) or cryptography_rsa_rate()
            baselines.append(base)
            line = f"round {index}: openssl rsa2048 {base:,.0f} sign/s"
            for server in servers:
                server.rs_runs.append(load(server, f"{server.url}/oauth2/v1/token", "okta.users.read"))
                server.es_runs.append(
                    load(server, f"{server.url}/oauth2/{server.es_server}/v1/token", "bench")
                )
                rs, es = server.rs_runs[-1][0], server.es_runs[-1][0]
                line += f"; {server.label}: RS256 {rs:,.0f} tokens/s (ratio {rs / base:.2f}), ES256 {es:,.0f}"
            print(line, flush=True)
    finally:
        for server in servers:
            server.process.terminate()
            server.process.wait(timeout=10)

    print(
        f"before the rounds: openssl speed rsa2048 (1 core) {rsa_openssl or float('nan'):,.0f} sign/s; "
        f"cryptography RSA-2048 (1 thread) {rsa_raw:,.0f} sign/s"
    )
    if ec_openssl:
        print(f"openssl speed ecdsap256 (1 core): {ec_openssl:,.0f} sign/s")
    for server in servers:
        rs_rate = statistics.median(rate for rate, _ in server.rs_runs)
        es_rate = statistics.median(rate for rate, _ in server.es_runs)
        rs_errors = sum(errors for _, errors in server.rs_runs)
        es_errors = sum(errors for _, errors in server.es_runs)
        ratios = [rate / base for (rate, _), base in zip(server.rs_runs, baselines, strict=True)]
        print(f"{server.label}:")
        print(
            f"  RS256 client_credentials, org AS, 1 worker: {rs_rate:,.0f} tokens/s ({rs_errors} errors) "
            f"-> ratio {statistics.median(ratios):.2f} (median of rounds) vs single-core RSA signing "
            "(goal >= 1.5)"
        )
        print(
            f"  ES256 client_credentials, custom AS, 1 worker: {es_rate:,.0f} tokens/s ({es_errors} errors) "
            f"-> {es_rate / rs_rate:.2f}x the RS256 rate"
            + (f", ratio {es_rate / ec_openssl:.2f} vs openssl ECDSA" if ec_openssl else "")
        )
    for server in servers:  # bench/run_all.py's table
        rs = statistics.median(rate for rate, _ in server.rs_runs)
        es = statistics.median(rate for rate, _ in server.es_runs)
        ratio = statistics.median(r / b for (r, _), b in zip(server.rs_runs, baselines, strict=True))
        suffix = "" if server is servers[0] else f" ({server.label})"
        for record in (
            (
                "client_credentials RS256, org AS",
                rs,
                "openssl speed rsa2048 sign/s, 1 core",
                statistics.median(baselines),
                ratio,
                1.5,
            ),
            ("client_credentials ES256, custom AS", es, "the RS256 tokens/s above", rs, es / rs, 5.0),
        ):
            measure, value, baseline, baseline_value, ratio_of, goal = record
            print(
                "RESULT "
                + json.dumps(
                    {
                        "measure": measure + suffix,
                        "value": value,
                        "unit": "tokens/s",
                        "baseline": baseline,
                        "baseline_value": baseline_value,
                        "ratio": ratio_of,
                        "goal": goal,
                    }
                )
            )


if __name__ == "__main__":
    main()
