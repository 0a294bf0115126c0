"""Start-up work shared by the command and tests: migrate, record the public URL, make the
public host's certificate."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from ostiary.access_gateway.admin.certificates import ensure_public_host_certificate
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.access_gateway.store import migrate, tables

PUBLIC_URL = "public_url"


async def prepare(runtime: GatewayRuntime, *, record_public_url: bool = True) -> None:
    await migrate.upgrade(runtime.engine)
    if record_public_url:
        async with runtime.engine.begin() as conn:
            await conn.execute(delete(tables.settings).where(tables.settings.c.name == PUBLIC_URL))
            await conn.execute(
                insert(tables.settings).values(name=PUBLIC_URL, value=runtime.config.public_url)
            )
        await ensure_public_host_certificate(runtime)


async def stored_public_url(runtime: GatewayRuntime) -> str | None:
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(select(tables.settings.c.value).where(tables.settings.c.name == PUBLIC_URL))
        ).first()
    return str(row.value) if row else None
