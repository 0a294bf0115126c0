"""Redirect URIs: which ones an app may register, and whether a requested one is registered.

Registering (``redirect_uris``, ``post_logout_redirect_uris``): absolute, without a fragment,
``https`` (``http`` only on loopback hosts), custom schemes only for native apps and never a
dangerous one, and a wildcard only as the leftmost label of a host with a domain when the app
enables ``wildcard_redirect``.

Matching (the authorize endpoint's ``redirect_uri``): :func:`redirect_uri_registered`,
an exact string comparison.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_URI_LENGTH = 1024

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_DANGEROUS_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})


def redirect_uri_problem(uri: str, *, custom_schemes: bool, allow_wildcard: bool = False) -> str | None:
    """Why ``uri`` can't be a redirect URI, or ``None``. ``custom_schemes``: the app is native."""
    if not uri or len(uri) > MAX_URI_LENGTH or any(c.isspace() for c in uri):
        return "is not a valid URI"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return "is not a valid URI"
    if not parts.scheme or not _SCHEME.fullmatch(parts.scheme):
        return "must be an absolute URI"
    if "#" in uri:
        return "must not contain a fragment"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not host:
            return "must name a host"
        if "*" in uri:
            return _wildcard_problem(host, parts.netloc, allow_wildcard)
        if scheme == "http" and not _is_loopback(host):
            return "must use https (http is allowed only for localhost and loopback addresses)"
        return None
    if not custom_schemes:
        return "must use https (custom URI schemes are allowed only for native applications)"
    if scheme in _DANGEROUS_SCHEMES:
        return f"can't use the '{scheme}' scheme"
    return None


def _wildcard_problem(host: str, netloc: str, allowed: bool) -> str | None:
    if not allowed:
        return "contains a wildcard, but wildcard_redirect is DISABLED"
    labels = host.split(".")
    if netloc.count("*") != 1 or labels[0] != "*" or len(labels) < 3:
        return "may only use a wildcard as the leftmost label of a host with a domain (https://*.example.com)"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_registered(uri: str, registered: Iterable[str], *, wildcard: bool = False) -> bool:
    """Exact string comparison (RFC 6749 §3.1.2.3, OAuth 2.0 Security BCP §4.1.3); with
    ``wildcard``, a registered ``https://*.example.com/cb`` also matches one extra leftmost label."""
    registered = tuple(registered)
    if uri in registered:
        return True
    return wildcard and any(_matches_wildcard(uri, pattern) for pattern in registered if "*" in pattern)


def _matches_wildcard(uri: str, pattern: str) -> bool:
    try:
        given, wanted = urlsplit(uri), urlsplit(pattern.replace("*", "wildcard-label", 1))
        given_port, wanted_port = given.port, wanted.port
    except ValueError:
        return False
    if given.fragment or given.username or given.password:
        return False
    if (given.scheme, given_port, given.path, given.query) != (
        wanted.scheme,
        wanted_port,
        wanted.path,
        wanted.query,
    ):
        return False
    host, suffix = given.hostname or "", (wanted.hostname or "").removeprefix("wildcard-label")
    label = host[: -len(suffix)] if suffix and host.endswith(suffix) else ""
    return bool(label) and "." not in label and label.replace("-", "").isalnum()
