"""Proxy metrics in the Prometheus text format (0.0.4), written by hand as the API gateway's:

- ``ostiary_oag_requests_total{app,status}``
- ``ostiary_oag_upstream_latency_seconds{app}`` (histogram, time to the answer's headers)
- ``ostiary_oag_signins_total{app,result}`` (``success``, ``denied`` or a failure reason)
- ``ostiary_oag_upstream_errors_total{app,kind}`` (``connect``, ``timeout``, ``no_healthy_host``)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


class _Histogram:
    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.counts[index] += 1
                break


class ProxyMetrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.latency: dict[str, _Histogram] = defaultdict(_Histogram)
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
        lines = [
            "# HELP ostiary_oag_requests_total Requests answered on apps' public domains, by app and status.",
            "# TYPE ostiary_oag_requests_total counter",
        ]
        for (app, status), value in sorted(self.requests.items()):
            lines.append(f"ostiary_oag_requests_total{_labels(app=app, status=str(status))} {value}")
        lines += [
            "# HELP ostiary_oag_upstream_latency_seconds Seconds until the upstream's answer headers.",
            "# TYPE ostiary_oag_upstream_latency_seconds histogram",
        ]
        for app, histogram in sorted(self.latency.items()):
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS, histogram.counts, strict=True):
                cumulative += count
                labels = _labels(app=app, le=f"{bound:g}")
                lines.append(f"ostiary_oag_upstream_latency_seconds_bucket{labels} {cumulative}")
            labels = _labels(app=app, le="+Inf")
            lines.append(f"ostiary_oag_upstream_latency_seconds_bucket{labels} {histogram.count}")
            lines.append(f"ostiary_oag_upstream_latency_seconds_sum{_labels(app=app)} {histogram.total!r}")
            lines.append(f"ostiary_oag_upstream_latency_seconds_count{_labels(app=app)} {histogram.count}")
        lines += [
            "# HELP ostiary_oag_signins_total Sign-ins completed at the callback, by app and result.",
            "# TYPE ostiary_oag_signins_total counter",
        ]
        for (app, result), value in sorted(self.signins.items()):
            lines.append(f"ostiary_oag_signins_total{_labels(app=app, result=result)} {value}")
        lines += [
            "# HELP ostiary_oag_upstream_errors_total Upstream failures, by app and kind.",
            "# TYPE ostiary_oag_upstream_errors_total counter",
        ]
        for (app, kind), value in sorted(self.upstream_errors.items()):
            lines.append(f"ostiary_oag_upstream_errors_total{_labels(app=app, kind=kind)} {value}")
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
