"""Which policy of an app governs a request path: the active policy with the longest
``resourcePath`` that covers the path (compared case-insensitively when the policy says
``caseSensitive: false``). A ``resourcePath`` covers itself and what lies below it
(``/public`` covers ``/public`` and ``/public/a``, not ``/publicity``). A path no policy
covers is ``PROTECTED``: the gateway fails closed.

An upstream may read a path more loosely than the gateway (IIS and Express ignore case,
Tomcat drops ``;params``, IIS trailing dots): :func:`policies_for` also returns the policy of
the path as the most forgiving upstream reads it (``ostiary.request_paths.loose_path``), and
a request must satisfy both, so ``/OPS./a`` cannot pass as anything but ``/ops/a``.
"""

from __future__ import annotations

from ostiary.access_gateway.proxy.config import Policy, ProxyApp
from ostiary.request_paths import loose_path

NO_AUTH = "NO_AUTH"
PROTECTED = "PROTECTED"
PROTECTED_REGEX = "PROTECTED_REGEX"
ADAPTIVE = "ADAPTIVE"
CUSTOM = "CUSTOM"

DEFAULT_POLICY = Policy(
    id="default", name="default", resource_path="/", rule=PROTECTED, case_sensitive=True, access_rule=None
)


def covers(resource_path: str, path: str, case_sensitive: bool) -> bool:
    if not case_sensitive:
        resource_path, path = resource_path.lower(), path.lower()
    if resource_path in ("", "/"):
        return True
    if resource_path.endswith("/"):
        return path.startswith(resource_path) or path == resource_path[:-1]
    return path == resource_path or path.startswith(resource_path + "/")


def policy_for(app: ProxyApp, path: str) -> Policy:
    best: Policy | None = None
    for policy in app.policies:
        if covers(policy.resource_path, path, policy.case_sensitive) and (
            best is None or len(policy.resource_path) > len(best.resource_path)
        ):
            best = policy
    if best is None:
        return DEFAULT_POLICY
    return best


def needs_session(policy: Policy, app: ProxyApp) -> bool:
    """``NO_AUTH`` and ``ADAPTIVE`` let anyone through (``ADAPTIVE`` still sends a session's
    attributes when there is one); every other rule, unknown ones included, needs a session."""
    return app.requires_sign_in and policy.rule not in (NO_AUTH, ADAPTIVE)


def sends_identity(policy: Policy, app: ProxyApp) -> bool:
    return app.requires_sign_in and policy.rule != NO_AUTH


def policies_for(app: ProxyApp, path: str) -> tuple[Policy, ...]:
    """The policy of ``path`` first, then the loose reading's when it is another one."""
    exact = policy_for(app, path)
    loose = policy_for(app, loose_path(path))
    return (exact,) if loose is exact else (exact, loose)
