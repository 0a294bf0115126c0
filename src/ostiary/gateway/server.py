"""``ostiary gateway --config FILE``: load the configuration and serve the gateway with uvicorn."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import uvicorn

from ostiary.gateway.config import GatewayConfig, load_config
from ostiary.gateway.proxy import Gateway, build_gateway_app

__all__ = ["build_gateway_app", "metrics_token_from_env", "run_gateway"]

METRICS_TOKEN_ENV = "OSTIARY_GATEWAY_METRICS_TOKEN"


def metrics_token_from_env() -> str | None:
    """The bearer token that ``/metrics`` asks for (``OSTIARY_GATEWAY_METRICS_TOKEN``), if set."""
    token = os.environ.get(METRICS_TOKEN_ENV, "").strip()
    return token or None


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
    app: Gateway = build_gateway_app(config, config_path=config_path, metrics_token=metrics_token_from_env())
    log = logging.getLogger(__name__)
    log.info(
        "gateway: %d route(s), %d issuer(s), config %s", len(config.routes), len(config.issuers), config_path
    )
    if config.metrics.enabled and not app.serves_metrics(config):
        log.warning(
            "%s is not served: set %s (callers send it as a bearer token) or metrics.public: true",
            config.metrics.path,
            METRICS_TOKEN_ENV,
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
