"""The one table of who may do what: standard role → the permissions it grants.

Permissions use Okta's names (``okta.users.manage`` …), the same strings as the ``okta.*`` scopes
of the management API, plus three finer ones Okta's standard roles need:
``okta.users.credentials.manage`` (reset or expire a password, unlock: the help desk's work),
``okta.groups.members.manage`` (add or remove a member) and ``okta.roles.*``. A ``.manage``
permission includes its ``.read``; ``okta.users.manage`` includes the credentials one and
``okta.groups.manage`` the members one (:func:`implied_by`).

From Okta's "Standard administrator roles and permissions": only super admins add, remove or view
admins (``okta.roles.*``) and assign ``SUPER_ADMIN``; authorization servers are changed by super
and API Access Management admins; the system log is read by every role but the group membership
admin. A permission no role lists (an area added later) is the super admin's alone.
"""

from __future__ import annotations

from collections.abc import Iterable

SUPER_ADMIN = "SUPER_ADMIN"
ORG_ADMIN = "ORG_ADMIN"
APP_ADMIN = "APP_ADMIN"
USER_ADMIN = "USER_ADMIN"
GROUP_MEMBERSHIP_ADMIN = "GROUP_MEMBERSHIP_ADMIN"
HELP_DESK_ADMIN = "HELP_DESK_ADMIN"
READ_ONLY_ADMIN = "READ_ONLY_ADMIN"
API_ACCESS_MANAGEMENT_ADMIN = "API_ACCESS_MANAGEMENT_ADMIN"
REPORT_ADMIN = "REPORT_ADMIN"

LABELS: dict[str, str] = {
    SUPER_ADMIN: "Super Administrator",
    ORG_ADMIN: "Organizational Administrator",
    APP_ADMIN: "Application Administrator",
    USER_ADMIN: "User Administrator",
    GROUP_MEMBERSHIP_ADMIN: "Group Membership Administrator",
    HELP_DESK_ADMIN: "Help Desk Administrator",
    READ_ONLY_ADMIN: "Read-only Administrator",
    API_ACCESS_MANAGEMENT_ADMIN: "API Access Management Administrator",
    REPORT_ADMIN: "Report Administrator",
}
ROLE_TYPES = frozenset(LABELS)

GROUP_TARGETED = frozenset({USER_ADMIN, GROUP_MEMBERSHIP_ADMIN, HELP_DESK_ADMIN})
"""Roles that group targets narrow (to the targeted groups and their members)."""
APP_TARGETED = frozenset({APP_ADMIN})
"""Roles that app targets (catalog names or instances) narrow."""

USERS_READ, USERS_MANAGE = "okta.users.read", "okta.users.manage"
USERS_CREDENTIALS = "okta.users.credentials.manage"
GROUPS_READ, GROUPS_MANAGE = "okta.groups.read", "okta.groups.manage"
GROUP_MEMBERS = "okta.groups.members.manage"
APPS_READ, APPS_MANAGE = "okta.apps.read", "okta.apps.manage"
GRANTS_READ, GRANTS_MANAGE = "okta.appGrants.read", "okta.appGrants.manage"
AS_READ, AS_MANAGE = "okta.authorizationServers.read", "okta.authorizationServers.manage"
LOGS_READ = "okta.logs.read"
ROLES_READ, ROLES_MANAGE = "okta.roles.read", "okta.roles.manage"
TOKENS_READ, TOKENS_MANAGE = "okta.apiTokens.read", "okta.apiTokens.manage"
ORIGINS_READ, ORIGINS_MANAGE = "okta.trustedOrigins.read", "okta.trustedOrigins.manage"
INTEGRATIONS_READ, INTEGRATIONS_MANAGE = "okta.oauthIntegrations.read", "okta.oauthIntegrations.manage"
SCHEMAS_READ, SCHEMAS_MANAGE = "okta.schemas.read", "okta.schemas.manage"
USER_TYPES_READ = "okta.userTypes.read"
CLIENTS_READ = "okta.clients.read"

_READ_ONLY = frozenset(
    {
        USERS_READ,
        GROUPS_READ,
        APPS_READ,
        GRANTS_READ,
        AS_READ,
        LOGS_READ,
        TOKENS_READ,
        ORIGINS_READ,
        INTEGRATIONS_READ,
        SCHEMAS_READ,
        USER_TYPES_READ,
        CLIENTS_READ,
    }
)

PERMISSIONS: dict[str, frozenset[str]] = {
    ORG_ADMIN: frozenset(
        {
            USERS_MANAGE,
            GROUPS_MANAGE,
            APPS_MANAGE,
            GRANTS_MANAGE,
            AS_READ,
            LOGS_READ,
            TOKENS_MANAGE,
            ORIGINS_MANAGE,
            INTEGRATIONS_MANAGE,
            SCHEMAS_MANAGE,
            USER_TYPES_READ,
            CLIENTS_READ,
        }
    ),
    APP_ADMIN: frozenset(
        {
            APPS_MANAGE,
            GRANTS_MANAGE,
            INTEGRATIONS_MANAGE,
            CLIENTS_READ,
            USERS_READ,
            GROUPS_READ,
            AS_READ,
            LOGS_READ,
        }
    ),
    USER_ADMIN: frozenset({USERS_MANAGE, GROUPS_READ, GROUP_MEMBERS, LOGS_READ, SCHEMAS_READ}),
    GROUP_MEMBERSHIP_ADMIN: frozenset({USERS_READ, GROUPS_READ, GROUP_MEMBERS}),
    HELP_DESK_ADMIN: frozenset({USERS_READ, USERS_CREDENTIALS, GROUPS_READ, LOGS_READ}),
    READ_ONLY_ADMIN: _READ_ONLY,
    API_ACCESS_MANAGEMENT_ADMIN: frozenset(
        {AS_MANAGE, APPS_READ, CLIENTS_READ, USERS_READ, GROUPS_READ, LOGS_READ}
    ),
    REPORT_ADMIN: frozenset({LOGS_READ}),
}
"""Every role but ``SUPER_ADMIN``, which holds every permission."""

_INCLUDES: dict[str, frozenset[str]] = {
    USERS_MANAGE: frozenset({USERS_READ, USERS_CREDENTIALS}),
    GROUPS_MANAGE: frozenset({GROUPS_READ, GROUP_MEMBERS}),
}


def implied_by(granted: Iterable[str]) -> frozenset[str]:
    """``granted`` with what each grant includes (``x.manage`` → ``x.read``, and ``_INCLUDES``)."""
    out = set(granted)
    for permission in list(out):
        out |= _INCLUDES.get(permission, frozenset())
        if permission.endswith(".manage"):
            out.add(permission[: -len(".manage")] + ".read")
    return frozenset(out)


_EXPANDED: dict[str, frozenset[str]] = {role: implied_by(p) for role, p in PERMISSIONS.items()}


def role_permits(role_type: str, permission: str) -> bool:
    if role_type == SUPER_ADMIN:
        return True
    return permission in _EXPANDED.get(role_type, frozenset())


def resource_kind(permission: str) -> str | None:
    """What kind of resource a permission acts on, for target narrowing: ``user``, ``group``,
    ``app``, or None (targets do not narrow it)."""
    if permission.startswith("okta.users."):
        return "user"
    if permission.startswith("okta.groups."):
        return "group"
    if permission.startswith(("okta.apps.", "okta.appGrants.", "okta.oauthIntegrations.", "okta.clients.")):
        return "app"
    return None
