"""Finding an app of the org and naming it in errors and the system log; shared by the apps,
client secrets, client keys, grants and assignments modules."""

from __future__ import annotations

from sqlalchemy import or_, select

from ostiary.domain.audit.log import Target
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid, NotFound
from ostiary.store.models import App

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post", "client_secret_jwt"})
"""``token_endpoint_auth_method`` values that authenticate with a client secret."""


def app_not_found(app_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {app_id} (AppInstance)", code="E0000007")


def public_app_id(app: App) -> str:
    """The app's ``id`` on the management API (its client_id unless that was fixed on create)."""
    return app.public_id or app.id


def app_target(app: App) -> Target:
    return Target(public_app_id(app), "AppInstance", app.name, app.label)


async def get_app(tx: Tx, app_id: str) -> App:
    """By its ``id`` on the management API, or by its client_id."""
    matches = or_(App.id == app_id, App.public_id == app_id)
    app = (await tx.session.scalars(select(App).where(App.org_id == tx.org_id, matches))).first()
    if app is None:
        raise app_not_found(app_id)
    return app


def validation_error(field: str, *causes: str) -> Invalid:
    """Okta's E0000001: ``Api validation failed: {field}`` with the given causes."""
    return Invalid(f"Api validation failed: {field}", code="E0000001", causes=list(causes))


class Causes:
    """Validation problems collected over a whole request body, reported together."""

    def __init__(self) -> None:
        self._fields: list[str] = []
        self._messages: list[str] = []

    def add(self, field: str, message: str) -> None:
        self._fields.append(field)
        self._messages.append(f"{field}: {message}")

    def __bool__(self) -> bool:
        return bool(self._fields)

    def raise_if_any(self) -> None:
        if self._fields:
            raise validation_error(self._fields[0], *self._messages)
