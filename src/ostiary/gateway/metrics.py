"""Gateway metrics in the Prometheus text exposition format (version 0.0.4), written by hand.

- ``ostiary_gateway_requests_total{route,method,status}``
- ``ostiary_gateway_upstream_latency_seconds{route}`` (histogram, time to response headers)
- ``ostiary_gateway_token_failures_total{reason}`` (reasons from ``jose.verify.TokenInvalid``)
- ``ostiary_gateway_config_reloads_total{result}``
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


class Histogram:
    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        index = bisect_left(LATENCY_BUCKETS, seconds)  # the first bound >= seconds, found in C
        if index < len(LATENCY_BUCKETS):
            self.counts[index] += 1


class GatewayMetrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.upstream_latency: dict[str, Histogram] = defaultdict(Histogram)
        self.token_failures: dict[str, int] = defaultdict(int)
        self.reloads: dict[str, int] = defaultdict(int)

    def count_request(self, route: str, method: str, status: int) -> None:
        self.requests[(route, method if method in KNOWN_METHODS else "OTHER", status)] += 1

    def observe_upstream(self, route: str, seconds: float) -> None:
        """``Histogram.observe`` inline: it runs on every proxied request (a Python call fewer
        each, ``bench/gateway_calls.py``); keep the two the same."""
        histogram = self.upstream_latency[route]
        histogram.count += 1
        histogram.total += seconds
        index = bisect_left(LATENCY_BUCKETS, seconds)
        if index < len(LATENCY_BUCKETS):
            histogram.counts[index] += 1

    def count_token_failure(self, reason: str) -> None:
        self.token_failures[reason] += 1

    def count_reload(self, result: str) -> None:
        self.reloads[result] += 1

    def render(self) -> str:
        lines = [
            "# HELP ostiary_gateway_requests_total Requests answered, by route, method and status.",
            "# TYPE ostiary_gateway_requests_total counter",
        ]
        for (route, method, status), value in sorted(self.requests.items()):
            labels = _labels(route=route, method=method, status=str(status))
            lines.append(f"ostiary_gateway_requests_total{labels} {value}")
        lines += [
            "# HELP ostiary_gateway_upstream_latency_seconds Seconds until the upstream's answer headers.",
            "# TYPE ostiary_gateway_upstream_latency_seconds histogram",
        ]
        for route, histogram in sorted(self.upstream_latency.items()):
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS, histogram.counts, strict=True):
                cumulative += count
                labels = _labels(route=route, le=f"{bound:g}")
                lines.append(f"ostiary_gateway_upstream_latency_seconds_bucket{labels} {cumulative}")
            labels = _labels(route=route, le="+Inf")
            lines.append(f"ostiary_gateway_upstream_latency_seconds_bucket{labels} {histogram.count}")
            lines.append(
                f"ostiary_gateway_upstream_latency_seconds_sum{_labels(route=route)} {histogram.total!r}"
            )
            lines.append(
                f"ostiary_gateway_upstream_latency_seconds_count{_labels(route=route)} {histogram.count}"
            )
        lines += [
            "# HELP ostiary_gateway_token_failures_total Access tokens refused, by reason.",
            "# TYPE ostiary_gateway_token_failures_total counter",
        ]
        for reason, value in sorted(self.token_failures.items()):
            lines.append(f"ostiary_gateway_token_failures_total{_labels(reason=reason)} {value}")
        lines += [
            "# HELP ostiary_gateway_config_reloads_total Configuration reloads, by result.",
            "# TYPE ostiary_gateway_config_reloads_total counter",
        ]
        for result, value in sorted(self.reloads.items()):
            lines.append(f"ostiary_gateway_config_reloads_total{_labels(result=result)} {value}")
        return "\n".join(lines) + "\n"
