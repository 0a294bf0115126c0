"""Device codes in SQL: the ``DeviceCodeStore`` of ``domain.tokens.storage``. Redemption is one
conditional UPDATE (``APPROVED`` → ``USED``), so two concurrent polls cannot both get tokens."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ostiary.store.models.device_codes import DeviceCode


class SqlDeviceCodes:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, device_code_hash: str) -> DeviceCode | None:
        return await self.session.get(DeviceCode, device_code_hash)

    async def redeem(self, row: DeviceCode) -> bool:
        result = await self.session.execute(
            update(DeviceCode)
            .where(DeviceCode.device_code_hash == row.device_code_hash, DeviceCode.status == "APPROVED")
            .values(status="USED")
            .returning(DeviceCode.device_code_hash)
            .execution_options(synchronize_session=False)
        )
        won = result.scalar_one_or_none() is not None
        if won:
            set_committed_value(row, "status", "USED")
        return won
