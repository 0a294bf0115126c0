"""Okta-shaped JSON for directory objects: the management API's wire shape is part of the
directory's contract (the okta SDK parses it), so it is written here, next to the rows."""

from __future__ import annotations

from typing import Any

from ostiary.domain.directory import recovery_question
from ostiary.domain.directory import users as users_domain
from ostiary.store.models import ApiToken, Group, User
from ostiary.store.models.sessions import UserSession
from ostiary.timeutil import iso


def _link(href: str, method: str | None = None) -> dict[str, Any]:
    return {"href": href, "method": method} if method else {"href": href}


def user_json(user: User, base: str) -> dict[str, Any]:
    href = f"{base}/api/v1/users/{user.id}"
    links: dict[str, Any] = {"self": _link(href)}
    status = user.status
    if status in (users_domain.STAGED, users_domain.DEPROVISIONED):
        links["activate"] = _link(f"{href}/lifecycle/activate", "POST")
    if status == users_domain.ACTIVE:
        links["suspend"] = _link(f"{href}/lifecycle/suspend", "POST")
        links["resetPassword"] = _link(f"{href}/lifecycle/reset_password", "POST")
        links["expirePassword"] = _link(f"{href}/lifecycle/expire_password", "POST")
        links["changePassword"] = _link(f"{href}/credentials/change_password", "POST")
        links["changeRecoveryQuestion"] = _link(f"{href}/credentials/change_recovery_question", "POST")
    if status == users_domain.SUSPENDED:
        links["unsuspend"] = _link(f"{href}/lifecycle/unsuspend", "POST")
    if status == users_domain.LOCKED_OUT:
        links["unlock"] = _link(f"{href}/lifecycle/unlock", "POST")
    if status == users_domain.PROVISIONED:
        links["reactivate"] = _link(f"{href}/lifecycle/reactivate", "POST")
    if status != users_domain.DEPROVISIONED:
        links["deactivate"] = _link(f"{href}/lifecycle/deactivate", "POST")
    links["type"] = _link(f"{base}/api/v1/meta/types/user/{user.type_id}")
    credentials: dict[str, Any] = {
        "provider": {"type": "OKTA", "name": "OKTA"},
    }
    if user.password_hash:
        credentials["password"] = {}
    question = recovery_question.question_of(user)
    if question is not None:
        credentials["recovery_question"] = {"question": question}
    email = user.profile.get("email")
    if email:
        status = "VERIFIED" if users_domain.email_verified(user) else "UNVERIFIED"
        credentials["emails"] = [{"value": email, "status": status, "type": "PRIMARY"}]
    return {
        "id": user.id,
        "status": user.status,
        "created": iso(user.created),
        "activated": iso(user.activated),
        "statusChanged": iso(user.status_changed),
        "lastLogin": iso(user.last_login),
        "lastUpdated": iso(user.last_updated),
        "passwordChanged": iso(user.password_changed),
        "transitioningToStatus": user.transitioning_to_status,
        "type": {"id": user.type_id},
        "profile": user.profile,
        "credentials": credentials,
        "_links": links,
    }


def group_json(group: Group, base: str) -> dict[str, Any]:
    href = f"{base}/api/v1/groups/{group.id}"
    return {
        "id": group.id,
        "created": iso(group.created),
        "lastUpdated": iso(group.last_updated),
        "lastMembershipUpdated": iso(group.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": group.type,
        "profile": {k: v for k, v in group.profile.items() if not (k == "description" and v is None)},
        "_links": {
            "logo": [
                {"name": "medium", "href": f"{base}/img/logos/groups/okta-medium.png", "type": "image/png"},
                {"name": "large", "href": f"{base}/img/logos/groups/okta-large.png", "type": "image/png"},
            ],
            "users": _link(f"{href}/users"),
            "apps": _link(f"{href}/apps"),
        },
    }


def api_token_json(token: ApiToken, base: str) -> dict[str, Any]:
    """Members without a value (a token made by ``ostiary token create`` has no user, and tokens
    do not expire) are left out: the spec types them as strings."""
    optional = {
        "userId": token.user_id,
        "clientName": token.client_name,
        "tokenWindow": token.token_window,
        "network": token.network,
        "expiresAt": iso(token.expires_at),
    }
    return {
        "id": token.id,
        "name": token.name,
        **{k: v for k, v in optional.items() if v is not None},
        "created": iso(token.created),
        "lastUpdated": iso(token.last_updated),
        "_link": {
            "self": {
                "href": f"{base}/api/v1/api-tokens/{token.id}",
                "hints": {"allow": ["GET", "DELETE", "PUT"]},
            }
        },
    }


def embedded_user(user: User) -> dict[str, Any]:
    """The ``_embedded.user`` of an authentication transaction."""
    profile = user.profile
    return {
        "id": user.id,
        "passwordChanged": iso(user.password_changed),
        "profile": {
            "login": user.login,
            "firstName": profile.get("firstName"),
            "lastName": profile.get("lastName"),
            "locale": profile.get("locale") or "en_US",
            "timeZone": profile.get("timeZone") or "America/Los_Angeles",
        },
    }


def session_json(row: UserSession, base: str, *, me: bool = False) -> dict[str, Any]:
    """Okta's Session object; ``me`` links to ``/sessions/me`` and ``/users/me`` as Okta does."""
    href = f"{base}/api/v1/sessions/{'me' if me else row.id}"
    user_href = f"{base}/api/v1/users/{'me' if me else row.user_id}"
    return {
        "id": row.id,
        "userId": row.user_id,
        "login": row.login,
        "createdAt": iso(row.created),
        "expiresAt": iso(row.expires_at),
        "status": row.status,
        "lastPasswordVerification": iso(row.last_password_verification),
        "lastFactorVerification": None,
        "amr": list(row.amr),
        "idp": {"id": row.org_id, "type": "OKTA"},
        "mfaActive": False,
        "_links": {
            "self": {"href": href, "hints": {"allow": ["GET", "DELETE"]}},
            "refresh": {"href": f"{href}/lifecycle/refresh", "hints": {"allow": ["POST"]}},
            "user": {"href": user_href, "hints": {"allow": ["GET"]}},
        },
    }
