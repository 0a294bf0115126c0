"""The cache event log: where processes sharing a SQLite file announce cache invalidations
(``store.cache_events``; PostgreSQL uses ``pg_notify`` instead)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import UTCDateTime


class CacheEventRow(Base):
    __tablename__ = "cache_event_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payload: Mapped[str] = mapped_column(String(1000))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
