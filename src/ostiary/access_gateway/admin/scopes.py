"""The admin API's OAuth scopes (the seed's table and the spec's AuthRequest enum)."""

APP_MANAGE = "okta.oag.app.manage"
APP_READ = "okta.oag.app.read"
CERT_READ = "okta.oag.cert.read"
IDP_MANAGE = "okta.oag.idp.manage"
IDP_READ = "okta.oag.idp.read"
AUTH_SERVICE_MANAGE = "okta.oag.authenticationService.manage"
AUTH_SERVICE_READ = "okta.oag.authenticationService.read"

DEFAULT_CLIENT_SCOPES = (APP_MANAGE, APP_READ, CERT_READ, IDP_MANAGE, IDP_READ)
"""What ``api-client create`` grants when no ``--scope`` is given."""
ALL_SCOPES = frozenset({*DEFAULT_CLIENT_SCOPES, AUTH_SERVICE_MANAGE, AUTH_SERVICE_READ})
