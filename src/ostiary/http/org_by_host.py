"""Which org a request's ``Host`` names, by the rules of the base URL (``OSTIARY_BASE_URL``).

Only these hosts are served (the port is not compared: behind a proxy, or with
``serve --port`` and the default base URL, the listening port is not the base URL's):

* the base host itself → the default org;
* ``{org}.{base host}`` (one DNS label) → that org, if it exists;
* when the base host is a loopback name (``localhost``, ``127.0.0.1``, ``::1``), the other
  loopback names too → the default org (local development, the demo, the tests);
* a custom domain of an org (``ostiary org domain add``; :func:`custom_domain_of`) → that org.

Anything else names no org and is answered 404, so a client cannot make up new orgs, rate-limit
buckets or cache entries by varying the header. The org itself is looked up, and cached by the
:class:`HostMatch` that named it, by ``Runtime.resolve_org`` (``http/runtime.py``), which
``EdgeMiddleware`` calls once per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_HOSTNAME_LENGTH = 253
_PORT = re.compile(r"[0-9]{0,5}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class HostMatch:
    """The org a host names: the default org (``subdomain`` None) or the org ``subdomain``."""

    subdomain: str | None = None


DEFAULT_ORG = HostMatch()


def hostname_of(host_header: str) -> str | None:
    """The lower-cased host name of a ``Host`` header, without port, brackets or final dot;
    None when the header is empty, too long to be a host name, or has anything but digits
    where the port goes (``localhost:1@evil.example`` would put ``evil.example`` in links)."""
    value = host_header.strip().lower()
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        value = name if sep and _is_port_part(rest) else ""
    elif value.count(":") == 1:
        value, port = value.split(":", 1)
        if not _PORT.fullmatch(port):
            return None
    value = value.removesuffix(".")
    if not value or len(value) > MAX_HOSTNAME_LENGTH:
        return None
    return value


def _is_port_part(rest: str) -> bool:
    """``""`` or ``":" *DIGIT`` (RFC 3986 §3.2.3): what may follow a host name or ``]``."""
    return not rest or (rest[0] == ":" and _PORT.fullmatch(rest[1:]) is not None)


def match_host(host_header: str, base_host: str) -> HostMatch | None:
    """The org that ``host_header`` names under ``base_host``, or None for a foreign host."""
    hostname = hostname_of(host_header)
    base = base_host.lower().strip("[]")
    if hostname is None:
        return None
    if hostname == base or (base in LOOPBACK_NAMES and hostname in LOOPBACK_NAMES):
        return DEFAULT_ORG
    label, dot, rest = hostname.partition(".")
    if dot and rest == base and _LABEL.fullmatch(label):
        return HostMatch(subdomain=label)
    return None


def custom_domain_of(host_header: str) -> str | None:
    """The host name of ``host_header`` when it could be an org's custom domain (every label a
    DNS label), else None. Callers try :func:`match_host` first."""
    hostname = hostname_of(host_header)
    if hostname is None or not all(_LABEL.fullmatch(label) for label in hostname.split(".")):
        return None
    return hostname
