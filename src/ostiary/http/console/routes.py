"""Every route of the admin console (``/admin``), for the app's route table."""

from __future__ import annotations

from starlette.routing import BaseRoute

from ostiary.http.console import (
    api_services,
    apps,
    groups,
    home,
    origins,
    preview,
    servers,
    signin,
    tokens_logs,
    users,
)


def routes() -> list[BaseRoute]:
    return [
        *signin.routes,
        *home.routes,
        *groups.routes,
        *users.routes,
        *servers.routes,
        *preview.routes,
        *apps.routes,
        *origins.routes,
        *tokens_logs.routes,
        *api_services.routes,
    ]
