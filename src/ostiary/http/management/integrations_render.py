"""Okta-shaped JSON for API service integration instances, their secrets, and catalog entries."""

from __future__ import annotations

from typing import Any

from ostiary.domain.clients.app_json import credential_links, public_secret_hash
from ostiary.domain.integrations.catalog import Entry
from ostiary.domain.integrations.installs import Install, Secret
from ostiary.timeutil import iso

API_SERVICES = "/integrations/api/v1/api-services"
SUBMISSIONS = "/integrations/api/v1/submissions"
CATALOG = "/integrations/api/v1/catalog/api-services"


def _hinted(href: str, *methods: str) -> dict[str, Any]:
    return {"href": href, "hints": {"allow": list(methods)}}


def install_json(install: Install, base: str) -> dict[str, Any]:
    links: dict[str, Any] = {
        "self": _hinted(f"{base}{API_SERVICES}/{install.id}", "GET", "DELETE"),
        "client": _hinted(f"{base}/oauth2/v1/clients/{install.id}", "GET"),
    }
    if install.logo_url:
        links["logo"] = {"name": "small", "href": install.logo_url}
    body: dict[str, Any] = {
        "id": install.id,
        "type": install.type,
        "name": install.name,
        "createdAt": iso(install.created),
        "createdBy": install.created_by,
    }
    if install.client_secret is not None:
        body["clientSecret"] = install.client_secret
    body["configGuideUrl"] = install.config_guide_url
    body["grantedScopes"] = list(install.granted_scopes)
    if install.properties:
        body["properties"] = dict(install.properties)
    body["_links"] = links
    return body


def secret_json(secret: Secret, base: str) -> dict[str, Any]:
    """The full ``client_secret`` only when just created; otherwise masked like Okta's."""
    href = f"{base}{API_SERVICES}/{secret.install_id}/credentials/secrets/{secret.id}"
    links = credential_links(href, secret.status)
    return {
        "id": secret.id,
        "status": secret.status,
        "client_secret": secret.plaintext if secret.plaintext is not None else f"***{secret.hint}",
        "secret_hash": public_secret_hash(secret.digest),
        "created": iso(secret.created),
        "lastUpdated": iso(secret.last_updated),
        "_links": links,
    }


def _entry_fields(entry: Entry) -> dict[str, Any]:
    return {
        "type": entry.type,
        "name": entry.name,
        "description": entry.description,
        "logoUrl": entry.logo_url,
        "configGuideUrl": entry.config_guide_url,
        "scopes": list(entry.scopes),
        "properties": [dict(p) for p in entry.properties],
        "status": entry.status,
    }


def catalog_json(entry: Entry, base: str) -> dict[str, Any]:
    """An entry as an installing org sees it."""
    return {
        **_entry_fields(entry),
        "_links": {
            "self": _hinted(f"{base}{CATALOG}/{entry.type}", "GET"),
            "install": _hinted(f"{base}{API_SERVICES}", "POST"),
        },
    }


def submission_json(entry: Entry, base: str) -> dict[str, Any]:
    """An entry as its publisher (or the operator) sees it, with the next lifecycle steps."""
    href = f"{base}{SUBMISSIONS}/{entry.type}"
    links: dict[str, Any] = {"self": _hinted(href, "GET", "PUT")}
    if entry.status == "DRAFT":
        links["submit"] = _hinted(f"{href}/lifecycle/submit", "POST")
    if entry.status == "SUBMITTED":
        links["approve"] = _hinted(f"{href}/lifecycle/approve", "POST")
        links["reject"] = _hinted(f"{href}/lifecycle/reject", "POST")
    return {
        **_entry_fields(entry),
        "statusReason": entry.status_reason,
        "publisherOrgId": entry.publisher_org_id,
        "created": iso(entry.created),
        "lastUpdated": iso(entry.last_updated),
        "_links": links,
    }
