"""Start-up: wall time from exec of ``ostiary serve --memory`` to the first client_credentials token.

Run: ``.venv/bin/python bench/startup.py [-n RUNS]``. Issue 21's goal: under 1 s.

Each run, in a fresh empty working directory with no ``OSTIARY_*`` variable but the log level:

1. exec ``ostiary serve --memory --port P`` (t = 0);
2. read the ``SSWS token: ...`` line from its stdout (``token line``);
3. with that token, create a service app (client_secret_basic) and grant it ``okta.users.read``
   through the management API, retrying while the port is not yet open (``port open`` is when
   the first call is answered; ``app setup`` is the time the two management calls take);
4. ask ``/oauth2/v1/token`` for a client_credentials token (``first token``).

Until ``serve --apply org.yaml`` exists the app cannot be there at start, so it is made over
HTTP and that time is reported on its own line; ``first token - app setup`` is the figure that
compares with the issue's goal (an app applied before the port opens costs a few ms of SQL,
not two HTTP round trips). The client is httpx, imported before the clock starts.

``python -c pass`` and ``python -c "import ostiary.cli"`` are measured in the same run, as the
floor and as the share of the start that is only imports. Figures are medians of N runs.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

OSTIARY = str(Path(sys.executable).with_name("ostiary"))
PREFIX = "SSWS token: "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_LOG_LEVEL"] = "warning"
    return env


def time_command(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, env=clean_env())
    return time.perf_counter() - start


def one_start(schema: str) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ostiary-startup-") as cwd:
        start = time.perf_counter()
        process = subprocess.Popen(
            [OSTIARY, "serve", "--memory", "--port", str(port)],
            cwd=cwd,
            env={**clean_env(), "OSTIARY_MEMORY_SCHEMA": schema},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith(PREFIX):
                raise RuntimeError(f"no token line: {line!r}")
            t_line = time.perf_counter() - start
            admin = httpx.Client(
                base_url=url, headers={"Authorization": f"SSWS {line[len(PREFIX) :].strip()}"}, timeout=10
            )
            body = {
                "name": "oidc_client",
                "label": "startup-bench",
                "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {
                    "oauthClient": {"grant_types": ["client_credentials"], "application_type": "service"}
                },
            }
            while True:
                try:
                    setup_start = time.perf_counter()
                    created = admin.post("/api/v1/apps", json=body)
                    break
                except httpx.ConnectError:
                    if process.poll() is not None:
                        raise RuntimeError("server exited") from None
                    time.sleep(0.002)
            t_open = time.perf_counter() - start
            created.raise_for_status()
            app = created.json()
            admin.post(
                f"/api/v1/apps/{app['id']}/grants",
                json={"scopeId": "okta.users.read", "issuer": f"http://localhost:{port}"},
            ).raise_for_status()
            setup = time.perf_counter() - setup_start
            oauth = app["credentials"]["oauthClient"]
            token_start = time.perf_counter()
            issued = httpx.post(
                f"{url}/oauth2/v1/token",
                data={"grant_type": "client_credentials", "scope": "okta.users.read"},
                auth=(oauth["client_id"], oauth["client_secret"]),
                timeout=10,
            )
            issued.raise_for_status()
            t_token = time.perf_counter() - start
            first_token_request = time.perf_counter() - token_start
            admin.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
        left = list(Path(cwd).iterdir())
        if left:
            raise RuntimeError(f"serve --memory wrote {left}")
    return {
        "token line": t_line,
        "port open": t_open,
        "app setup": setup,
        "token request": first_token_request,
        "first token": t_token,
        "first token - app setup": t_token - setup,
    }


def main() -> None:
    """Each run starts the server twice: with ``OSTIARY_MEMORY_SCHEMA=migrate`` (every Alembic
    step, the way it started before) and with the default (``create_all``)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--runs", type=int, default=7)
    runs = parser.parse_args().runs
    floors: list[float] = []
    imports: list[float] = []
    starts: dict[str, list[dict[str, float]]] = {"migrate": [], "create_all": []}
    for _ in range(runs):  # interleaved, so a busy machine weighs on every figure alike
        floors.append(time_command([sys.executable, "-c", "pass"]))
        imports.append(time_command([sys.executable, "-c", "import ostiary.cli"]))
        for schema, results in starts.items():
            results.append(one_start(schema))
    floor = statistics.median(floors)
    print(f"median of {runs} runs, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    print(f"{'python -c pass':<40}{floor * 1000:8.0f} ms   1.0x")
    rows = [("import ostiary.cli", imports)]
    for schema, results in starts.items():
        rows += [(f"{schema}: {key}", [s[key] for s in results]) for key in results[0]]
    for name, values in rows:
        value = statistics.median(values)
        print(f"{name:<40}{value * 1000:8.0f} ms {value / floor:6.1f}x")


if __name__ == "__main__":
    main()
