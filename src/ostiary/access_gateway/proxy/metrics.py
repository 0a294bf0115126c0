"""Proxy metrics in the Prometheus text format (0.0.4), written by hand as the API gateway's:

- ``ostiary_oag_requests_total{app,status}``
- ``ostiary_oag_upstream_latency_seconds{app}`` (histogram, time to the answer's headers)
- ``ostiary_oag_signins_total{app,result}`` (``success``, ``denied`` or a failure reason)
- ``ostiary_oag_upstream_errors_total{app,kind}`` (``connect``, ``timeout``, ``no_healthy_host``)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ostiary.prometheus_text import (
    CONTENT_TYPE,
    LATENCY_BUCKETS,
    Histogram,
    counter_lines,
    header,
    histogram_lines,
)

__all__ = ["CONTENT_TYPE", "ProxyMetrics", "metrics_app"]

PROXY_BUCKETS = (*LATENCY_BUCKETS, 30.0)
"""Legacy apps can be slow: one more bucket than the API gateway's."""


def _histogram() -> Histogram:
    return Histogram(PROXY_BUCKETS)


class ProxyMetrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.latency: dict[str, Histogram] = defaultdict(_histogram)
        self.signins: dict[tuple[str, str], int] = defaultdict(int)
        self.upstream_errors: dict[tuple[str, str], int] = defaultdict(int)

    def count_request(self, app: str, status: int) -> None:
        self.requests[(app, status)] += 1

    def observe_upstream(self, app: str, seconds: float) -> None:
        self.latency[app].observe(seconds)

    def count_signin(self, app: str, result: str) -> None:
        self.signins[(app, result)] += 1

    def count_upstream_error(self, app: str, kind: str) -> None:
        self.upstream_errors[(app, kind)] += 1

    def render(self) -> str:
        requests = "ostiary_oag_requests_total"
        latency = "ostiary_oag_upstream_latency_seconds"
        signins = "ostiary_oag_signins_total"
        errors = "ostiary_oag_upstream_errors_total"
        lines = header(requests, "counter", "Requests answered on apps' public domains, by app and status.")
        lines += counter_lines(
            requests, (({"app": a, "status": str(s)}, v) for (a, s), v in sorted(self.requests.items()))
        )
        lines += header(latency, "histogram", "Seconds until the upstream's answer headers.")
        for app, histogram in sorted(self.latency.items()):
            lines += histogram_lines(latency, {"app": app}, histogram)
        lines += header(signins, "counter", "Sign-ins completed at the callback, by app and result.")
        lines += counter_lines(
            signins, (({"app": a, "result": r}, v) for (a, r), v in sorted(self.signins.items()))
        )
        lines += header(errors, "counter", "Upstream failures, by app and kind.")
        lines += counter_lines(
            errors, (({"app": a, "kind": k}, v) for (a, k), v in sorted(self.upstream_errors.items()))
        )
        return "\n".join(lines) + "\n"


def metrics_app(metrics: ProxyMetrics) -> Any:
    """A plain ASGI app answering ``GET`` with :meth:`ProxyMetrics.render` (mount it where
    the operator's metrics live, with whatever protection they have)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = metrics.render().encode()
        headers = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
