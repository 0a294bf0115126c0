"""The integration catalog (API service integrations a publisher org offers) and their installs.

A catalog entry is instance-wide (its ``type`` is unique across orgs) and belongs to the org
that publishes it (``publisher_org_id``; the default org for entries published with the CLI).
An install is a service app of the installing org: its id is the app's id (the client id),
and it keeps a snapshot of the entry as installed (Okta's test installs are snapshots too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class IntegrationEntry(Base):
    __tablename__ = "integration_entries"
    __table_args__ = (Index("ix_integration_entries_publisher", "publisher_org_id"),)

    type: Mapped[str] = mapped_column(String(100), primary_key=True)
    publisher_org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    logo_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    config_guide_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    properties: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    """Install-time properties it asks for: ``[{"name", "label", "required"}]``."""
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiServiceInstall(Base):
    __tablename__ = "api_service_installs"
    __table_args__ = (Index("ix_api_service_installs_org", "org_id", "id"),)

    id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    config_guide_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    logo_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    granted_scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    properties: Mapped[dict[str, str] | None] = mapped_column(JSONDoc, default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
