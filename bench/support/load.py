"""What the HTTP benches share: a `serve` process to load, wrk to load it, the CPU time the
server's process tree spent, and the ``RESULT`` line ``bench/run_all.py`` collects.

Why CPU time: the 2-core machine these benches run on is shared (a load average of 6-10 is
common), so a server's requests/s swings with its neighbours, while the CPU time it spends per
request does not (much). Next to the wall-clock rate, each load reports the server's CPU per
request, split into its main process (the event loop) and its children (the signing
processes), and the **capacity** those figures imply on this machine's cores left to it:
``min(cores / cpu_per_request, 1 / main_cpu_per_request)`` (the event loop is one thread, so
it can never use more than one core). ``openssl speed`` reports CPU time too (its default,
without ``-elapsed``), so capacity ÷ ``openssl speed`` is a like-for-like ratio.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.servers import OSTIARY, free_port, wait_until_up

TICKS = os.sysconf("SC_CLK_TCK")
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def result(
    measure: str,
    value: float,
    unit: str,
    baseline: str,
    baseline_value: float,
    ratio: float,
    goal: float | None,
) -> None:
    """One ``RESULT {json}`` line for ``bench/run_all.py``'s table."""
    record = {
        "measure": measure,
        "value": round(value, 3),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(baseline_value, 3),
        "ratio": round(ratio, 4),
        "goal": goal,
    }
    print("RESULT " + json.dumps(record), flush=True)


def openssl_sign_rate(algorithm: str = "rsa2048", seconds: int = 2) -> float:
    """Single-core signatures/s from ``openssl speed`` (CPU time: its default)."""
    if shutil.which("openssl") is None:
        sys.exit("openssl is needed for the baseline")
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), algorithm], capture_output=True, text=True, check=False
    ).stdout
    for line in out.splitlines():
        if algorithm == "rsa2048" and re.match(r"^rsa\s+2048 bits", line):
            return float(line.split()[5])
    raise RuntimeError(f"no {algorithm} line in openssl speed's output")


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of ``pid`` and of ``pid`` with its live children."""

    def cpu(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    main = cpu(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return main, main + sum(cpu(k) for k in kids)


@dataclass(frozen=True)
class Load:
    """One load: requests answered, wall rate, and the server's CPU per request."""

    requests: int
    rate: float
    errors: int
    cpu_us: float
    main_us: float

    @property
    def capacity(self) -> float:
        """Requests/s the CPU figures allow on this machine's cores (module docstring)."""
        return min(CORES / (self.cpu_us / 1e6), 1 / (self.main_us / 1e6))

    def describe(self) -> str:
        return (
            f"{self.rate:,.0f}/s wall ({self.errors} errors), CPU {self.cpu_us:,.0f} us/request "
            f"(event loop {self.main_us:,.0f}), capacity {self.capacity:,.0f}/s"
        )


SERVICE_APP = {
    "name": "oidc_client",
    "label": "bench",
    "signOnMode": "OPENID_CONNECT",
    "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
    "settings": {
        "oauthClient": {
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
        }
    },
}
"""The benches' client_credentials client (``POST /api/v1/apps``), ``client_secret_basic``."""


def basic(client_id: str, secret: str) -> str:
    """``Authorization: Basic`` for a client."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def service_app(admin: requests.Session, url: str, *scopes: str) -> tuple[str, str]:
    """A :data:`SERVICE_APP` made through the management API of ``url``, granted the ``okta.*``
    ``scopes`` on the org authorization server; its ``(client_id, client_secret)``."""
    oauth = admin.post(f"{url}/api/v1/apps", json=SERVICE_APP).json()["credentials"]["oauthClient"]
    for scope in scopes:
        grant = admin.post(
            f"{url}/api/v1/apps/{oauth['client_id']}/grants", json={"issuer": url, "scopeId": scope}
        )
        assert grant.status_code == 201, grant.text
    return oauth["client_id"], oauth["client_secret"]


def wrk_script(
    method: str, body: str = "", headers: dict[str, str] | None = None, bodies_file: str = ""
) -> Path:
    """A wrk Lua script: one request, or (``bodies_file``: one body a line) a different body per
    request, each used once by one of wrk's threads (thread ``t`` of ``n`` takes lines t, t+n…).
    A thread whose lines ran out stops at its next answer, so at most one request per connection
    repeats the last body: authorization codes are single use, and a burst of replays (each one
    a refusal plus revocations) was charged to the successful redemptions' CPU. wrk still divides
    by the whole ``-d`` duration, so a run that ran out understates its wall-clock rate (its CPU
    per request, hence its capacity, is right): give it enough lines."""
    lines = [f'wrk.method = "{method}"']
    for name, value in (headers or {}).items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    if bodies_file:
        lines += [
            "local bodies, index, step = {}, 1, 1",
            f'for line in io.lines("{bodies_file}") do bodies[#bodies + 1] = line end',
            "local counter = 0",
            "function setup(thread) counter = counter + 1; thread:set('first', counter) end",
            "function init(args) index = first; step = tonumber(os.getenv('WRK_THREADS') or '1') end",
            "function request()",
            "  local body = bodies[index] or bodies[#bodies]",
            "  index = index + step",
            "  return wrk.format(nil, nil, nil, body)",
            "end",
            "function response() if index > #bodies then wrk.thread:stop() end end",
        ]
    else:
        lines.append(f'wrk.body = "{body}"')
    script = Path(tempfile.mkdtemp(prefix="ostiary-wrk-")) / "load.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def wrk(url: str, script: Path, seconds: float, connections: int, pid: int, threads: int = 1) -> Load:
    """Load ``url`` with wrk and measure server ``pid``'s CPU over the run."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    main0, all0 = tree_cpu(pid)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "WRK_THREADS": str(threads)},
    ).stdout
    main1, all1 = tree_cpu(pid)
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    count, duration = int(found[1]), float(found[2]) / (1000 if found[3] == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    done = max(count - errors, 1)
    return Load(count, done / duration, errors, (all1 - all0) / done * 1e6, (main1 - main0) / done * 1e6)


@dataclass
class Serve:
    """One ``ostiary serve --workers 1`` on a fresh data dir, and an admin session (SSWS)."""

    url: str
    process: subprocess.Popen[bytes]
    admin: requests.Session

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def serve(
    extra_env: dict[str, str] | None = None, *, workers: int = 1, data_dir: Path | None = None
) -> Serve:
    """A server on a free port; ``data_dir`` (its master key, and its SQLite database unless
    ``OSTIARY_DATABASE_URL`` says otherwise) is a new one unless given."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="ostiary-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "OSTIARY_DATA_DIR": str(data_dir),
        "OSTIARY_BASE_URL": url,
        "OSTIARY_RATE_LIMITS": "off",
        "OSTIARY_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    created = subprocess.run(
        [OSTIARY, "token", "create", "--name", "bench"], env=env, capture_output=True, text=True, check=False
    )
    if created.returncode != 0:
        sys.exit(f"ostiary token create failed:\n{created.stderr}")
    token = created.stdout.strip().splitlines()[-1]
    process = subprocess.Popen([OSTIARY, "serve", "--port", str(port), "--workers", str(workers)], env=env)
    try:
        # 60 s, not the tests' 20: on the shared machine (load average 15+), a first start
        # on a new PostgreSQL database has taken longer than 20 s (bench/directory_scale.py).
        wait_until_up(f"{url}/healthz", process=process, timeout=60.0)
    except BaseException:
        process.terminate()
        raise
    admin = requests.Session()
    admin.headers["Authorization"] = f"SSWS {token}"
    return Serve(url, process, admin)


def settle(seconds: float = 1.0) -> None:
    """A pause between loads, so that one's tail does not count in the next one's CPU."""
    time.sleep(seconds)
