"""The org's user profile schema: the custom attributes declared on top of Okta's base ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class UserSchema(Base):
    """One row per org once a custom attribute has been declared (absent: base attributes only).
    ``custom`` maps an attribute name to its JSON-schema property as the API took it."""

    __tablename__ = "user_schemas"

    org_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    custom: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
