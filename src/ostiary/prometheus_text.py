"""The Prometheus text exposition format (0.0.4), written by hand: the API gateway's and the
access gateway's metrics both render through these (no client library on the hot path)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(**values: str) -> str:
    """``{name="value",...}`` with the format's escaping."""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in values.items()) + "}"


class Histogram:
    """Counts per latency bucket (non-cumulative; :func:`histogram_lines` accumulates)."""

    __slots__ = ("buckets", "count", "counts", "total")

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        index = bisect_left(self.buckets, seconds)  # the first bound >= seconds, found in C
        if index < len(self.buckets):
            self.counts[index] += 1


def header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def counter_lines(name: str, values: Iterable[tuple[Mapping[str, str], int]]) -> list[str]:
    return [f"{name}{labels(**names)} {value}" for names, value in values]


def histogram_lines(name: str, names: Mapping[str, str], histogram: Histogram) -> list[str]:
    """The ``_bucket`` (cumulative, then ``+Inf``), ``_sum`` and ``_count`` lines of one series."""
    lines = []
    cumulative = 0
    for bound, count in zip(histogram.buckets, histogram.counts, strict=True):
        cumulative += count
        lines.append(f"{name}_bucket{labels(**names, le=f'{bound:g}')} {cumulative}")
    lines.append(f"{name}_bucket{labels(**names, le='+Inf')} {histogram.count}")
    lines.append(f"{name}_sum{labels(**names)} {histogram.total!r}")
    lines.append(f"{name}_count{labels(**names)} {histogram.count}")
    return lines
