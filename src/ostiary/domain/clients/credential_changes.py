"""What changing a client's credential (a secret or a JSON Web Key) does besides the change: the
client cache forgets the app, and the system log records the event with the app and the
credential as targets. ``client_secrets`` and ``client_jwks`` decide whether a change is allowed."""

from __future__ import annotations

from ostiary.domain.audit.log import Target, record
from ostiary.domain.clients.client_cache import invalidate_client
from ostiary.domain.clients.records import app_target, get_app
from ostiary.domain.context import Tx
from ostiary.store.models import AppJwk, ClientSecret
from ostiary.timeutil import utcnow


async def set_credential_status(
    tx: Tx, row: ClientSecret | AppJwk, target: Target, status: str, event: str, message: str
) -> None:
    app = await get_app(tx, row.app_id)
    row.status = status
    row.last_updated = utcnow()
    await tx.session.flush()
    invalidate_client(app.id, tx.session)
    record(tx, event, message, [app_target(app), target])


async def delete_credential(
    tx: Tx, row: ClientSecret | AppJwk, target: Target, event: str, message: str
) -> None:
    app = await get_app(tx, row.app_id)
    await tx.session.delete(row)
    invalidate_client(app.id, tx.session)
    record(tx, event, message, [app_target(app), target])
