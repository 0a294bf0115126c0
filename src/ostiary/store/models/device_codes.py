"""Device authorization requests (RFC 8628): the ``device_code`` (stored as its SHA-256
digest) a device polls ``/v1/token`` with, the ``user_code`` a person types at ``/activate``,
and what the person decided (with the policy's grant) once they did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class DeviceCode(Base):
    __tablename__ = "device_codes"
    __table_args__ = (
        UniqueConstraint("org_id", "user_code", name="uq_device_codes_user_code"),
        Index("ix_device_codes_expires", "expires_at"),
    )

    device_code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(id_type())
    client_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    user_code: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(16))
    interval: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    user_id: Mapped[str | None] = mapped_column(id_type(), default=None)
    auth_time: Mapped[int | None] = mapped_column(Integer, default=None)
    amr: Mapped[list[str] | None] = mapped_column(JSONDoc, default=None)
    granted_scopes: Mapped[list[str] | None] = mapped_column(JSONDoc, default=None)
    access_token_lifetime: Mapped[int | None] = mapped_column(Integer, default=None)
    refresh_token_lifetime_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    refresh_token_window_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
