"""The access gateway's tables (SQLAlchemy Core), all prefixed ``oag_``.

An app's sub-resources (protected resources, attributes, policies) share one table keyed by
``kind``; each row keeps its spec document as JSON, so the admin API returns what it stored.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

settings = Table(
    "oag_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

api_clients = Table(
    "oag_api_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kid", String(64), nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created", Integer, nullable=False),
)

access_tokens = Table(
    "oag_access_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("expires_at", Integer, nullable=False, index=True),
)

used_assertions = Table(
    "oag_used_assertions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", Integer, nullable=False, index=True),
)

certificates = Table(
    "oag_certificates",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("common_name", String(255), nullable=False),
    Column("san", JSON, nullable=False),
    Column("self_signed", Boolean, nullable=False),
    Column("valid_from", Integer, nullable=False),
    Column("expires_on", Integer, nullable=False),
    Column("cert_pem", Text, nullable=False),
    Column("key_encrypted", Text, nullable=False),
    Column("created", Integer, nullable=False),
)

idps = Table(
    "oag_idps",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("domain", String(255), nullable=False, unique=True),
    Column("api_token_encrypted", Text, nullable=False),
    Column("created", Integer, nullable=False),
)

apps = Table(
    "oag_apps",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("label", String(255), nullable=False, unique=True),
    Column("public_domain", String(255), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("idp_id", String(36), ForeignKey("oag_idps.id"), nullable=True),
    Column("document", JSON, nullable=False),
    Column("session", JSON, nullable=False),
    Column("behavior", JSON, nullable=False),
    Column("health_check", JSON, nullable=False),
    Column("org_app_id", String(64), nullable=True),
    Column("org_client_secret_encrypted", Text, nullable=True),
    Column("created", Integer, nullable=False),
    Column("group_names", JSON, nullable=True),
)

app_parts = Table(
    "oag_app_parts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("app_id", String(36), ForeignKey("oag_apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("document", JSON, nullable=False),
)

authentication_service = Table(
    "oag_authentication_service",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document", JSON, nullable=False),
    Column("secrets_encrypted", Text, nullable=True),
)

sessions = Table(
    "oag_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("app_id", String(36), nullable=False, index=True),
    Column("document_encrypted", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("expires_at", Integer, nullable=False, index=True),
)
