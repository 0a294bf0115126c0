"""An app document of the admin API (``GET /api/v2/apps/{id}`` with ``_embedded`` expanded,
oag-admin.yaml) parsed into frozen dataclasses, the spec's defaults applied to absent parts.

Parsing is tolerant (a missing optional part gets its default, an unknown member is
ignored) but never permissive: a policy whose rule cannot be read denies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ostiary.access_gateway.proxy.rules import AccessRule, compile_rule


class AppDocumentError(ValueError):
    """The app document lacks something the proxy cannot do without."""


@dataclass(frozen=True)
class OidcClient:
    """The org's OIDC web app for this gateway app (``ostiaryOidc``)."""

    org_url: str
    client_id: str
    client_secret: str
    group_names: frozenset[str] | None = None
    """Names of the app's groups, when the catalog knows them: then the gateway checks them
    itself too (the org already refuses users not assigned to its OIDC app)."""
    redirect_uri: str | None = None
    """The callback URI exactly as registered in the org (``redirectUri``); without it the
    proxy uses the public domain's ``/_ostiary/callback``."""


@dataclass(frozen=True)
class Resource:
    id: str
    hostname: str
    """``scheme://host[:port]``, no trailing slash."""
    weight: int
    active: bool


@dataclass(frozen=True)
class Attribute:
    name: str
    source: str
    value: str
    type: str
    active: bool = True
    multi_value: str = "SELECT_INDEX"
    index: int = 0
    delimiter: str = ":"


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    resource_path: str
    rule: str
    case_sensitive: bool
    access_rule: AccessRule | None
    """The compiled ``regexRule`` (``PROTECTED_REGEX`` and ``CUSTOM``); ``None`` otherwise."""


@dataclass(frozen=True)
class SessionSettings:
    auth: str = "HEADER"
    deep_linking: bool = True
    idle: bool = True
    idle_timeout: int = 3600
    max: bool = True
    max_timeout: int = 28800
    browser_session: bool = False


@dataclass(frozen=True)
class Behavior:
    single_logout: bool = False
    no_session: str = "IDP_REDIRECT"
    no_session_url: str | None = None
    policy_denied: str = "OAG_DEFAULT_PAGE"
    policy_denied_url: str | None = None
    logout_path: str = "/oagLogout"
    post_logout_url: str | None = None
    maintenance: str = "OAG_DEFAULT_PAGE"
    maintenance_url: str | None = None
    inactive: str = "OAG_DEFAULT_PAGE"
    inactive_url: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    enabled: bool = False
    path: str = "/"
    status_code: int = 200
    interval: float = 10
    timeout: float = 1
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3


@dataclass(frozen=True)
class ProxyApp:
    id: str
    name: str
    type: str
    status: str
    public_domain: str
    """Lower-cased ``host[:port]``."""
    post_login_url: str | None
    groups: tuple[str, ...]
    load_balanced: bool
    use_public_domain_as_host_header: bool
    host_header_value: str | None
    max_file_size: int
    """Megabytes; 0 means no limit."""
    proxy_read_timeout: float
    resources: tuple[Resource, ...]
    attributes: tuple[Attribute, ...]
    policies: tuple[Policy, ...]
    session: SessionSettings
    behavior: Behavior
    health_check: HealthCheck
    oidc: OidcClient | None

    @property
    def requires_sign_in(self) -> bool:
        return self.type != "OAG_NOAUTH" and self.session.auth != "NOAUTH"

    @property
    def max_body_bytes(self) -> int | None:
        return None if self.max_file_size <= 0 else self.max_file_size * 1024 * 1024


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any, default: str | None = None) -> str | None:
    return value if isinstance(value, str) and value != "" else default


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _number(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppDocumentError(f"not an http(s) origin: {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def parse_resources(items: list[Any]) -> tuple[Resource, ...]:
    resources = []
    for item in items:
        item = _dict(item)
        hostname = _str(item.get("hostname"))
        if hostname is None:
            continue
        try:
            origin = _origin(hostname.rstrip("/"))
        except AppDocumentError:
            continue
        resources.append(
            Resource(
                id=_str(item.get("id"), origin) or origin,
                hostname=origin,
                weight=max(0, _int(item.get("assignedWeight"), 1)),
                active=_bool(item.get("active"), True),
            )
        )
    return tuple(resources)


def parse_attributes(items: list[Any]) -> tuple[Attribute, ...]:
    attributes = []
    for item in items:
        item = _dict(item)
        name, source, value = _str(item.get("name")), _str(item.get("source")), item.get("value")
        if name is None or source is None:
            continue
        attributes.append(
            Attribute(
                name=name,
                source=source.upper(),
                value=value if isinstance(value, str) else "",
                type=(_str(item.get("type"), "HEADER") or "HEADER").upper(),
                active=_bool(item.get("active"), True),
                multi_value=(_str(item.get("multiValueProcessor"), "SELECT_INDEX") or "").upper(),
                index=max(0, _int(item.get("index"), 0)),
                delimiter=_str(item.get("delimiter"), ":") or ":",
            )
        )
    return tuple(attributes)


def parse_policies(items: list[Any]) -> tuple[Policy, ...]:
    policies = []
    for item in items:
        item = _dict(item)
        if not _bool(item.get("active"), True):
            continue
        path, rule = _str(item.get("resourcePath")), _str(item.get("rule"))
        if path is None or rule is None:
            continue
        rule = rule.upper()
        regex = item.get("regexRule")
        access_rule = compile_rule(regex) if rule in ("PROTECTED_REGEX", "CUSTOM") else None
        policies.append(
            Policy(
                id=_str(item.get("id"), path) or path,
                name=_str(item.get("name"), path) or path,
                resource_path=path,
                rule=rule,
                case_sensitive=_bool(item.get("caseSensitive"), True),
                access_rule=access_rule,
            )
        )
    return tuple(policies)


def parse_session(doc: Mapping[str, Any]) -> SessionSettings:
    d = SessionSettings()
    return SessionSettings(
        auth=(_str(doc.get("auth"), d.auth) or d.auth).upper(),
        deep_linking=_bool(doc.get("deepLinking"), d.deep_linking),
        idle=_bool(doc.get("idleSession"), d.idle),
        idle_timeout=max(1, _int(doc.get("idleSessionTimeout"), d.idle_timeout)),
        max=_bool(doc.get("maxSession"), d.max),
        max_timeout=max(0, _int(doc.get("maxSessionTimeout"), d.max_timeout)),
        browser_session=_bool(doc.get("browserSessionExpiration"), d.browser_session),
    )


def parse_behavior(doc: Mapping[str, Any]) -> Behavior:
    d = Behavior()
    logout_path = _str(doc.get("logoutPath"), d.logout_path) or d.logout_path
    if not logout_path.startswith("/"):
        logout_path = "/" + logout_path
    return Behavior(
        single_logout=_bool(doc.get("singleLogout"), d.single_logout),
        no_session=(_str(doc.get("noSession"), d.no_session) or d.no_session).upper(),
        no_session_url=_str(doc.get("noSessionUrl")),
        policy_denied=(_str(doc.get("policyDenied"), d.policy_denied) or d.policy_denied).upper(),
        policy_denied_url=_str(doc.get("policyDeniedUrl")),
        logout_path=logout_path,
        post_logout_url=_str(doc.get("postLogoutUrl")),
        maintenance=(_str(doc.get("maintenance"), d.maintenance) or d.maintenance).upper(),
        maintenance_url=_str(doc.get("maintenanceUrl")),
        inactive=(_str(doc.get("inactive"), d.inactive) or d.inactive).upper(),
        inactive_url=_str(doc.get("inactiveUrl")),
    )


def parse_health_check(doc: Mapping[str, Any]) -> HealthCheck:
    d = HealthCheck()
    path = _str(doc.get("path"), d.path) or d.path
    return HealthCheck(
        enabled=_bool(doc.get("enabled"), d.enabled),
        path=path if path.startswith("/") else "/" + path,
        status_code=_int(doc.get("statusCode"), d.status_code),
        interval=_number(doc.get("interval"), d.interval),
        timeout=_number(doc.get("timeout"), d.timeout),
        healthy_threshold=max(1, _int(doc.get("healthyThreshold"), d.healthy_threshold)),
        unhealthy_threshold=max(1, _int(doc.get("unhealthyThreshold"), d.unhealthy_threshold)),
    )


def parse_oidc(doc: Any) -> OidcClient | None:
    doc = _dict(doc)
    org_url, client_id, secret = (_str(doc.get(k)) for k in ("orgUrl", "clientId", "clientSecret"))
    if org_url is None or client_id is None or secret is None:
        return None
    names = doc.get("groupNames")
    group_names = frozenset(n for n in names if isinstance(n, str)) if isinstance(names, list) else None
    return OidcClient(org_url.rstrip("/"), client_id, secret, group_names, _str(doc.get("redirectUri")))


def parse_app(doc: Mapping[str, Any]) -> ProxyApp:
    """The proxy's view of one app document; raises :class:`AppDocumentError` without an
    ``id`` or a ``publicDomain``."""
    app_id, domain = _str(doc.get("id")), _str(doc.get("publicDomain"))
    if app_id is None or domain is None:
        raise AppDocumentError("an app needs an id and a publicDomain")
    embedded = _dict(doc.get("_embedded"))
    return ProxyApp(
        id=app_id,
        name=_str(doc.get("name"), app_id) or app_id,
        type=(_str(doc.get("type"), "OAG_HEADER_BASED") or "").upper(),
        status=(_str(doc.get("status"), "CREATED") or "").upper(),
        public_domain=domain.lower(),
        post_login_url=_str(doc.get("postLoginUrl")),
        groups=tuple(g for g in _list(doc.get("groups")) if isinstance(g, str)),
        load_balanced=_bool(doc.get("loadBalanced"), False),
        use_public_domain_as_host_header=_bool(doc.get("usePublicDomainAsHostHeader"), False),
        host_header_value=_str(doc.get("hostHeaderValue")),
        max_file_size=max(0, _int(doc.get("maxFileSize"), 1)),
        proxy_read_timeout=_number(doc.get("proxyReadTimeout"), 60),
        resources=parse_resources(_list(embedded.get("protectedResources"))),
        attributes=parse_attributes(_list(embedded.get("attributes"))),
        policies=parse_policies(_list(embedded.get("policies"))),
        session=parse_session(_dict(embedded.get("session"))),
        behavior=parse_behavior(_dict(embedded.get("behavior"))),
        health_check=parse_health_check(_dict(embedded.get("healthCheck"))),
        oidc=parse_oidc(doc.get("ostiaryOidc")),
    )
