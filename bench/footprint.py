"""Footprint: one server process's resident memory idle and under client_credentials load, and a
leak check over 100k token requests (issue 20, goal 5: <= 100 MB idle, <= 150 MB under load, no
growth over 100k requests).

Run: ``.venv/bin/python bench/footprint.py [--requests 100000] [--modes memory,sqlite]
[--compare SRC] [--trace-requests 20000]``.

Per mode, a fresh server with a fixed-id service app (the org file of ``bench/startup.py``),
rate limits off:

- ``memory``: ``ostiary serve --memory --apply org.yaml``;
- ``sqlite``: ``ostiary apply -f org.yaml`` on a new data dir, then ``ostiary serve --workers 1``
  on it (with ``workers 1`` uvicorn serves in the process itself; the token signers are child
  processes, reported apart as ``signers``).

Figures: ``idle`` is VmRSS 2 s after the first token; under load, ``load peak`` is the highest
VmRSS sampled every 0.1 s while ``wrk`` (2 threads, 64 connections) asks for tokens (``aiohttp``
when ``wrk`` is absent); ``growth`` is VmRSS after all ``--requests`` minus VmRSS after the first
10 % of them (warm caches, allocator arenas), so a leak shows as growth that scales with the
request count. The baseline in the same run is a hello-world Starlette app under uvicorn: the
serving stack's own floor.

``--trace-requests N`` then starts a ``serve --memory`` under ``tracemalloc``, takes a snapshot
after a warm-up (SIGUSR1 makes the server collect garbage and dump one), another after N more
requests, and prints the ten source lines whose allocations grew most: where a leak is, if there
is one (a leak grows with N; connections and responses in flight do not). ``--modes ''`` runs
only that.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import base64
import json
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

OSTIARY = str(Path(sys.executable).with_name("ostiary"))
HERE_SRC = str(Path(__file__).resolve().parents[1] / "src")
CLIENT_ID, CLIENT_SECRET = "0oaFootprintBench", "footprint-bench-secret-0123456789abcdef"
SCOPE = "okta.users.read"
ORG_FILE = f"""\
apps:
  - label: Footprint bench service
    credentials:
      oauthClient:
        client_id: {CLIENT_ID}
        client_secret: {CLIENT_SECRET}
        token_endpoint_auth_method: client_secret_basic
    settings:
      oauthClient:
        application_type: service
        grant_types: [client_credentials]
        response_types: [token]
    grants: [{SCOPE}]
"""
HELLO = """\
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def hello(request):
    return JSONResponse({"hello": "world"})
app = Starlette(routes=[Route("/", hello, methods=["GET", "POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
TRACED_SERVE = """\
import gc, os, signal, sys, tracemalloc
dumps = [0]
def dump(*_):
    dumps[0] += 1
    gc.collect()  # garbage awaiting the collector is not a leak: compare what is still reachable
    tracemalloc.take_snapshot().dump(f"{os.environ['FOOTPRINT_SNAPSHOT']}.{dumps[0]}")
signal.signal(signal.SIGUSR1, dump)
from ostiary.cli import app
sys.argv = ["ostiary", *sys.argv[1:]]
app()
"""
IDLE_SECONDS = 2.0
GOAL_IDLE_MB, GOAL_LOAD_MB = 100.0, 150.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(src: str, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(OSTIARY_LOG_LEVEL="warning", OSTIARY_RATE_LIMITS="off", PYTHONPATH=src, **extra)
    return env


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else float("nan")


def children_rss_mb(pid: int) -> float:
    """Resident memory of ``pid``'s child processes (the token signers), summed."""
    total = 0.0
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for kid in child.read_text().split():
            with suppress(OSError):  # a signer that just exited
                total += rss_mb(int(kid))
    return total


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def token_url(self) -> str:
        return f"{self.url}/oauth2/v1/token"


def wait_for_token(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}")
        try:
            issued = httpx.post(
                server.token_url(),
                data={"grant_type": "client_credentials", "scope": SCOPE},
                auth=(CLIENT_ID, CLIENT_SECRET),
                timeout=10,
            )
            issued.raise_for_status()
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError("no token")


@contextmanager
def ostiary_server(
    mode: str, src: str, workdir: Path, *, traced_snapshot: Path | None = None
) -> Iterator[Server]:
    port = free_port()
    org_file = workdir / "org.yaml"
    org_file.write_text(ORG_FILE)
    env = env_for(src, OSTIARY_DATA_DIR=str(workdir / "data"))
    if mode == "memory":
        args = ["serve", "--memory", "--apply", str(org_file), "--port", str(port)]
    else:
        applied = subprocess.run(
            [OSTIARY, "apply", "-f", str(org_file)], env=env, capture_output=True, check=False
        )
        if applied.returncode != 0:
            raise RuntimeError(applied.stderr.decode())
        args = ["serve", "--workers", "1", "--port", str(port)]
    if traced_snapshot is not None:
        command = [sys.executable, "-X", "tracemalloc=1", "-c", TRACED_SERVE, *args]
        env["FOOTPRINT_SNAPSHOT"] = str(traced_snapshot)
    else:
        command = [OSTIARY, *args]
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        wait_for_token(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def hello_server() -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", HELLO, str(port)], stderr=subprocess.DEVNULL)
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{server.url}/", timeout=5).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)


class Sampler:
    """Highest VmRSS of a process, sampled every 0.1 s on a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return
            self._stop.wait(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def load(url: str, requests: int, *, post_token: bool = True) -> int:
    """Send about ``requests`` requests (64 connections); the number of non-2xx answers."""
    if shutil.which("wrk"):
        return _load_wrk(url, requests, post_token)
    return asyncio.run(_load_aiohttp(url, requests, post_token))


def _load_wrk(url: str, requests: int, post_token: bool) -> int:
    """wrk runs for a time, not a count: chunks sized from the rate so far, until ``requests``."""
    script = Path(tempfile.mkdtemp(prefix="footprint-wrk-")) / "token.lua"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    if post_token:
        script.write_text(
            'wrk.method = "POST"\n'
            f'wrk.body = "grant_type=client_credentials&scope={SCOPE}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.headers["Authorization"] = "Basic {basic}"\n'
        )
    else:
        script.write_text("")
    done = errors = 0
    rate = 200.0  # requests/s guess for the first chunk
    while done < requests:
        seconds = min(30, max(1, round((requests - done) / rate)))
        started = time.perf_counter()
        result = subprocess.run(
            ["wrk", "-t2", "-c64", f"-d{seconds}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
        )
        count = re.search(r"(\d+) requests in", result.stdout)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        sent = int(count.group(1)) if count else 0
        done += sent
        errors += int(bad.group(1)) if bad else 0
        rate = max(1.0, sent / (time.perf_counter() - started))
    return errors


async def _load_aiohttp(url: str, requests: int, post_token: bool) -> int:
    import aiohttp

    left, errors = requests, 0
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:

        async def worker() -> None:
            nonlocal left, errors
            while left > 0:
                left -= 1
                if post_token:
                    call = http.post(
                        url,
                        data={"grant_type": "client_credentials", "scope": SCOPE},
                        headers={"Authorization": f"Basic {basic}"},
                    )
                else:
                    call = http.get(url)
                async with call as response:
                    await response.read()
                    errors += response.status >= 300

        await asyncio.gather(*(worker() for _ in range(64)))
    return errors


def measure(
    server: Server, requests: int, *, post_token: bool = True, signers: bool = False
) -> dict[str, float]:
    pid = server.process.pid
    time.sleep(IDLE_SECONDS)
    idle = rss_mb(pid)
    url = server.token_url() if post_token else f"{server.url}/"
    warm = max(1, requests // 10)
    with Sampler(pid) as sampler:
        errors = load(url, warm, post_token=post_token)
        after_warm = rss_mb(pid)
        errors += load(url, requests - warm, post_token=post_token)
    after = rss_mb(pid)
    if errors:
        raise RuntimeError(f"{errors} requests failed")
    figures = {"idle": idle, "load peak": sampler.peak, "growth": after - after_warm}
    if signers:
        figures["signers"] = children_rss_mb(pid)
    return figures


def traced_growth(src: str, requests: int) -> list[str]:
    """The ten source lines whose allocations grew most over ``requests`` token requests."""
    with tempfile.TemporaryDirectory(prefix="footprint-trace-") as tmp:
        snapshot = Path(tmp) / "snap"
        with ostiary_server("memory", src, Path(tmp), traced_snapshot=snapshot) as server:
            load(server.token_url(), 5_000)
            time.sleep(2.5)  # past serve --memory's first collection (ostiary.startup_gc)
            server.process.send_signal(signal.SIGUSR1)
            _wait_for(Path(f"{snapshot}.1"))
            load(server.token_url(), requests)
            server.process.send_signal(signal.SIGUSR1)
            _wait_for(Path(f"{snapshot}.2"))
        first = tracemalloc.Snapshot.load(f"{snapshot}.1")
        second = tracemalloc.Snapshot.load(f"{snapshot}.2")
    keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = second.filter_traces(keep).compare_to(first.filter_traces(keep), "lineno")
    total = sum(s.size_diff for s in stats)
    lines = [f"traced growth over {requests} requests: {total / 1024:+.0f} KiB in all; top lines:"]
    lines += [
        f"  {s.size_diff / 1024:+8.1f} KiB {s.count_diff:+6d} blocks  {s.traceback[0]}" for s in stats[:10]
    ]
    return lines


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    size = -1
    while time.monotonic() < deadline:  # written once its size stops changing
        if path.exists() and path.stat().st_size == size and size > 0:
            return
        size = path.stat().st_size if path.exists() else -1
        time.sleep(0.5)
    raise TimeoutError(f"no snapshot {path}")


def result_line(measure: str, value: float, baseline: float, goal: str) -> str:
    return "RESULT " + json.dumps(
        {
            "measure": measure,
            "value": round(value, 1),
            "unit": "MB",
            "baseline": "hello-world Starlette on uvicorn, same run",
            "baseline_value": round(baseline, 1),
            "ratio": round(value / baseline, 2),
            "goal": goal,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--modes", default="memory,sqlite")
    parser.add_argument("--compare", metavar="SRC", help="another source tree, measured in the same run")
    parser.add_argument("--trace-requests", type=int, default=20_000, help="0: no tracemalloc run")
    args = parser.parse_args()
    trees = {"this": HERE_SRC}
    if args.compare:
        trees["compare"] = str(Path(args.compare).resolve())
    modes = [m for m in args.modes.split(",") if m]

    with hello_server() as hello:
        base = measure(hello, max(1_000, args.requests // 10), post_token=False)
    driver = "wrk" if shutil.which("wrk") else "aiohttp"
    print(f"load: {driver}, 64 connections; load average {os.getloadavg()[0]:.1f}")
    print(f"{'baseline: hello-world Starlette':<44} idle {base['idle']:6.1f} MB", end="")
    print(f"  load peak {base['load peak']:6.1f} MB")
    results: dict[tuple[str, str], dict[str, float]] = {}
    for mode in modes:
        for name, src in trees.items():
            with (
                tempfile.TemporaryDirectory(prefix="footprint-") as tmp,
                ostiary_server(mode, src, Path(tmp)) as server,
            ):
                figures = measure(server, args.requests, signers=mode == "sqlite")
            results[(mode, name)] = figures
            extra = f"  signers {figures['signers']:6.1f} MB" if "signers" in figures else ""
            print(
                f"{mode + ' (' + name + ')':<44} idle {figures['idle']:6.1f} MB  load peak "
                f"{figures['load peak']:6.1f} MB  growth over {args.requests} requests "
                f"{figures['growth']:+6.1f} MB{extra}",
                flush=True,
            )
    print(f"goals: idle <= {GOAL_IDLE_MB:.0f} MB, under load <= {GOAL_LOAD_MB:.0f} MB, no growth (issue 20)")
    if args.trace_requests:
        for line in traced_growth(HERE_SRC, args.trace_requests):
            print(line)
    for mode in modes:
        figures = results[(mode, "this")]
        label = "serve --memory" if mode == "memory" else "serve --workers 1 (SQLite)"
        print(result_line(f"{label}: RSS idle", figures["idle"], base["idle"], f"<= {GOAL_IDLE_MB:.0f} MB"))
        print(
            result_line(
                f"{label}: RSS under token load",
                figures["load peak"],
                base["load peak"],
                f"<= {GOAL_LOAD_MB:.0f} MB",
            )
        )
        print(
            "RESULT "
            + json.dumps(
                {
                    "measure": f"{label}: RSS growth over {args.requests} token requests",
                    "value": round(figures["growth"], 1),
                    "unit": "MB",
                    "baseline": "hello-world Starlette, same run",
                    "baseline_value": round(base["growth"], 1),
                    "ratio": None,
                    "goal": "no growth",
                }
            )
        )


if __name__ == "__main__":
    main()
