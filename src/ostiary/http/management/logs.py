"""/api/v1/logs: the system log with ``since``/``until``/``filter``/``q``/``sortOrder`` and paging.

Without ``until`` and in ascending order a request is Okta's polling request: every answer, an
empty one too, carries ``Link: rel="next"`` (see :mod:`ostiary.domain.audit.query`). A bounded
request (``until``, or DESCENDING) has a ``next`` link only while more events remain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.audit import query
from ostiary.domain.directory import search
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.pagination import link_header, parse_after, parse_limit
from ostiary.http.responses import json_response
from ostiary.timeutil import parse_iso


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise OktaHTTPError(
            400, "E0000001", f"Api validation failed: {name}", [f"{name}: must be an ISO 8601 timestamp"]
        ) from None


async def list_logs(request: Request) -> Response:
    params = request.query_params
    limit = parse_limit(request, default=100, maximum=1000)
    since, until = _time_param(request, "since"), _time_param(request, "until")
    sort = (params.get("sortOrder") or "ASCENDING").upper()
    if sort not in ("ASCENDING", "DESCENDING"):
        raise OktaHTTPError(
            400,
            "E0000001",
            "Api validation failed: sortOrder",
            ["sortOrder: must be ASCENDING or DESCENDING"],
        )
    async with management_tx(request, "okta.logs.read") as tx:
        condition = search.log_condition(params.get("filter"))
        page = await query.list_events(
            tx,
            since=since,
            until=until,
            condition=condition,
            q=params.get("q"),
            descending=sort == "DESCENDING",
            after=parse_after(request, numeric=True),
            limit=limit,
            polling=until is None and sort == "ASCENDING",
        )
    events = [_without_nulls(event) for event in page.events]
    return json_response(events, headers={"Link": link_header(request, page.next_cursor)})


def _without_nulls(value: Any) -> Any:
    """An event without its ``null`` members: the spec types those fields (``client.zone``,
    ``securityContext``, ...) as strings and objects, so an unknown value is left out, not null."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


routes = [Route("/api/v1/logs", list_logs, methods=["GET"])]
