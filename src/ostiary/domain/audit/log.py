"""System log: every write records an event with actor, target and outcome (Okta's LogEvent)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ostiary.domain.context import Tx
from ostiary.store import log_rows
from ostiary.timeutil import iso, utcnow


@dataclass(frozen=True)
class Target:
    id: str
    type: str
    alternate_id: str
    display_name: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "alternateId": self.alternate_id,
            "displayName": self.display_name,
            "detailEntry": None,
        }


def record(
    tx: Tx,
    event_type: str,
    message: str,
    targets: Sequence[Target] = (),
    *,
    result: str = "SUCCESS",
    reason: str | None = None,
    severity: str = "INFO",
) -> dict[str, Any]:
    """Add a log event to the current transaction (it commits or rolls back with the change);
    the row returned is what is written (``store/log_rows.py``), without its ``seq``."""
    row = event_row(tx, event_type, message, targets, result=result, reason=reason, severity=severity)
    log_rows.hold(tx.session, row)
    return row


def event_row(
    tx: Tx,
    event_type: str,
    message: str,
    targets: Sequence[Target] = (),
    *,
    result: str = "SUCCESS",
    reason: str | None = None,
    severity: str = "INFO",
) -> dict[str, Any]:
    """The ``log_events`` row of an event (every column but ``seq``), not written."""
    now = utcnow()
    event_id = str(uuid.uuid4())
    actor = tx.actor
    body: dict[str, Any] = {
        "uuid": event_id,
        "published": iso(now),
        "eventType": event_type,
        "version": "0",
        "severity": severity,
        "displayMessage": message,
        "legacyEventType": None,
        "actor": {
            "id": actor.id,
            "type": actor.type,
            "alternateId": actor.alternate_id,
            "displayName": actor.display_name,
            "detailEntry": None,
        },
        "client": {
            "ipAddress": tx.client.ip_address,
            "userAgent": {"rawUserAgent": tx.client.user_agent, "os": None, "browser": None},
            "zone": None,
            "device": None,
        },
        "outcome": {"result": result, "reason": reason},
        "target": [t.as_json() for t in targets],
        "transaction": {"type": "WEB", "id": tx.client.request_id, "detail": {}},
        "debugContext": {"debugData": {"requestId": tx.client.request_id}},
        "authenticationContext": None,
        "securityContext": None,
    }
    return {
        "uuid": event_id,
        "org_id": tx.org_id,
        "published": now,
        "event_type": event_type,
        "severity": severity,
        "actor_id": actor.id,
        "target_ids": "," + ",".join(t.id for t in targets) + "," if targets else "",
        "outcome_result": result,
        "body": body,
    }
