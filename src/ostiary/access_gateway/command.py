"""What ``ostiary access-gateway`` and ``ostiary access-gateway api-client create`` run."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ostiary.access_gateway.admin.api_clients import create_api_client
from ostiary.access_gateway.admin.catalog import StoreAppCatalog
from ostiary.access_gateway.assembly import assemble_proxy, metrics_token_from_env
from ostiary.access_gateway.bootstrap import prepare, stored_public_url
from ostiary.access_gateway.proxy_state import ProxyKeys, load_proxy_keys
from ostiary.access_gateway.runtime import DEFAULT_PORT, GatewayConfig, make_config, open_runtime
from ostiary.access_gateway.server import Hook, build_app
from ostiary.access_gateway.store import migrate


class StartError(RuntimeError):
    """The data dir or the database cannot be used; the message names no secret."""


ProxyFactory = Callable[[StoreAppCatalog, GatewayConfig], ASGIApp]


def serve(
    *,
    host: str,
    port: int,
    public_url: str | None,
    data_dir: Path | None,
    database_url: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    log_level: str = "info",
    proxy_factory: ProxyFactory | None = None,
    extra_admin_routes: Sequence[BaseRoute] = (),
) -> None:
    """Migrate, record the public URL, make the public host's certificate, then serve.

    By default the proxy is :func:`~ostiary.access_gateway.assembly.assemble_proxy`'s (sessions
    and keys in the store, the JWKS and metrics on the admin origin); ``proxy_factory``
    replaces it (tests). ``extra_admin_routes`` are mounted on the admin origin too."""
    import uvicorn

    from ostiary.log_redaction import uvicorn_log_config

    config = make_config(
        port=port,
        public_url=public_url,
        data_dir=data_dir,
        database_url=database_url,
        tls=tls_cert is not None,
    )

    async def start() -> ProxyKeys:
        runtime = open_runtime(config)
        try:
            await prepare(runtime)
            return await load_proxy_keys(runtime)
        finally:
            await runtime.close()

    try:
        keys = asyncio.run(start())
    except (ConnectionError, TimeoutError) as exc:
        raise StartError(f"the database is unreachable ({exc})") from None
    except OSError as exc:
        raise StartError(f"{exc.strerror or exc} ({exc.filename or config.data_dir})") from None
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise StartError(f"the database is unreachable or unusable ({type(cause).__name__})") from None
    runtime = open_runtime(config)
    catalog = StoreAppCatalog(runtime)
    admin_routes = list(extra_admin_routes)
    on_shutdown: list[Hook] = []
    proxy: Any  # the proxy types its scope as a plain dict
    if proxy_factory is not None:
        proxy = proxy_factory(catalog, config)
    else:
        assembled = assemble_proxy(runtime, catalog, keys, metrics_token=metrics_token_from_env())
        proxy = assembled.proxy
        admin_routes += assembled.admin_routes
        on_shutdown += assembled.on_shutdown
    app = build_app(
        runtime, proxy_app=proxy, catalog=catalog, extra_admin_routes=admin_routes, on_shutdown=on_shutdown
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level=log_level,
        log_config=access_log_config(uvicorn_log_config(), log_level),
        server_header=False,
        date_header=False,
    )


def create_client(
    *,
    name: str,
    scopes: Sequence[str],
    data_dir: Path | None,
    database_url: str | None,
    public_url: str | None,
) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        runtime = open_runtime(make_config(data_dir=data_dir, database_url=database_url))
        try:
            await migrate.upgrade(runtime.engine)
            url = public_url or await stored_public_url(runtime) or f"http://localhost:{DEFAULT_PORT}"
            runtime.config = dataclasses.replace(runtime.config, public_url=url.rstrip("/"))
            return await create_api_client(runtime, name, scopes)
        finally:
            await runtime.close()

    return asyncio.run(run())


ACCESS_LOGGER = "ostiary.access_gateway.access"


def access_log_config(config: dict[str, Any], log_level: str) -> dict[str, Any]:
    """``config`` plus the proxy's access log: one JSON line per request on stderr, as is
    (no level prefix), at ``log_level`` like uvicorn's own access log (``warning`` mutes both)."""
    config["formatters"] = {**config.get("formatters", {}), "oag_access": {"format": "%(message)s"}}
    config["handlers"] = {
        **config["handlers"],
        "oag_access": {
            "class": "logging.StreamHandler",
            "formatter": "oag_access",
            "stream": "ext://sys.stderr",
            "filters": ["redact"],
        },
    }
    config["loggers"] = {
        **config.get("loggers", {}),
        ACCESS_LOGGER: {"handlers": ["oag_access"], "level": log_level.upper(), "propagate": False},
    }
    return config
