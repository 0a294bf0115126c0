"""``/admin/api-tokens`` (create: the token is shown once; revoke) and ``/admin/logs`` (the
system log with the API's filters: ``q``, a SCIM ``filter``, ``since``/``until``, newest first,
paged)."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.audit import query
from ostiary.domain.directory import api_tokens, search
from ostiary.domain.errors import DomainError
from ostiary.http.console.pages import (
    PREFIX,
    Admin,
    admin_page,
    admin_tx,
    error_text,
    field,
    form_action,
    render,
)
from ostiary.timeutil import parse_iso

TOKENS = f"{PREFIX}/api-tokens"
LOGS = f"{PREFIX}/logs"
PAGE_SIZE = 50


async def _tokens(
    request: Request,
    admin: Admin,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with admin_tx(request, admin) as tx:
        tokens = (await api_tokens.list_tokens(tx, after=None, limit=200)).items
    return render(
        request,
        "api_tokens.html",
        admin=admin,
        tokens=tokens,
        new_token=new_token,
        error=error,
        status=status,
    )


async def list_tokens(request: Request, admin: Admin) -> Response:
    return await _tokens(request, admin)


async def create_token(request: Request, admin: Admin) -> Response:
    form = await request.form()
    return await form_action(
        request,
        admin,
        lambda tx: api_tokens.create_token(tx, field(form, "name"), user_id=admin.user_id),
        detail=_tokens,
        show=lambda made: _tokens(request, admin, new_token=made[1]),
    )


async def revoke_token(request: Request, admin: Admin) -> Response:
    form = await request.form()
    return await form_action(
        request,
        admin,
        lambda tx: api_tokens.revoke_token(tx, field(form, "tokenId")),
        detail=_tokens,
        then=TOKENS,
    )


def _time(value: str | None) -> datetime | None:
    """An ISO 8601 instant, or a ``datetime-local`` value (read as UTC)."""
    return parse_iso(value) if value else None


async def logs(request: Request, admin: Admin) -> Response:
    params = request.query_params
    form = {name: params.get(name, "") for name in ("q", "filter", "since", "until")}
    error, events, next_cursor = None, [], None
    try:
        since, until = _time(form["since"]), _time(form["until"])
    except ValueError:
        since = until = None
        error = "since and until must be dates and times (ISO 8601)."
    if error is None:
        try:
            async with admin_tx(request, admin) as tx:
                page = await query.list_events(
                    tx,
                    since=since,
                    until=until,
                    condition=search.log_condition(form["filter"] or None),
                    q=form["q"] or None,
                    descending=True,
                    after=params.get("after") or None,
                    limit=PAGE_SIZE,
                )
            events, next_cursor = page.events, page.next_cursor
        except DomainError as exc:
            error = error_text(exc)
    return render(
        request,
        "logs.html",
        admin=admin,
        events=events,
        form=form,
        next_cursor=next_cursor,
        error=error,
        status=400 if error else 200,
    )


routes = [
    Route(TOKENS, admin_page(list_tokens), methods=["GET"]),
    Route(TOKENS, admin_page(create_token), methods=["POST"]),
    Route(TOKENS + "/revoke", admin_page(revoke_token), methods=["POST"]),
    Route(LOGS, admin_page(logs), methods=["GET"]),
]
