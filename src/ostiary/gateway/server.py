"""``ostiary gateway --config FILE``: load the configuration and serve the gateway with uvicorn."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import uvicorn

from ostiary.gateway.config import GatewayConfig, load_config
from ostiary.gateway.proxy import Gateway, build_gateway_app

__all__ = ["build_gateway_app", "run_gateway"]


def _event_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _http_parser() -> Any:
    """httptools under :mod:`ostiary.uvicorn_protocol` (one write per response), else h11."""
    try:
        from ostiary.uvicorn_protocol import CoalescingHttpToolsProtocol
    except ImportError:  # no httptools
        return "h11"
    return CoalescingHttpToolsProtocol


def run_gateway(config_path: Path, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted. ``host``/``port`` override the file's ``listen`` section.

    uvicorn's own ``Server`` and ``Date`` headers are turned off so the upstream's pass
    through unchanged; the gateway dates its own answers.
    """
    log_level = os.environ.get("OSTIARY_LOG_LEVEL", "info").lower()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)-9s %(name)s: %(message)s")
    config: GatewayConfig = load_config(config_path)
    app: Gateway = build_gateway_app(config, config_path=config_path)
    logging.getLogger(__name__).info(
        "gateway: %d route(s), %d issuer(s), config %s", len(config.routes), len(config.issuers), config_path
    )
    uvicorn.run(
        app,
        host=host or config.listen.host,
        port=config.listen.port if port is None else port,
        loop=_event_loop(),
        http=_http_parser(),
        lifespan="on",
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        log_level=log_level,
    )
