"""``ostiary gateway --config FILE``: load the configuration and serve the gateway with uvicorn."""

from __future__ import annotations

import logging
import logging.config
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn

from ostiary.gateway.config import GatewayConfig, load_config
from ostiary.gateway.proxy import Gateway, build_gateway_app
from ostiary.gc_tuning import tune_for_serving
from ostiary.log_redaction import uvicorn_log_config

__all__ = ["build_gateway_app", "gateway_log_config", "metrics_token_from_env", "run_gateway"]

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
    """httptools under :mod:`ostiary.serving.uvicorn_protocol` (one write per response) with the
    gateway's fast path (:mod:`ostiary.gateway.fast_path`), else h11."""
    try:
        from ostiary.gateway.fast_path import GatewayHttpProtocol
    except ImportError:  # no httptools
        return "h11"
    return GatewayHttpProtocol


def gateway_log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with the redacting filter on every handler
    (:func:`ostiary.log_redaction.uvicorn_log_config`: no bearer token or query secret in a log
    line, uvicorn's ``trace`` dump of each request's headers and query string included), and the
    gateway's own records at ``log_level`` in its usual ``LEVEL name: message`` form."""
    from uvicorn.config import LOG_LEVELS

    config = uvicorn_log_config()
    config["formatters"]["gateway"] = {"format": "%(levelname)-9s %(name)s: %(message)s"}
    config["handlers"]["gateway"] = {
        "class": "logging.StreamHandler",
        "formatter": "gateway",
        "stream": "ext://sys.stderr",
        "filters": ["redact"],
    }
    config["root"] = {"handlers": ["gateway"], "level": LOG_LEVELS.get(log_level, logging.INFO)}
    return config


def shared_listener(host: str, port: int) -> socket.socket:
    """A listening socket with ``SO_REUSEPORT``: several gateway processes bind the same port
    and the kernel spreads the connections over them (Linux, the BSDs, macOS)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)  # uvicorn's backlog
    sock.set_inheritable(False)
    return sock


def run_gateway(
    config_path: Path, host: str | None = None, port: int | None = None, *, reuse_port: bool = False
) -> None:
    """Serve until interrupted. ``host``/``port`` override the file's ``listen`` section;
    ``reuse_port`` lets more gateway processes serve the same port (:func:`shared_listener`).

    uvicorn's own ``Server`` and ``Date`` headers are turned off so the upstream's pass
    through unchanged; the gateway dates its own answers.
    """
    log_level = os.environ.get("OSTIARY_LOG_LEVEL", "info").lower()
    log_config = gateway_log_config(log_level)
    logging.config.dictConfig(log_config)  # before the first record: every line is redacted
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
    tune_for_serving()  # this function is the gateway process's main: see ostiary.gc_tuning
    host = host or config.listen.host
    port = config.listen.port if port is None else port
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            loop=_event_loop(),
            http=_http_parser(),
            lifespan="on",
            access_log=False,
            server_header=False,
            date_header=False,
            proxy_headers=False,
            log_level=log_level,
            log_config=log_config,
        )
    )
    server.run(sockets=[shared_listener(host, port)] if reuse_port else None)
