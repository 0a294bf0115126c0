"""Reading and writing the admin API's documents in the gateway's own tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ostiary.access_gateway.store import tables

RESOURCE, ATTRIBUTE, POLICY = "resource", "attribute", "policy"


def app_row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


async def get_app(conn: AsyncConnection, app_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(tables.apps).where(tables.apps.c.id == app_id))).first()
    return app_row_dict(row) if row else None


async def list_apps(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(tables.apps).order_by(tables.apps.c.created, tables.apps.c.id))).all()
    return [app_row_dict(row) for row in rows]


async def app_by_domain(conn: AsyncConnection, public_domain: str) -> dict[str, Any] | None:
    table = tables.apps
    row = (await conn.execute(select(table).where(table.c.public_domain == public_domain))).first()
    return app_row_dict(row) if row else None


async def insert_app(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(tables.apps).values(**values))


async def update_app(conn: AsyncConnection, app_id: str, **values: Any) -> None:
    await conn.execute(update(tables.apps).where(tables.apps.c.id == app_id).values(**values))


async def delete_app(conn: AsyncConnection, app_id: str) -> None:
    await conn.execute(delete(tables.sessions).where(tables.sessions.c.app_id == app_id))
    await conn.execute(delete(tables.app_parts).where(tables.app_parts.c.app_id == app_id))
    await conn.execute(delete(tables.apps).where(tables.apps.c.id == app_id))


async def conflicting_app(
    conn: AsyncConnection, *, label: str, public_domain: str, except_id: str | None
) -> str | None:
    """The member (``label`` or ``publicDomain``) another app already uses, if any."""
    table = tables.apps
    for column, value, member in (
        (table.c.label, label, "label"),
        (table.c.public_domain, public_domain, "publicDomain"),
    ):
        query = select(table.c.id).where(func.lower(column) == value.lower())
        if except_id:
            query = query.where(table.c.id != except_id)
        if (await conn.execute(query)).first() is not None:
            return member
    return None


async def list_parts(conn: AsyncConnection, app_id: str, kind: str) -> list[dict[str, Any]]:
    table = tables.app_parts
    rows = (
        await conn.execute(
            select(table).where(table.c.app_id == app_id, table.c.kind == kind).order_by(table.c.position)
        )
    ).all()
    return [{"id": row.id, **row.document} for row in rows]


async def get_part(conn: AsyncConnection, app_id: str, kind: str, part_id: str) -> dict[str, Any] | None:
    table = tables.app_parts
    row = (
        await conn.execute(
            select(table).where(table.c.app_id == app_id, table.c.kind == kind, table.c.id == part_id)
        )
    ).first()
    return {"id": row.id, **row.document} if row else None


async def insert_part(
    conn: AsyncConnection, app_id: str, kind: str, part_id: str, document: dict[str, Any]
) -> None:
    table = tables.app_parts
    last = (await conn.execute(select(func.max(table.c.position)).where(table.c.app_id == app_id))).scalar()
    await conn.execute(
        insert(table).values(
            id=part_id, app_id=app_id, kind=kind, position=(last or 0) + 1, document=document
        )
    )


async def update_part(conn: AsyncConnection, part_id: str, document: dict[str, Any]) -> None:
    await conn.execute(
        update(tables.app_parts).where(tables.app_parts.c.id == part_id).values(document=document)
    )


async def delete_part(conn: AsyncConnection, part_id: str) -> None:
    await conn.execute(delete(tables.app_parts).where(tables.app_parts.c.id == part_id))


async def get_idp(conn: AsyncConnection, idp_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(tables.idps).where(tables.idps.c.id == idp_id))).first()
    return dict(row._mapping) if row else None


async def list_idps(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(tables.idps).order_by(tables.idps.c.created, tables.idps.c.id))).all()
    return [dict(row._mapping) for row in rows]


async def idp_in_use(conn: AsyncConnection, idp_id: str) -> bool:
    found = await conn.execute(select(tables.apps.c.id).where(tables.apps.c.idp_id == idp_id).limit(1))
    return found.first() is not None


async def domain_taken(conn: AsyncConnection, domain: str, except_id: str | None) -> bool:
    query = select(tables.idps.c.id).where(func.lower(tables.idps.c.domain) == domain.lower())
    if except_id:
        query = query.where(tables.idps.c.id != except_id)
    return (await conn.execute(query)).first() is not None
