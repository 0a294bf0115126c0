"""The integration catalog: entries a publisher org creates and submits and an instance
operator approves or rejects, and the operator's one-step ``publish``.

Status: DRAFT → SUBMITTED → ACTIVE, or REJECTED (with a reason; a rejected entry may be
changed, which makes it a DRAFT again). A publisher may change its entry while it is a DRAFT
or REJECTED. An ACTIVE entry can be installed into any org; a DRAFT or SUBMITTED one only into
its publisher's org (the seed's "Test in Okta"); a REJECTED one nowhere.

Entries are read from the database on every request (no cache), so an entry published by
the CLI while ``serve`` runs can be installed at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select

from ostiary.domain.audit.log import Target, record
from ostiary.domain.clients.records import validation_error
from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.domain.integrations.entries import EntryFields, parse_entry
from ostiary.domain.unique_rows import flush_unique
from ostiary.store.models.integrations import IntegrationEntry
from ostiary.timeutil import utcnow

DRAFT: Final = "DRAFT"
SUBMITTED: Final = "SUBMITTED"
ACTIVE: Final = "ACTIVE"
REJECTED: Final = "REJECTED"
STATUSES: Final = frozenset({DRAFT, SUBMITTED, ACTIVE, REJECTED})
MAX_REASON = 2000
_DONE: Final = {"submit": "submitted", "approve": "approved", "reject": "rejected"}


@dataclass(frozen=True)
class Entry:
    """A catalog entry as the API shows it."""

    type: str
    publisher_org_id: str
    name: str
    description: str | None
    logo_url: str | None
    config_guide_url: str | None
    scopes: tuple[str, ...]
    properties: tuple[Mapping[str, Any], ...]
    status: str
    status_reason: str | None
    created: datetime
    last_updated: datetime


def _view(row: IntegrationEntry) -> Entry:
    return Entry(
        type=row.type,
        publisher_org_id=row.publisher_org_id,
        name=row.name,
        description=row.description,
        logo_url=row.logo_url,
        config_guide_url=row.config_guide_url,
        scopes=tuple(row.scopes),
        properties=tuple(row.properties),
        status=row.status,
        status_reason=row.status_reason,
        created=row.created,
        last_updated=row.last_updated,
    )


def not_found(entry_type: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {entry_type} (ApiServiceIntegration)", code="E0000007")


def _target(row: IntegrationEntry) -> Target:
    return Target(row.type, "ApiServiceIntegration", row.type, row.name)


def may_install(row: IntegrationEntry | Entry, org_id: str) -> bool:
    if row.status == ACTIVE:
        return True
    return row.status in (DRAFT, SUBMITTED) and row.publisher_org_id == org_id


async def _row(tx: Tx, entry_type: str) -> IntegrationEntry | None:
    return await tx.session.get(IntegrationEntry, entry_type)


async def installable(tx: Tx, entry_type: str) -> IntegrationEntry | None:
    """The entry ``entry_type`` if this org may install it, else None."""
    row = await _row(tx, entry_type)
    return row if row is not None and may_install(row, tx.org_id) else None


async def catalog(tx: Tx) -> list[Entry]:
    """What this org may install: every ACTIVE entry and its own DRAFT and SUBMITTED ones."""
    stmt = select(IntegrationEntry).where(
        or_(
            IntegrationEntry.status == ACTIVE,
            (IntegrationEntry.publisher_org_id == tx.org_id)
            & IntegrationEntry.status.in_([DRAFT, SUBMITTED]),
        )
    )
    return [_view(row) for row in (await tx.session.scalars(stmt.order_by(IntegrationEntry.type))).all()]


async def catalog_entry(tx: Tx, entry_type: str) -> Entry:
    row = await installable(tx, entry_type)
    if row is None:
        raise not_found(entry_type)
    return _view(row)


# --- publisher ------------------------------------------------------------------------------


async def submissions(tx: Tx, *, every_org: bool = False, status: str | None = None) -> list[Entry]:
    """The entries this org publishes (``every_org``: all of them, for the operator)."""
    if status is not None and status not in STATUSES:
        raise validation_error("status", f"status: must be one of {', '.join(sorted(STATUSES))}")
    stmt = select(IntegrationEntry)
    if not every_org:
        stmt = stmt.where(IntegrationEntry.publisher_org_id == tx.org_id)
    if status is not None:
        stmt = stmt.where(IntegrationEntry.status == status)
    return [_view(row) for row in (await tx.session.scalars(stmt.order_by(IntegrationEntry.type))).all()]


async def submission(tx: Tx, entry_type: str, *, operator: bool = False) -> Entry:
    return _view(await _own_row(tx, entry_type, operator=operator))


async def _own_row(tx: Tx, entry_type: str, *, operator: bool = False) -> IntegrationEntry:
    """The entry, if this org publishes it (any entry for the operator); 404 otherwise, so an
    org learns nothing of other orgs' drafts."""
    row = await _row(tx, entry_type)
    if row is None or not (operator or row.publisher_org_id == tx.org_id):
        raise not_found(entry_type)
    return row


async def create_entry(tx: Tx, body: Mapping[str, Any]) -> Entry:
    fields = parse_entry(body)
    if await _row(tx, fields.type) is not None:
        raise _type_taken(fields.type)
    now = utcnow()
    row = IntegrationEntry(
        type=fields.type, publisher_org_id=tx.org_id, status=DRAFT, status_reason=None, created=now
    )
    _apply(row, fields, now)
    tx.session.add(row)
    await flush_unique(tx.session, lambda: _type_taken(fields.type))  # a concurrent create
    record(tx, "ostiary.integration.entry.create", "Create API service integration entry", [_target(row)])
    return _view(row)


def _type_taken(entry_type: str) -> Exception:
    return validation_error("type", f"type: An integration of type '{entry_type}' already exists")


def _apply(row: IntegrationEntry, fields: EntryFields, now: datetime) -> None:
    row.name = fields.name
    row.description = fields.description
    row.logo_url = fields.logo_url
    row.config_guide_url = fields.config_guide_url
    row.scopes = list(fields.scopes)
    row.properties = [dict(p) for p in fields.properties]
    row.last_updated = now


async def replace_entry(tx: Tx, entry_type: str, body: Mapping[str, Any]) -> Entry:
    row = await _own_row(tx, entry_type)
    fields = parse_entry(body, type_from_path=entry_type)
    if row.status not in (DRAFT, REJECTED):
        raise _wrong_status(row, "changed", (DRAFT, REJECTED))
    _apply(row, fields, utcnow())
    row.status, row.status_reason = DRAFT, None
    await tx.session.flush()
    record(tx, "ostiary.integration.entry.update", "Update API service integration entry", [_target(row)])
    return _view(row)


async def submit_entry(tx: Tx, entry_type: str) -> Entry:
    row = await _own_row(tx, entry_type)
    return await _move(tx, row, (DRAFT,), SUBMITTED, "submit", "Submit API service integration for review")


# --- operator -------------------------------------------------------------------------------


async def approve_entry(tx: Tx, entry_type: str) -> Entry:
    row = await _own_row(tx, entry_type, operator=True)
    return await _move(tx, row, (SUBMITTED,), ACTIVE, "approve", "Approve API service integration")


async def reject_entry(tx: Tx, entry_type: str, body: Mapping[str, Any]) -> Entry:
    row = await _own_row(tx, entry_type, operator=True)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise validation_error("reason", f"reason: A reason of 1 to {MAX_REASON} characters is required")
    return await _move(
        tx, row, (SUBMITTED,), REJECTED, "reject", "Reject API service integration", reason=reason.strip()
    )


async def publish_entry(tx: Tx, body: Mapping[str, Any]) -> Entry:
    """Create or replace an entry and make it ACTIVE at once (``ostiary integration publish``).
    A new entry's publisher is ``tx``'s org; an existing one keeps its publisher."""
    fields = parse_entry(body)
    now = utcnow()
    row = await _row(tx, fields.type)
    if row is None:
        row = IntegrationEntry(type=fields.type, publisher_org_id=tx.org_id, created=now)
        tx.session.add(row)
    _apply(row, fields, now)
    row.status, row.status_reason = ACTIVE, None
    await tx.session.flush()
    record(tx, "ostiary.integration.entry.publish", "Publish API service integration", [_target(row)])
    return _view(row)


async def _move(
    tx: Tx,
    row: IntegrationEntry,
    allowed: Sequence[str],
    status: str,
    verb: str,
    message: str,
    *,
    reason: str | None = None,
) -> Entry:
    if row.status not in allowed:
        raise _wrong_status(row, _DONE[verb], allowed)
    row.status, row.status_reason = status, reason
    row.last_updated = utcnow()
    await tx.session.flush()
    record(tx, f"ostiary.integration.entry.{verb}", message, [_target(row)], reason=reason)
    return _view(row)


def _wrong_status(row: IntegrationEntry, done: str, allowed: Sequence[str]) -> Exception:
    return validation_error(
        "status", f"status: A {row.status} entry cannot be {done} (only {' or '.join(allowed)})"
    )
