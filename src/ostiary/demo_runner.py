"""``ostiary demo``: the whole seed scenario on SQLite, each server in its own process.

The org server (``ostiary serve``), the gateway (``ostiary gateway`` on a configuration file
written into the data directory), the solar-system API, the protected sample API and the API
Center demo app run as five processes, as they would in a deployment, under one supervisor
(:mod:`ostiary.demo.supervisor`): Ctrl-C (or SIGTERM) stops them all, and a part that exits
on its own is reported and stops the rest (exit status 1). The first run in a data directory
seeds the org and writes ``demo.json``; later runs reuse both.

``python -m ostiary.demo_runner PART --data-dir D [--host H] [--port-offset N]`` runs one of
the three demo apps (``upstream``, ``protected-api``, ``app``) from ``demo.json``; the
supervisor starts them so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from ostiary.app import build_runtime, prepare
from ostiary.demo.api_center.app import DemoAppConfig, build_api_center_app
from ostiary.demo.protected_api import build_protected_api_app
from ostiary.demo.seed import DemoPorts, demo_password, seed
from ostiary.demo.solar_system import build_solar_system_app
from ostiary.demo.supervisor import Part, Supervisor
from ostiary.domain.context import Actor, Tx
from ostiary.domain.orgs import org_record
from ostiary.gateway.config import load_config
from ostiary.gateway.proxy import Gateway, build_gateway_app
from ostiary.log_redaction import uvicorn_log_config
from ostiary.private_files import write_private
from ostiary.settings import Settings, sqlite_url
from ostiary.store.repositories import orgs

DEMO_FILE = "demo.json"
GATEWAY_FILE = "gateway.json"
"""The demo gateway's configuration, written on every start (JSON is YAML)."""
APP_PARTS = ("upstream", "protected-api", "app")


def uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """One demo app's uvicorn configuration, with the redacting logging configuration of
    ``ostiary serve`` (no secret in a log line)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=uvicorn_log_config(),
        lifespan="on",
        date_header=False,
    )


def gateway_config(
    demo: dict[str, Any], ports: DemoPorts, host: str, *, rate_limits: bool = True
) -> dict[str, Any]:
    """The demo gateway's configuration; its per-client limit only with ``rate_limits``."""
    upstream = demo["upstream_url"]
    silver, gold = demo["scopes"]["silver"], demo["scopes"]["gold"]
    server = demo["authorization_server"]
    return {
        "listen": {"host": host, "port": ports.gateway},
        "issuers": [{"issuer": server["issuer"], "audiences": [server["audience"]]}],
        "routes": [
            {"path": "/planets", "methods": ["GET"], "upstream": upstream, "scopes": {"all_of": [silver]}},
            {"path": "/moons", "methods": ["GET"], "upstream": upstream, "scopes": {"all_of": [gold]}},
            {"path": "/asteroids", "methods": ["GET"], "upstream": upstream},
            {"path": "/visitors", "methods": ["GET"], "upstream": upstream, "public": True},
        ],
        "cors": {"origins": [demo["app_url"]], "headers": ["authorization", "content-type"], "max_age": 600},
        "metrics": {"enabled": False},  # served only with a token or public: neither in the demo
        **({"rate_limit": {"per_client_per_minute": 600}} if rate_limits else {}),
    }


def write_gateway_config(
    data_dir: Path, demo: dict[str, Any], ports: DemoPorts, host: str, settings: Settings
) -> Path:
    """The file ``ostiary gateway`` runs on; ``OSTIARY_RATE_LIMITS=off``
    (``settings.rate_limits``) leaves out its per-client limit, as it turns off the org server's."""
    path = data_dir / GATEWAY_FILE
    config = gateway_config(demo, ports, host, rate_limits=settings.rate_limits_enabled)
    write_private_json(path, config)
    return path


def demo_gateway(path: Path) -> Gateway:
    """The gateway ``ostiary gateway --config path`` serves."""
    return build_gateway_app(load_config(path), config_path=path)


def demo_settings(data_dir: Path, ports: DemoPorts) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=sqlite_url(data_dir),
        base_url=f"http://localhost:{ports.org}",
        master_key=os.environ.get("OSTIARY_MASTER_KEY"),
        rate_limits=os.environ.get("OSTIARY_RATE_LIMITS", "on"),
    )


def write_private_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON in one step, readable by its owner only, so the demo's other
    processes (or a test waiting for the file) never see it half written."""
    write_private(path, json.dumps(data, indent=2) + "\n", replace=True)


async def load_or_seed(data_dir: Path, settings: Settings, ports: DemoPorts) -> dict[str, Any]:
    """``demo.json`` if this data directory has one, else the seeded scenario (then written
    there); the database is migrated either way."""
    rt = build_runtime(settings)
    try:
        await prepare(rt)
        path = data_dir / DEMO_FILE
        if path.exists():
            loaded: dict[str, Any] = json.loads(path.read_text())
            return loaded
        password = os.environ.get("OSTIARY_DEMO_PASSWORD") or demo_password()
        async with rt.db.session() as session:
            org = await orgs.ensure_default(session)
            actor = Actor("demo", "SystemPrincipal", "ostiary-demo", "Ostiary demo")
            tx = Tx(session=session, org=org_record(org), actor=actor)
            demo = await seed(tx, org_url=settings.base_url, ports=ports, password=password)
    finally:
        await rt.db.dispose()
    write_private_json(path, demo)
    return demo


def banner(demo: dict[str, Any], data_dir: Path) -> str:
    users = "\n".join(
        f"    {u['login']:<26} {u['password']}   ({', '.join(u['groups'])})" for u in demo["users"]
    )
    return f"""
Ostiary demo is running (data in {data_dir}; everything a script needs is in {data_dir / DEMO_FILE})

  Demo app (sign in here)     {demo["app_url"]}
  Org server                  {demo["org_url"]}   (sign-in page {demo["org_url"]}/login)
  Gateway                     {demo["gateway_url"]}   (/planets needs silver, /moons gold)
  Solar-system API upstream   {demo["upstream_url"]}
  Protected sample API        {demo["protected_api_url"]}   (/api/hello public, /api/whoami protected)
  Solar System API issuer     {demo["authorization_server"]["issuer"]}

  Users:
{users}

  Admin API token (SSWS):     {demo["api_token"]}

Each server is its own process; press Ctrl-C to stop them all.
"""


def demo_parts(
    data_dir: Path, settings: Settings, ports: DemoPorts, host: str, port_offset: int
) -> list[Part]:
    """The five processes: ``ostiary serve``, ``ostiary gateway`` and the three demo apps."""
    cli = [sys.executable, "-m", "ostiary.cli"]
    env = {**os.environ}
    env.setdefault("OSTIARY_LOG_LEVEL", "warning")
    org_env = {
        **env,
        "OSTIARY_DATA_DIR": str(data_dir),
        "OSTIARY_DATABASE_URL": settings.database_url,
        "OSTIARY_BASE_URL": settings.base_url,
    }
    org_env.pop("OSTIARY_REDIS_URL", None)  # the demo is self-contained: counters in memory
    gateway_file = data_dir / GATEWAY_FILE
    apps = [sys.executable, "-m", "ostiary.demo_runner"]
    where = ["--data-dir", str(data_dir), "--host", host, "--port-offset", str(port_offset)]
    return [
        Part("org server", [*cli, "serve", "--host", host, "--port", str(ports.org)], ports.org, org_env),
        Part("gateway", [*cli, "gateway", "--config", str(gateway_file)], ports.gateway, env),
        Part("solar-system API", [*apps, "upstream", *where], ports.upstream, env),
        Part("protected sample API", [*apps, "protected-api", *where], ports.protected_api, env),
        Part("demo app", [*apps, "app", *where], ports.app, env),
    ]


def run_demo(data_dir: Path, *, host: str = "127.0.0.1", port_offset: int = 0) -> int:
    """Serve the scenario until SIGINT/SIGTERM (0) or until a part fails (1); ``data_dir`` must exist."""
    ports = DemoPorts().offset(port_offset)
    settings = demo_settings(data_dir, ports)
    demo = asyncio.run(load_or_seed(data_dir, settings, ports))
    write_gateway_config(data_dir, demo, ports, host, settings)
    supervisor = Supervisor(demo_parts(data_dir, settings, ports, host, port_offset), host=host)
    return supervisor.run(on_ready=lambda: print(banner(demo, data_dir), flush=True))


def demo_app(part: str, demo: dict[str, Any]) -> Any:
    """The ASGI app of one of :data:`APP_PARTS`, from ``demo.json``."""
    builders: dict[str, Callable[[], Any]] = {
        "upstream": build_solar_system_app,
        "protected-api": lambda: build_protected_api_app(
            demo["default_authorization_server"]["issuer"],
            demo["default_authorization_server"]["audience"],
            [demo["app_url"]],
        ),
        "app": lambda: build_api_center_app(
            DemoAppConfig(
                issuer=demo["authorization_server"]["issuer"],
                client_id=demo["web_client"]["client_id"],
                client_secret=demo["web_client"]["client_secret"],
                app_url=demo["app_url"],
                gateway_url=demo["gateway_url"],
                audience=demo["authorization_server"]["audience"],
                scopes=demo["scopes"],
                users=demo["users"],
            )
        ),
    }
    return builders[part]()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ostiary.demo_runner", description="One demo app.")
    parser.add_argument("part", choices=APP_PARTS)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-offset", type=int, default=0)
    args = parser.parse_args(argv)
    ports = DemoPorts().offset(args.port_offset)
    port = {"upstream": ports.upstream, "protected-api": ports.protected_api, "app": ports.app}[args.part]
    demo = json.loads((args.data_dir / DEMO_FILE).read_text())
    uvicorn.Server(uvicorn_config(demo_app(args.part, demo), args.host, port)).run()


if __name__ == "__main__":
    main()
