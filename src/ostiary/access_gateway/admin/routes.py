"""Every route of the admin API, written out in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ostiary.access_gateway.admin import (
    app_parts,
    app_settings,
    apps,
    authentication_service,
    certificates,
    idps,
)
from ostiary.access_gateway.admin.token_endpoint import token

_APP = "/api/v2/apps/{applicationId}"
_AUTH_SERVICE = "/api/v2/settings/authentication-service"

routes: list[BaseRoute] = [
    Route("/api/v2/oauth/token", token, methods=["POST"]),
    Route("/api/v2/apps", apps.list_apps, methods=["GET"]),
    Route("/api/v2/apps", apps.create_app, methods=["POST"]),
    Route(_APP, apps.get_app, methods=["GET"]),
    Route(_APP, apps.replace_app, methods=["PUT"]),
    Route(_APP, apps.delete_app, methods=["DELETE"]),
    Route(_APP + "/activate", apps.activate_app, methods=["POST"]),
    Route(_APP + "/deactivate", apps.deactivate_app, methods=["POST"]),
    Route(_APP + "/maintenance", apps.maintenance_app, methods=["POST"]),
    *app_parts.routes,
    *app_settings.routes,
    Route("/api/v2/certificates", certificates.list_certificates, methods=["GET"]),
    Route("/api/v2/certificates/{certificateId}", certificates.get_certificate, methods=["GET"]),
    Route("/api/v2/idps", idps.list_idps, methods=["GET"]),
    Route("/api/v2/idps", idps.create_idp, methods=["POST"]),
    Route("/api/v2/idps/{idpId}", idps.get_idp, methods=["GET"]),
    Route("/api/v2/idps/{idpId}", idps.replace_idp, methods=["PUT"]),
    Route("/api/v2/idps/{idpId}", idps.delete_idp, methods=["DELETE"]),
    Route(_AUTH_SERVICE, authentication_service.get_setting, methods=["GET"]),
    Route(_AUTH_SERVICE, authentication_service.enable_setting, methods=["POST"]),
    Route(_AUTH_SERVICE, authentication_service.disable_setting, methods=["DELETE"]),
    Route(_AUTH_SERVICE + "/health-check", authentication_service.health_check, methods=["GET"]),
]
