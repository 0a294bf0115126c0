"""The spec's request schemas (oag-admin.yaml ``components.schemas``) and each part's defaults."""

from __future__ import annotations

import re
from typing import Any

from ostiary.access_gateway.admin.validation import (
    HOSTNAME,
    ORIGIN_URL,
    URL_WITH_PATH,
    Field,
    Schema,
    regex_problem,
)

HEADER_APP_TYPES = (
    "OAG_HEADER_BASED",
    "OAG_ADMINUI",
    "OAG_NOAUTH",
    "OAG_SAMPLE_COOKIE",
    "OAG_SAMPLE_HEADER",
    "OAG_SAMPLE_POLICY",
    "OAG_SAMPLE_WIKIPEDIA",
    "ORACLE_ACCESSGATE",
    "ORACLE_AGILE_PLM",
    "ORACLE_APPLICATION_EXPRESS",
    "ORACLE_DEMANTRA",
    "ORACLE_HCM_CLOUD",
    "ORACLE_HYPERION",
    "ORACLE_JDE",
    "ORACLE_OBIEE",
    "ORACLE_PEOPLESOFT",
    "ORACLE_WEBCENTER",
    "ORACLE_WEBLOGIC",
)
SUPPORTED_APP_TYPES = ("OAG_HEADER_BASED", "OAG_NOAUTH")
APP_STATUSES = ("CREATED", "ACTIVE", "INACTIVE", "MAINTENANCE")

_STRING = Field("string")
_BOOL = Field("boolean")
_URL = Field("string", pattern=URL_WITH_PATH)
_ORIGIN = Field("string", pattern=ORIGIN_URL)

APP_UPDATE: Schema = {
    "type": Field("string", enum=(*HEADER_APP_TYPES, "OAG_SAML")),
    "label": Field("string", max_length=255),
    "description": _STRING,
    "groups": Field("strings"),
    "postLoginUrl": _URL,
    "certificateId": Field("uuid"),
    "contentRewrite": _BOOL,
    "debug": _BOOL,
    "hostHeaderValue": _STRING,
    "loadBalanced": _BOOL,
    "localNetworkAccessRestriction": _BOOL,
    "maxFileSize": Field("integer", minimum=0),
    "proxyReadTimeout": Field("integer", minimum=1, maximum=99999999),
    "proxyRedirect": _BOOL,
    "publicDomain": Field("string", pattern=HOSTNAME),
    "usePublicDomainAsHostHeader": _BOOL,
    "idpId": Field("uuid"),
    "id": Field("uuid", read_only=True),
    "name": Field("string", read_only=True),
    "status": Field("string", read_only=True),
}
APP_CREATE: Schema = {**APP_UPDATE, "useDefaultHeadersAndPolicies": _BOOL}
APP_CREATE_REQUIRED = (
    "type",
    "label",
    "publicDomain",
    "idpId",
    "certificateId",
    "postLoginUrl",
    "loadBalanced",
)
APP_IGNORED = frozenset({"_embedded", "_links"})

APP_DEFAULTS: dict[str, Any] = {
    "description": "",
    "groups": [],
    "contentRewrite": False,
    "debug": False,
    "loadBalanced": False,
    "localNetworkAccessRestriction": False,
    "maxFileSize": 1,
    "proxyReadTimeout": 60,
    "proxyRedirect": False,
    "usePublicDomainAsHostHeader": False,
}

ATTRIBUTE: Schema = {
    "id": Field("uuid", read_only=True),
    "active": _BOOL,
    "delimiter": _STRING,
    "index": Field("integer", minimum=0, maximum=99),
    "multiValueProcessor": Field("string", enum=("SELECT_INDEX", "SELECT_ALL", "RECORD_COUNT")),
    "name": Field("string", max_length=128, pattern=re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")),
    "source": Field("string", enum=("IDP", "STATIC", "SECRET", "APP_CONTEXT", "AUTH_CONTEXT", "OID")),
    "type": Field("string", enum=("HEADER", "COOKIE")),
    "value": _STRING,
}
ATTRIBUTE_REQUIRED = ("name", "source", "value", "type")
ATTRIBUTE_DEFAULTS: dict[str, Any] = {
    "active": True,
    "delimiter": ":",
    "index": 0,
    "multiValueProcessor": "SELECT_INDEX",
}

POLICY: Schema = {
    "id": Field("uuid", read_only=True),
    "active": _BOOL,
    "caseSensitive": _BOOL,
    "customDirective": Field("string", nullable=True),
    "description": _STRING,
    "name": _STRING,
    "regexRule": Field("string", nullable=True, check=regex_problem),
    "resourcePath": Field("string", max_length=2048),
    "rule": Field("string", enum=("NO_AUTH", "PROTECTED", "PROTECTED_REGEX", "ADAPTIVE", "CUSTOM")),
}
POLICY_REQUIRED = ("name", "resourcePath", "rule")
POLICY_DEFAULTS: dict[str, Any] = {
    "description": "",
    "active": True,
    "regexRule": None,
    "caseSensitive": True,
    "customDirective": None,
}

RESOURCE: Schema = {
    "id": Field("uuid", read_only=True),
    "active": _BOOL,
    "assignedWeight": Field("integer", minimum=0, maximum=100),
    "calculatedWeight": Field("number", read_only=True),
    "hostname": _ORIGIN,
}
RESOURCE_REQUIRED = ("hostname",)
RESOURCE_DEFAULTS: dict[str, Any] = {"assignedWeight": 1, "active": True}

SESSION: Schema = {
    "auth": Field("string", enum=("HEADER", "NOAUTH", "IWA", "EBS")),
    "browserSessionExpiration": _BOOL,
    "deepLinking": _BOOL,
    "enforceDeepLinkingDomain": _BOOL,
    "idleSession": _BOOL,
    "idleSessionTimeout": Field("integer", minimum=60),
    "maxSession": _BOOL,
    "maxSessionTimeout": Field("integer", minimum=0),
}
SESSION_DEFAULTS: dict[str, Any] = {
    "auth": "HEADER",
    "enforceDeepLinkingDomain": False,
    "deepLinking": True,
    "idleSession": True,
    "idleSessionTimeout": 3600,
    "maxSession": True,
    "maxSessionTimeout": 28800,
    "browserSessionExpiration": False,
}


def _enum(*values: str) -> Field:
    return Field("string", enum=values)


BEHAVIOR: Schema = {
    "customLoginUrl": _ORIGIN,
    "error": _enum("OAG_ERROR_PATH", "APP_ERROR_PATH", "NO_APP_ERROR_PATH", "CUSTOM_URL"),
    "errorManaged": _BOOL,
    "errorPath": _STRING,
    "globalTokenRevocation": _BOOL,
    "inactive": _enum("OAG_DEFAULT_PAGE", "CUSTOM_URL"),
    "inactiveUrl": _ORIGIN,
    "login": _enum("OAG_LOGIN_PATH", "APP_LOGIN_PATH", "NO_APP_LOGIN_PATH", "CUSTOM_URL"),
    "loginManaged": _BOOL,
    "loginPath": _STRING,
    "logout": _enum(
        "OAG_LOGOUT_PATH", "OAG_LOGOUT_PATH2", "APP_LOGOUT_PATH", "NO_APP_LOGOUT_PATH", "CUSTOM_URL"
    ),
    "logoutPath": _STRING,
    "maintenance": _enum("OAG_DEFAULT_PAGE", "CUSTOM_URL"),
    "maintenanceUrl": _ORIGIN,
    "noSession": _enum("OAG_DEFAULT_PAGE", "IDP_REDIRECT", "IDP_FORCE_AUTHN", "CUSTOM_URL"),
    "noSessionUrl": _ORIGIN,
    "policyDenied": _enum("OAG_DEFAULT_PAGE", "STATUS_CODE_403", "CUSTOM_URL"),
    "policyDeniedUrl": _ORIGIN,
    "postErrorUrl": _ORIGIN,
    "postLogoutUrl": _ORIGIN,
    "sessionIntegrityFailure": _enum(
        "OAG_DEFAULT_PAGE", "IGNORE", "IDP_FORCE_AUTHN", "IDP_REDIRECT", "STATUS_CODE_405", "CUSTOM_URL"
    ),
    "sessionIntegrityFailureUrl": _ORIGIN,
    "singleLogout": _BOOL,
    "universalLogout": _BOOL,
}
BEHAVIOR_DEFAULTS: dict[str, Any] = {
    "singleLogout": False,
    "universalLogout": False,
    "globalTokenRevocation": False,
    "noSession": "IDP_REDIRECT",
    "policyDenied": "OAG_DEFAULT_PAGE",
    "sessionIntegrityFailure": "IGNORE",
    "logout": "OAG_LOGOUT_PATH",
    "logoutPath": "/oagLogout",
    "error": "OAG_ERROR_PATH",
    "errorPath": "/oagError",
    "errorManaged": False,
    "login": "NO_APP_LOGIN_PATH",
    "loginManaged": False,
    "maintenance": "OAG_DEFAULT_PAGE",
    "inactive": "OAG_DEFAULT_PAGE",
}

HEALTH_CHECK: Schema = {
    "enabled": _BOOL,
    "healthyThreshold": Field("integer", minimum=1, maximum=10),
    "interval": Field("integer", minimum=2, maximum=300),
    "method": _enum("GET"),
    "path": Field("string", pattern=re.compile(r"/[^\s]*")),
    "statusCode": Field("integer", minimum=100, maximum=599),
    "timeout": Field("integer", minimum=1, maximum=60),
    "unhealthyThreshold": Field("integer", minimum=1, maximum=10),
}
HEALTH_CHECK_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "path": "/",
    "method": "GET",
    "statusCode": 200,
    "interval": 10,
    "timeout": 1,
    "healthyThreshold": 3,
    "unhealthyThreshold": 3,
}

IDP: Schema = {
    "id": Field("uuid", read_only=True),
    "type": _enum("IDP_OKTA", "IDP_AUTH0"),
    "name": Field("string", max_length=255),
    "description": _STRING,
    "domain": _STRING,
    "apiToken": Field("string", max_length=4096),
    "tenant": Field("string", read_only=True),
    "validationStatus": Field("string", read_only=True),
}

AUTHENTICATION_SERVICE: Schema = {
    "certificateId": Field("uuid"),
    "publicDomain": Field("string", pattern=HOSTNAME),
    "serverNodes": Field("strings"),
    "database": Field("object"),
}
DATABASE_FIELDS = {"type", "host", "port", "name", "username", "password"}
