"""Pushed authorization requests (RFC 9126): the parameters a client pushed to ``/v1/par``,
kept under the SHA-256 digest of the ``request_uri`` handed back, for one ``/authorize``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class PushedRequest(Base):
    __tablename__ = "pushed_requests"
    __table_args__ = (Index("ix_pushed_requests_expires", "expires_at"),)

    uri_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(id_type())
    client_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    params: Mapped[dict[str, str]] = mapped_column(JSONDoc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
