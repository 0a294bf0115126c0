"""``ostiary demo``: the whole seed scenario in one process on SQLite.

Org server, gateway, solar-system API, protected sample API and the API Center demo app run as
uvicorn servers on one event loop; Ctrl-C (or SIGTERM) stops them all. The first run in a data
directory seeds the org and writes ``demo.json``; later runs reuse both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from ostiary.app import create_app, prepare
from ostiary.demo.api_center.app import DemoAppConfig, build_api_center_app
from ostiary.demo.protected_api import build_protected_api_app
from ostiary.demo.seed import DemoPorts, demo_password, seed
from ostiary.demo.solar_system import build_solar_system_app
from ostiary.domain.context import Actor, Tx
from ostiary.domain.orgs import org_record
from ostiary.gateway.config import parse_config
from ostiary.gateway.proxy import Gateway, build_gateway_app
from ostiary.log_redaction import uvicorn_log_config
from ostiary.settings import Settings, sqlite_url
from ostiary.store.repositories import orgs

DEMO_FILE = "demo.json"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the demo (one handler stops all)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """One demo server's uvicorn configuration, with the redacting logging configuration of
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
        **({"rate_limit": {"per_client_per_minute": 600}} if rate_limits else {}),
    }


async def load_or_seed(data_dir: Path, settings: Settings, ports: DemoPorts, app: Any) -> dict[str, Any]:
    path = data_dir / DEMO_FILE
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    rt = app.state.runtime
    password = os.environ.get("OSTIARY_DEMO_PASSWORD") or demo_password()
    async with rt.db.session() as session:
        org = await orgs.ensure_default(session)
        actor = Actor("demo", "SystemPrincipal", "ostiary-demo", "Ostiary demo")
        tx = Tx(session=session, org=org_record(org), actor=actor)
        demo = await seed(tx, org_url=settings.base_url, ports=ports, password=password)
    path.write_text(json.dumps(demo, indent=2) + "\n")
    path.chmod(0o600)
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

Press Ctrl-C to stop.
"""


async def run_demo(data_dir: Path, *, host: str = "127.0.0.1", port_offset: int = 0) -> None:
    """Serve the scenario until SIGINT/SIGTERM; ``data_dir`` must exist."""
    ports = DemoPorts().offset(port_offset)
    public_host = "localhost"
    settings = Settings(
        data_dir=data_dir,
        database_url=sqlite_url(data_dir),
        base_url=f"http://{public_host}:{ports.org}",
        master_key=os.environ.get("OSTIARY_MASTER_KEY"),
        rate_limits=os.environ.get("OSTIARY_RATE_LIMITS", "on"),
    )
    org_app = create_app(settings, run_migrations=True)
    await prepare(org_app.state.runtime)
    demo = await load_or_seed(data_dir, settings, ports, org_app)
    server = demo["authorization_server"]
    demo_app = build_api_center_app(
        DemoAppConfig(
            issuer=server["issuer"],
            client_id=demo["web_client"]["client_id"],
            client_secret=demo["web_client"]["client_secret"],
            app_url=demo["app_url"],
            gateway_url=demo["gateway_url"],
            audience=server["audience"],
            scopes=demo["scopes"],
            users=demo["users"],
        )
    )
    default = demo["default_authorization_server"]
    apps: list[tuple[Any, int]] = [
        (org_app, ports.org),
        (demo_gateway(demo, ports, host, settings), ports.gateway),
        (build_solar_system_app(), ports.upstream),
        (
            build_protected_api_app(default["issuer"], default["audience"], [demo["app_url"]]),
            ports.protected_api,
        ),
        (demo_app, ports.app),
    ]
    servers = [_Server(uvicorn_config(app, host, port)) for app, port in apps]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for s in servers:
            s.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            stop()
            break
        await asyncio.sleep(0.05)
    else:
        print(banner(demo, data_dir), flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)


def demo_gateway(demo: dict[str, Any], ports: DemoPorts, host: str, settings: Settings) -> Gateway:
    """The demo's gateway; ``OSTIARY_RATE_LIMITS=off`` (``settings.rate_limits``) turns its
    per-client limit off too, as it does the org server's."""
    config = gateway_config(demo, ports, host, rate_limits=settings.rate_limits_enabled)
    return build_gateway_app(parse_config(config, source="demo"))
