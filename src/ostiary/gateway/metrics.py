"""Gateway metrics in the Prometheus text exposition format (version 0.0.4), written by hand.

- ``ostiary_gateway_requests_total{route,method,status}``
- ``ostiary_gateway_upstream_latency_seconds{route}`` (histogram, time to response headers)
- ``ostiary_gateway_token_failures_total{reason}`` (reasons from ``jose.verify.TokenInvalid``)
- ``ostiary_gateway_config_reloads_total{result}``
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

from ostiary.prometheus_text import CONTENT_TYPE, Histogram, counter_lines, header, histogram_lines

__all__ = ["CONTENT_TYPE", "GatewayMetrics"]

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


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
        index = bisect_left(histogram.buckets, seconds)
        if index < len(histogram.buckets):
            histogram.counts[index] += 1

    def count_token_failure(self, reason: str) -> None:
        self.token_failures[reason] += 1

    def count_reload(self, result: str) -> None:
        self.reloads[result] += 1

    def render(self) -> str:
        requests = "ostiary_gateway_requests_total"
        latency = "ostiary_gateway_upstream_latency_seconds"
        failures = "ostiary_gateway_token_failures_total"
        reloads = "ostiary_gateway_config_reloads_total"
        lines = header(requests, "counter", "Requests answered, by route, method and status.")
        lines += counter_lines(
            requests,
            (
                ({"route": r, "method": m, "status": str(s)}, v)
                for (r, m, s), v in sorted(self.requests.items())
            ),
        )
        lines += header(latency, "histogram", "Seconds until the upstream's answer headers.")
        for route, histogram in sorted(self.upstream_latency.items()):
            lines += histogram_lines(latency, {"route": route}, histogram)
        lines += header(failures, "counter", "Access tokens refused, by reason.")
        lines += counter_lines(failures, (({"reason": r}, v) for r, v in sorted(self.token_failures.items())))
        lines += header(reloads, "counter", "Configuration reloads, by result.")
        lines += counter_lines(reloads, (({"result": r}, v) for r, v in sorted(self.reloads.items())))
        return "\n".join(lines) + "\n"
