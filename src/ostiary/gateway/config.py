"""The gateway's YAML configuration, parsed into frozen dataclasses.

Every mistake is reported with the file and the key path (``gateway.yaml: routes[2].scopes.all_of:
expected a list of strings``), and unknown keys are errors, so a typo such as ``scope:`` never
silently turns a protected route into an open one. The format is shown in ``examples/gateway.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ostiary.cors_policy import CorsPolicy
from ostiary.gateway.scopes import ScopeRule
from ostiary.request_paths import path_problem

__all__ = ["ConfigError", "CorsPolicy", "GatewayConfig", "RouteConfig", "load_config", "parse_config"]

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
RESERVED_FORWARD_HEADERS = HOP_BY_HOP | {"host", "content-length", "authorization", "cookie", "expect"}
DEFAULT_FORWARD_CLAIMS: Mapping[str, str] = {"X-Subject": "sub", "X-Client-Id": "cid", "X-Scopes": "scp"}

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PARAM_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """A bad gateway configuration: where (file and key path) and what is wrong."""

    def __init__(self, source: str, key_path: str, message: str) -> None:
        self.source, self.key_path, self.message = source, key_path, message
        where = f"{source}: {key_path}" if key_path else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class IssuerSettings:
    issuer: str
    audiences: tuple[str, ...]
    jwks_uri: str | None = None
    leeway: int = 30


@dataclass(frozen=True)
class RouteConfig:
    path: str
    upstream: str
    methods: frozenset[str] = frozenset({"GET"})
    strip_prefix: str | None = None
    public: bool = False
    scopes: ScopeRule = field(default_factory=ScopeRule)
    cors: CorsPolicy | None = None
    forward_claims: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FORWARD_CLAIMS))
    allow_semicolons: bool = False
    """Let ``;`` (path parameters, ``/cars;color=red``) through to the upstream; dot segments
    stay refused either way (``..;`` is ``..`` to Tomcat, Spring and Jetty)."""

    @property
    def any_method(self) -> bool:
        return "*" in self.methods


@dataclass(frozen=True)
class RateLimitConfig:
    per_client_per_minute: int | None = None
    redis_url: str | None = None


@dataclass(frozen=True)
class LimitsConfig:
    max_request_body: int = 1024 * 1024
    max_response_body: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class TimeoutsConfig:
    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True)
class ListenConfig:
    host: str = "127.0.0.1"
    port: int = 8081


@dataclass(frozen=True)
class MetricsConfig:
    """Served only with the bearer token from ``OSTIARY_GATEWAY_METRICS_TOKEN``, or to anyone
    with ``public: true``; with neither, ``path`` is routed like any other path."""

    enabled: bool = True
    path: str = "/metrics"
    public: bool = False


@dataclass(frozen=True)
class TokenCacheConfig:
    """Recently verified tokens, reused for at most ``ttl`` seconds (and never past ``exp``)."""

    size: int = 10_000
    ttl: float = 30.0


@dataclass(frozen=True)
class GatewayConfig:
    issuers: tuple[IssuerSettings, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    forward_claims: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FORWARD_CLAIMS))
    rate_limit: RateLimitConfig = RateLimitConfig()
    limits: LimitsConfig = LimitsConfig()
    timeouts: TimeoutsConfig = TimeoutsConfig()
    listen: ListenConfig = ListenConfig()
    metrics: MetricsConfig = MetricsConfig()
    token_cache: TokenCacheConfig = TokenCacheConfig()
    source: str = "<config>"

    @property
    def identity_headers(self) -> frozenset[str]:
        """Every header name the gateway forwards claims in (lower case), over all routes: a
        client-supplied copy of any of them is removed from every proxied request."""
        names = {name.lower() for name in self.forward_claims}
        for route in self.routes:
            names.update(name.lower() for name in route.forward_claims)
        return frozenset(names)


def load_config(path: Path) -> GatewayConfig:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", f"not valid YAML: {exc}") from exc
    return parse_config(data, source=source)


def parse_config(data: Any, *, source: str = "<config>") -> GatewayConfig:
    return _Parser(source).config(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key_path: str, message: str) -> ConfigError:
        return ConfigError(self.source, key_path, message)

    # ---- primitives

    def mapping(self, value: Any, at: str, allowed: set[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(at, "expected a mapping")
        for key in value:
            if key not in allowed:
                where = f"{at}.{key}" if at else str(key)
                raise self.fail(where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")
        return value

    def text(self, value: Any, at: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                raise self.fail(at, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(at, "expected a non-empty string")
        return value

    def strings(self, value: Any, at: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(at, "expected a list of strings")
        return tuple(value)

    def number(self, value: Any, at: str, default: float, *, minimum: float = 0) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= minimum:
            raise self.fail(at, f"expected a number greater than {minimum:g}")
        return float(value)

    def integer(self, value: Any, at: str, default: int, *, minimum: int = 1) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(at, f"expected an integer >= {minimum}")
        return value

    def boolean(self, value: Any, at: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(at, "expected true or false")
        return value

    def url(self, value: Any, at: str, *, required: bool = False) -> str | None:
        text = self.text(value, at, required=required)
        if text is None:
            return None
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.fail(at, f"expected an http(s) URL, got {text!r}")
        if parts.query or parts.fragment:
            raise self.fail(at, "the URL must not have a query or fragment")
        return text

    # ---- sections

    def config(self, data: Any) -> GatewayConfig:
        root = self.mapping(
            data,
            "",
            {
                "issuers",
                "routes",
                "forward_claims",
                "rate_limit",
                "limits",
                "timeouts",
                "listen",
                "metrics",
                "token_cache",
                "cors",
            },
        )
        if not root:
            raise self.fail("", "the configuration is empty")
        issuers = self.issuers(root.get("issuers"))
        forward_claims = self.forward_claims(
            root.get("forward_claims"), "forward_claims", DEFAULT_FORWARD_CLAIMS
        )
        default_cors = self.cors(root.get("cors"), "cors")
        routes = self.routes(root.get("routes"), forward_claims, default_cors)
        if any(not route.public for route in routes) and not issuers:
            raise self.fail("issuers", "protected routes need at least one issuer")
        metrics = self.metrics(root.get("metrics"))
        return GatewayConfig(
            issuers=issuers,
            routes=routes,
            forward_claims=forward_claims,
            rate_limit=self.rate_limit(root.get("rate_limit")),
            limits=self.limits(root.get("limits")),
            timeouts=self.timeouts(root.get("timeouts")),
            listen=self.listen(root.get("listen")),
            metrics=metrics,
            token_cache=self.token_cache(root.get("token_cache")),
            source=self.source,
        )

    def issuers(self, value: Any) -> tuple[IssuerSettings, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail("issuers", "expected a list")
        result: list[IssuerSettings] = []
        for index, item in enumerate(value):
            at = f"issuers[{index}]"
            entry = self.mapping(item, at, {"issuer", "audiences", "audience", "jwks_uri", "leeway"})
            issuer = self.url(entry.get("issuer"), f"{at}.issuer", required=True)
            assert issuer is not None
            if "audience" in entry and "audiences" in entry:
                raise self.fail(f"{at}.audience", "give either audience or audiences")
            audiences = self.strings(entry.get("audiences", entry.get("audience")), f"{at}.audiences")
            if not audiences:
                raise self.fail(
                    f"{at}.audiences",
                    "is required: list the aud values of the access tokens to accept (such as"
                    " [api://default]); without them any token of the issuer would pass,"
                    " ID tokens included",
                )
            result.append(
                IssuerSettings(
                    issuer=issuer,
                    audiences=audiences,
                    jwks_uri=self.url(entry.get("jwks_uri"), f"{at}.jwks_uri"),
                    leeway=self.integer(entry.get("leeway"), f"{at}.leeway", 30, minimum=0),
                )
            )
        if len({i.issuer for i in result}) != len(result):
            raise self.fail("issuers", "each issuer may appear only once")
        return tuple(result)

    def forward_claims(self, value: Any, at: str, default: Mapping[str, str]) -> Mapping[str, str]:
        if value is None:
            return dict(default)
        if not isinstance(value, Mapping):
            raise self.fail(at, "expected a mapping of header name to claim name")
        result: dict[str, str] = {}
        for header, claim in value.items():
            where = f"{at}.{header}"
            if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
                raise self.fail(where, "not a valid header name")
            if header.lower() in RESERVED_FORWARD_HEADERS:
                raise self.fail(where, "this header cannot carry claims")
            if not isinstance(claim, str) or not claim:
                raise self.fail(where, "expected a claim name")
            result[header] = claim
        return result

    def routes(
        self, value: Any, forward_claims: Mapping[str, str], default_cors: CorsPolicy | None
    ) -> tuple[RouteConfig, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("routes", "expected a non-empty list of routes")
        return tuple(
            self.route(item, f"routes[{index}]", forward_claims, default_cors)
            for index, item in enumerate(value)
        )

    def route(
        self, value: Any, at: str, forward_claims: Mapping[str, str], default_cors: CorsPolicy | None
    ) -> RouteConfig:
        entry = self.mapping(
            value,
            at,
            {
                "path",
                "methods",
                "upstream",
                "strip_prefix",
                "public",
                "scopes",
                "cors",
                "forward_claims",
                "allow_semicolons",
            },
        )
        allow_semicolons = self.boolean(entry.get("allow_semicolons"), f"{at}.allow_semicolons", False)
        path = self.route_path(entry.get("path"), f"{at}.path", allow_semicolons=allow_semicolons)
        upstream = self.url(entry.get("upstream"), f"{at}.upstream", required=True)
        assert upstream is not None
        strip_prefix = self.text(entry.get("strip_prefix"), f"{at}.strip_prefix")
        if strip_prefix is not None:
            if not strip_prefix.startswith("/") or strip_prefix.endswith("/"):
                raise self.fail(f"{at}.strip_prefix", "expected a path such as /solar-system")
            if not (path == strip_prefix or path.startswith(strip_prefix + "/")):
                raise self.fail(f"{at}.strip_prefix", f"{path!r} does not start with {strip_prefix!r}")
        public = self.boolean(entry.get("public"), f"{at}.public", False)
        scopes = self.scope_rule(entry.get("scopes"), f"{at}.scopes")
        if public and (scopes.all_of or scopes.any_of):
            raise self.fail(f"{at}.scopes", "a public route cannot require scopes")
        cors = self.cors(entry.get("cors"), f"{at}.cors") if "cors" in entry else default_cors
        return RouteConfig(
            path=path,
            upstream=upstream.rstrip("/"),
            methods=self.methods(entry.get("methods"), f"{at}.methods"),
            strip_prefix=strip_prefix,
            public=public,
            scopes=scopes,
            cors=cors,
            forward_claims=self.forward_claims(
                entry.get("forward_claims"), f"{at}.forward_claims", forward_claims
            ),
            allow_semicolons=allow_semicolons,
        )

    def route_path(self, value: Any, at: str, *, allow_semicolons: bool = False) -> str:
        path = self.text(value, at, required=True)
        assert path is not None
        if not path.startswith("/"):
            raise self.fail(at, "a route path starts with '/'")
        body = path[:-2] if path.endswith("/*") else path
        for segment in body.split("/")[1:]:
            if "*" in segment:
                raise self.fail(at, "'*' is allowed only as a final '/*'")
            if ("{" in segment or "}" in segment) and not _PARAM_SEGMENT.fullmatch(segment):
                raise self.fail(at, f"bad parameter segment {segment!r} (use {{name}})")
            if segment in (".", ".."):
                raise self.fail(at, "dot segments are not allowed")
        literal = body.replace("{", "").replace("}", "") or "/"
        problem = path_problem(literal, allow_semicolons=allow_semicolons)
        if problem:
            hint = " (set allow_semicolons: true to accept path parameters)" if ";" in path else ""
            raise self.fail(at, f"no request can match this path: it {problem}{hint}")
        return path

    def methods(self, value: Any, at: str) -> frozenset[str]:
        if value is None:
            return frozenset({"GET"})
        names = {m.upper() for m in self.strings(value, at)}
        if not names:
            raise self.fail(at, "expected at least one method")
        unknown = names - HTTP_METHODS - {"*"}
        if unknown:
            raise self.fail(at, f"unknown method(s): {', '.join(sorted(unknown))}")
        return frozenset(names)

    def scope_rule(self, value: Any, at: str) -> ScopeRule:
        entry = self.mapping(value, at, {"all_of", "any_of"})
        return ScopeRule(
            all_of=self.strings(entry.get("all_of"), f"{at}.all_of"),
            any_of=self.strings(entry.get("any_of"), f"{at}.any_of"),
        )

    def cors(self, value: Any, at: str) -> CorsPolicy | None:
        if value is None:
            return None
        entry = self.mapping(
            value, at, {"origins", "headers", "methods", "max_age", "credentials", "expose_headers"}
        )
        origins = self.strings(entry.get("origins"), f"{at}.origins")
        if not origins:
            raise self.fail(f"{at}.origins", "expected at least one origin")
        for index, origin in enumerate(origins):
            if origin != "*" and not self._is_origin(origin):
                raise self.fail(
                    f"{at}.origins[{index}]", f"{origin!r} is not an origin (scheme://host[:port])"
                )
        credentials = self.boolean(entry.get("credentials"), f"{at}.credentials", False)
        if credentials and "*" in origins:
            raise self.fail(f"{at}.credentials", "credentials cannot be allowed for every origin ('*')")
        methods = self.methods(entry["methods"], f"{at}.methods") if "methods" in entry else None
        headers = self.strings(entry.get("headers"), f"{at}.headers") or ("authorization", "content-type")
        return CorsPolicy(
            origins=origins,
            headers=tuple(h.lower() for h in headers),
            methods=tuple(sorted(methods)) if methods else None,
            max_age=self.integer(entry.get("max_age"), f"{at}.max_age", 600, minimum=0),
            credentials=credentials,
            expose_headers=self.strings(entry.get("expose_headers"), f"{at}.expose_headers"),
        )

    @staticmethod
    def _is_origin(origin: str) -> bool:
        parts = urlsplit(origin)
        return bool(parts.scheme and parts.netloc) and parts.path == "" and not parts.query

    def rate_limit(self, value: Any) -> RateLimitConfig:
        entry = self.mapping(value, "rate_limit", {"per_client_per_minute", "redis_url"})
        per_minute = entry.get("per_client_per_minute")
        redis_url = self.text(entry.get("redis_url"), "rate_limit.redis_url")
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise self.fail("rate_limit.redis_url", "expected a redis:// URL")
        return RateLimitConfig(
            per_client_per_minute=(
                None
                if per_minute is None
                else self.integer(per_minute, "rate_limit.per_client_per_minute", 0)
            ),
            redis_url=redis_url,
        )

    def limits(self, value: Any) -> LimitsConfig:
        entry = self.mapping(value, "limits", {"max_request_body", "max_response_body"})
        defaults = LimitsConfig()
        return LimitsConfig(
            max_request_body=self.integer(
                entry.get("max_request_body"), "limits.max_request_body", defaults.max_request_body, minimum=0
            ),
            max_response_body=self.integer(
                entry.get("max_response_body"),
                "limits.max_response_body",
                defaults.max_response_body,
                minimum=0,
            ),
        )

    def timeouts(self, value: Any) -> TimeoutsConfig:
        entry = self.mapping(value, "timeouts", {"connect", "read"})
        defaults = TimeoutsConfig()
        return TimeoutsConfig(
            connect=self.number(entry.get("connect"), "timeouts.connect", defaults.connect),
            read=self.number(entry.get("read"), "timeouts.read", defaults.read),
        )

    def listen(self, value: Any) -> ListenConfig:
        entry = self.mapping(value, "listen", {"host", "port"})
        defaults = ListenConfig()
        host = self.text(entry.get("host"), "listen.host") or defaults.host
        port = self.integer(entry.get("port"), "listen.port", defaults.port, minimum=0)
        if port > 65535:
            raise self.fail("listen.port", "expected a port number (0-65535)")
        return ListenConfig(host=host, port=port)

    def metrics(self, value: Any) -> MetricsConfig:
        entry = self.mapping(value, "metrics", {"enabled", "path", "public"})
        path = self.text(entry.get("path"), "metrics.path") or "/metrics"
        if not path.startswith("/"):
            raise self.fail("metrics.path", "expected a path starting with '/'")
        return MetricsConfig(
            enabled=self.boolean(entry.get("enabled"), "metrics.enabled", True),
            path=path,
            public=self.boolean(entry.get("public"), "metrics.public", False),
        )

    def token_cache(self, value: Any) -> TokenCacheConfig:
        entry = self.mapping(value, "token_cache", {"size", "ttl"})
        defaults = TokenCacheConfig()
        ttl = entry.get("ttl")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0):
            raise self.fail("token_cache.ttl", "expected a number of seconds >= 0 (0 disables the cache)")
        return TokenCacheConfig(
            size=self.integer(entry.get("size"), "token_cache.size", defaults.size, minimum=0),
            ttl=defaults.ttl if ttl is None else float(ttl),
        )
