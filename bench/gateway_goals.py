"""Issue 20, goal 2: ``ostiary gateway`` against its baselines, in alternating rounds.

Run: ``.venv/bin/python bench/gateway_goals.py [--rounds 3] [--seconds 5] [--compare-src DIR]``.

On free loopback ports, each its own process: the solar-system API (the upstream), a JWKS
issuer (a thread of this process, hit once per gateway), and in front of the same upstream

- ``ostiary gateway`` (this tree), ``/planets`` needing the silver scope, token cache on;
- the same with two processes on one port (``--reuse-port``);
- HAProxy 2.6 on one thread (``nbthread 1``) when ``haproxy`` is on PATH, with a generated
  configuration doing what the gateway does for ``/planets``: RS256 ``jwt_verify`` against a
  PEM per ``kid``, ``exp``, ``iss``, ``aud`` and the silver scope in ``scp`` (HAProxy 2.6's
  ``json_query`` returns no arrays, so the scope is matched as a JSON string in the decoded
  payload, the usual HAProxy recipe); HAProxy verifies every call, it has no token cache;
- ``ostiary gateway`` from ``--compare-src`` (e.g. a worktree of main) for before/after.

Every round drives ``GET /planets`` at each of them (and at the upstream directly) with
``wrk -t1 -c64`` for ``--seconds``, in an order rotated each round, so that drifts of a
shared machine fall on all alike; each ratio is taken within a round, and the median and the
spread over rounds are printed. Then the added latency on a token-cache hit: ``wrk -c1``,
gateway against upstream, p50 and p99, alternating. Each figure ends as one line
``RESULT {json}`` (measure, value, unit, baseline, baseline_value, ratio, goal; spread) for
``make bench``'s table. Needs ``wrk``.

On a 2-core machine wrk, the upstream and the gateway share the CPUs, so every ratio
includes the others' CPU; "CPU ms per request" shows where it goes.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("bench_gateway", HERE / "gateway.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_gateway"] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)

AUDIENCE = "api://default"
KID = "bench-1"


def haproxy_config(port: int, upstream_port: int, issuer: str, pems: dict[str, Path]) -> str:
    """HAProxy's configuration for ``/planets``: what the gateway checks, with ``jwt_verify``."""
    verify = "\n".join(
        f'  http-request set-var(txn.valid) var(txn.bearer),jwt_verify(txn.alg,"{pem}") '
        f"if {{ var(txn.kid) -m str {kid} }}"
        for kid, pem in pems.items()
    )
    return f"""global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend gateway
  bind 127.0.0.1:{port}
  http-request deny deny_status 404 unless {{ path /planets }}
  http-request set-var(txn.bearer) http_auth_bearer
  http-request return status 401 unless {{ var(txn.bearer) -m found }}
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request set-var(txn.kid) var(txn.bearer),jwt_header_query('$.kid')
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
  http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.payload) var(txn.bearer),field(2,.),ub64dec
  http-request set-var(txn.now) date()
  http-request return status 401 unless {{ var(txn.alg) -m str RS256 }}
  http-request return status 401 unless {{ var(txn.iss) -m str {issuer} }}
  http-request return status 401 unless {{ var(txn.aud) -m str {AUDIENCE} }}
  http-request return status 401 if {{ var(txn.exp),sub(txn.now) -m int lt 0 }}
{verify}
  http-request return status 401 unless {{ var(txn.valid) -m int 1 }}
  http-request return status 403 unless {{ var(txn.payload) -m sub "\\"{bench.SILVER}\\"" }}
  default_backend upstream
backend upstream
  http-reuse always
  server solar 127.0.0.1:{upstream_port}
"""


def start_haproxy(config: Path) -> subprocess.Popen[bytes]:
    subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], check=True)
    return subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL)


def start_gateway(src: Path, config: Path, port: int, *, reuse_port: bool = False) -> subprocess.Popen[bytes]:
    """``run_gateway`` from the tree ``src`` (``reuse_port`` only where that tree has it)."""
    extra = ", reuse_port=True" if reuse_port else ""
    code = (
        "import logging, sys; from pathlib import Path; logging.basicConfig(level=logging.WARNING); "
        "from ostiary.gateway.server import run_gateway; "
        f"run_gateway(Path(sys.argv[1]), '127.0.0.1', int(sys.argv[2]){extra})"
    )
    env = {**os.environ, "PYTHONPATH": str(src), "OSTIARY_LOG_LEVEL": "warning"}
    return subprocess.Popen([sys.executable, "-c", code, str(config), str(port)], env=env)


def load(url: str, headers: dict[str, str], seconds: float, connections: int, pids: dict[str, int]) -> Any:
    """One wrk run (one thread, after a 1 s warm-up) and the CPU ms per request of ``pids``."""
    before = {name: bench.cpu_seconds(pid) for name, pid in pids.items()}
    result = bench.wrk_load(url, headers, seconds, connections, threads=1)  # the cores to the servers
    answered = result.requests * (1 + 1 / seconds)
    for name, pid in pids.items():
        result.cpu_ms_per_request[name] = (bench.cpu_seconds(pid) - before[name]) * 1000 / answered
    return result


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}, min {min(values):.2f}, max {max(values):.2f}"


def result_line(
    measure: str,
    value: float,
    unit: str,
    baseline: str,
    baseline_value: float,
    ratios: list[float],
    goal: float | str | None,
) -> None:
    body = {
        "measure": measure,
        "value": round(value, 3),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(baseline_value, 3),
        "ratio": round(statistics.median(ratios), 3),
        "goal": goal,
        "spread": [round(min(ratios), 3), round(max(ratios), 3)],
        "rounds": len(ratios),
    }
    print("RESULT " + json.dumps(body), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--compare-src", type=Path, help="a tree whose src/ is the 'before' gateway")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/gateway_goals.py needs wrk (apt-get install wrk)")

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": KID, "alg": "RS256", "use": "sig"}
    issuer = bench.JwksThread(jwk).start()
    now = int(time.time())
    claims = {
        "ver": 1,
        "jti": "AT.bench",
        "iss": issuer.issuer,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "cid": "0oabench",
        "sub": "carl.sagan@mailinator.com",
        "scp": ["openid", bench.SILVER],
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
    auth = {"Authorization": f"Bearer {token}"}
    upstream_port = bench.free_port()
    config = {
        "issuers": [{"issuer": issuer.issuer, "audiences": [AUDIENCE]}],
        "routes": [
            {
                "path": "/planets",
                "upstream": f"http://127.0.0.1:{upstream_port}",
                "scopes": {"all_of": [bench.SILVER]},
            }
        ],
        "metrics": {"enabled": True, "public": True},
    }
    processes: list[subprocess.Popen[bytes]] = []
    targets: dict[str, tuple[str, dict[str, str], dict[str, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "gateway.yaml"
        config_path.write_text(json.dumps(config))  # JSON is YAML
        try:
            upstream = bench.start_upstream(upstream_port)
            processes.append(upstream)
            bench.wait_for(f"http://127.0.0.1:{upstream_port}/planets")
            targets["upstream"] = (
                f"http://127.0.0.1:{upstream_port}/planets",
                {},
                {"upstream": upstream.pid},
            )

            def gateway(name: str, src: Path, count: int = 1) -> None:
                port = bench.free_port()
                started = [start_gateway(src, config_path, port, reuse_port=count > 1) for _ in range(count)]
                processes.extend(started)
                bench.wait_for(f"http://127.0.0.1:{port}/metrics")
                time.sleep(1.0 if count > 1 else 0)  # the second process binds a moment later
                pids = {"upstream": upstream.pid} | {f"{name} #{i + 1}": p.pid for i, p in enumerate(started)}
                targets[name] = (f"http://127.0.0.1:{port}/planets", auth, pids)

            gateway("gateway", ROOT / "src")
            gateway("gateway x2", ROOT / "src", count=2)
            if args.compare_src:
                gateway("gateway (before)", args.compare_src.resolve() / "src")
            if shutil.which("haproxy"):
                pem = Path(tmp) / f"{KID}.pem"
                pem.write_bytes(
                    key.public_key().public_bytes(
                        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                    )
                )
                port = bench.free_port()
                haproxy_path = Path(tmp) / "haproxy.cfg"
                haproxy_path.write_text(haproxy_config(port, upstream_port, issuer.issuer, {KID: pem}))
                haproxy = start_haproxy(haproxy_path)
                processes.append(haproxy)
                url = f"http://127.0.0.1:{port}/planets"
                bench.wait_for(url)
                targets["haproxy"] = (url, auth, {"upstream": upstream.pid, "haproxy": haproxy.pid})
            for name, (url, headers, _) in targets.items():  # each answers the planets, with the token
                if not _answers_planets(url, headers):
                    sys.exit(f"{name} does not answer /planets with the planets")
            print(
                f"{len(targets)} targets, {args.rounds} rounds of {args.seconds:g} s each, wrk -t1 "
                f"-c{args.connections}, {os.cpu_count()} CPUs",
                flush=True,
            )
            rates: dict[str, list[float]] = {name: [] for name in targets}
            cpu: dict[str, dict[str, list[float]]] = {name: {} for name in targets}
            names = list(targets)
            for round_ in range(args.rounds):
                order = names[round_ % len(names) :] + names[: round_ % len(names)]
                for name in order:
                    url, headers, pids = targets[name]
                    r = load(url, headers, args.seconds, args.connections, pids)
                    if r.errors:
                        print(f"WARNING: {name}: {r.errors} answers were not 2xx", flush=True)
                    rates[name].append(r.rate)
                    for process, ms in r.cpu_ms_per_request.items():
                        cpu[name].setdefault(process, []).append(ms)
                print(
                    f"  round {round_ + 1}: " + ", ".join(f"{n} {rates[n][-1]:.0f}/s" for n in names),
                    flush=True,
                )
            quiet: dict[str, list[Any]] = {"upstream": [], "gateway": []}
            for round_ in range(args.rounds):
                for name in ("upstream", "gateway") if round_ % 2 == 0 else ("gateway", "upstream"):
                    url, headers, pids = targets[name]
                    quiet[name].append(load(url, headers, min(3.0, args.seconds), 1, pids))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=10)
            issuer.stop()

    report(args, rates, cpu, quiet)


def _answers_planets(url: str, headers: dict[str, str]) -> bool:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as answer:
        return bool(answer.status == 200 and answer.read() == bench.EXPECTED)


def report(
    args: argparse.Namespace,
    rates: dict[str, list[float]],
    cpu: dict[str, dict[str, list[float]]],
    quiet: dict[str, list[Any]],
) -> None:
    print(f"\nthroughput, {args.connections} connections (req/s per round):")
    for name, values in rates.items():
        ms = ", ".join(f"{p} {statistics.median(v):.3f}" for p, v in cpu[name].items())
        print(f"  {name:18} {' '.join(f'{v:7.0f}' for v in values)}   CPU ms/request: {ms}")

    def ratios(name: str, over: str) -> list[float]:
        return [a / b for a, b in zip(rates[name], rates[over], strict=True)]

    def compare(name: str, over: str, measure: str, baseline: str, goal: float | None) -> None:
        if name not in rates or over not in rates:
            return
        values = ratios(name, over)
        print(f"  {measure}: {spread(values)}" + (f" (goal >= {goal})" if goal else ""))
        result_line(
            measure,
            statistics.median(rates[name]),
            "req/s",
            baseline,
            statistics.median(rates[over]),
            values,
            goal,
        )

    compare("gateway", "upstream", "gateway / upstream direct", "solar-system API called directly", 0.7)
    compare("gateway", "haproxy", "gateway / HAProxy jwt_verify", "HAProxy 2.6 jwt_verify, 1 thread", 0.7)
    compare("gateway x2", "gateway", "2 gateway processes / 1", "one gateway process", 1.6)
    compare("gateway", "gateway (before)", "gateway / before", f"gateway of {args.compare_src}", None)

    def proxy_cpu(name: str) -> list[float]:
        """CPU ms per request of the proxy's own process(es), per round (the upstream left out)."""
        per_process = [v for p, v in cpu[name].items() if p != "upstream"]
        return [sum(values) for values in zip(*per_process, strict=True)]

    print("CPU ms per proxied request, the proxy's own processes (robust where req/s is not: on a")
    print("shared machine the rates swing with others' load, the CPU each request costs does not):")
    for name in [n for n in rates if n != "upstream"]:
        print(f"  {name:18} {spread(proxy_cpu(name))}")

    def per_core(name: str, over: str, measure: str, baseline: str, goal: float | None) -> None:
        """Requests per CPU-second of ``name`` over ``over``'s: their rates on one core each."""
        if name not in rates or over not in rates:
            return
        mine, theirs = proxy_cpu(name), proxy_cpu(over)
        values = [b / a for a, b in zip(mine, theirs, strict=True)]
        print(f"  {measure}: {spread(values)}" + (f" (goal >= {goal})" if goal else ""))
        rate = 1000 / statistics.median(mine)
        result_line(measure, rate, "req/CPU-s", baseline, 1000 / statistics.median(theirs), values, goal)

    per_core("gateway", "haproxy", "gateway / HAProxy jwt_verify, per CPU", "HAProxy 2.6 jwt_verify", 0.7)
    per_core(
        "gateway", "gateway (before)", "gateway / before, per CPU", f"gateway of {args.compare_src}", None
    )

    added_p50 = [g.p50_ms - u.p50_ms for g, u in zip(quiet["gateway"], quiet["upstream"], strict=True)]
    added_p99 = [g.p99_ms - u.p99_ms for g, u in zip(quiet["gateway"], quiet["upstream"], strict=True)]
    print("latency on a token-cache hit, 1 connection:")
    print(f"  added p50 ms: {spread(added_p50)}")
    print(f"  added p99 ms: {spread(added_p99)} (goal <= 1 ms)")
    direct_p99 = statistics.median(u.p99_ms for u in quiet["upstream"])
    via_p99 = [g.p99_ms / u.p99_ms for g, u in zip(quiet["gateway"], quiet["upstream"], strict=True)]
    result_line(
        "gateway added p99 latency, token-cache hit",
        statistics.median(added_p99),
        "ms",
        "upstream direct p99, 1 connection",
        direct_p99,
        via_p99,
        "<= 1 ms added",
    )


if __name__ == "__main__":
    main()
