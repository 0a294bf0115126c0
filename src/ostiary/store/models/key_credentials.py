"""Public key credentials the management API keeps: apps' X.509 signing key credentials
(``/api/v1/apps/{id}/credentials/keys``) and authorization servers' resource server encryption
keys (``…/resourceservercredentials/keys``). Only public material is stored: Ostiary signs
nothing with an app's key, and a resource server's key is the resource server's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class AppKeyCredential(Base):
    """One X.509 certificate of an app, as a JWK with ``x5c`` (a clone shares the ``kid``)."""

    __tablename__ = "app_key_credentials"

    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True
    )
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    jwk: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResourceServerKey(Base):
    """A resource server's public JWT encryption key on an authorization server; one ACTIVE."""

    __tablename__ = "resource_server_keys"
    __table_args__ = (Index("ix_resource_server_keys_server", "org_id", "server_id"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(id_type())
    kid: Mapped[str] = mapped_column(String(255))
    jwk: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
