"""Client authentication for the token, introspect and revoke endpoints, in OAuth's error shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ostiary.domain.clients.authentication import AuthenticatedClient, authenticate_client
from ostiary.domain.clients.client_assertions import CLIENT_SECRET_JWT, PRIVATE_KEY_JWT
from ostiary.http.oauth.server_context import ServerContext
from ostiary.http.runtime import Runtime, runtime

T = TypeVar("T")
ASSERTION_METHODS = frozenset({PRIVATE_KEY_JWT, CLIENT_SECRET_JWT})


async def authenticated_client(
    request: Request, session: AsyncSession, ctx: ServerContext, params: dict[str, str], endpoint: str
) -> AuthenticatedClient:
    """The authenticated, active client and the method it used (``.app``, ``.method``).

    RFC 7523 assertions must name this endpoint's URL as ``aud``, and only it: not the issuer
    (for the org authorization server, the org URL), not another endpoint (Okta: "must be the
    endpoint invoked for the request"), so that an assertion cannot be replayed elsewhere.
    """
    return await client_for(
        runtime(request), session, ctx, params, endpoint, request.headers.get("authorization")
    )


async def client_for(
    rt: Runtime,
    session: AsyncSession,
    ctx: ServerContext,
    params: dict[str, str],
    endpoint: str,
    authorization_header: str | None,
) -> AuthenticatedClient:
    """:func:`authenticated_client` from the ``Authorization`` header's value."""
    url = ctx.endpoint(endpoint)
    storage = rt.token_storage(session)
    return await authenticate_client(
        storage.clients,
        storage.assertions,
        ctx.org.id,
        authorization_header=authorization_header,
        form=params,
        endpoint_url=url,
        encryptor=rt.rings.encryptor,
    )


async def with_authenticated_client(
    request: Request,
    ctx: ServerContext,
    params: dict[str, str],
    endpoint: str,
    step: Callable[[AsyncSession, AuthenticatedClient], Awaitable[T]],
) -> T:
    """Authenticate the client, then run ``step`` in the same transaction.

    A client assertion's ``jti`` is used up by authentication whatever follows (RFC 7523 §3):
    when ``step`` fails, a savepoint undoes its own writes only and the transaction, with the
    ``jti``, commits before the error goes on (as the token endpoint does).
    """
    async with runtime(request).db.session() as session:
        caller = await authenticated_client(request, session, ctx, params, endpoint)
        outcome = await _run_step(step, session, caller)
    if isinstance(outcome, _Failed):
        raise outcome.error  # the transaction, with the jti, committed above
    return outcome


async def with_client_lazily(
    rt: Runtime,
    ctx: ServerContext,
    params: dict[str, str],
    endpoint: str,
    authorization_header: str | None,
    step: Callable[[AsyncSession, AuthenticatedClient], Awaitable[T]],
) -> T:
    """:func:`with_authenticated_client` for the fast paths (``http.fast_routes``): the
    ``Authorization`` header's value instead of a ``Request``, and a lazy session, so a request
    answered from the caches (client, keys, unrevoked ``jti``) opens none."""
    async with rt.db.lazy_session() as session:
        caller = await client_for(rt, session, ctx, params, endpoint, authorization_header)
        outcome = await _run_step(step, session, caller)
    if isinstance(outcome, _Failed):
        raise outcome.error  # the transaction, with the jti, committed above
    return outcome


async def _run_step(
    step: Callable[[AsyncSession, AuthenticatedClient], Awaitable[T]],
    session: AsyncSession,
    caller: AuthenticatedClient,
) -> T | _Failed:
    if caller.method not in ASSERTION_METHODS:
        return await step(session, caller)
    return await _failure_kept(step, session, caller)


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


async def _failure_kept(
    step: Callable[[AsyncSession, AuthenticatedClient], Awaitable[T]],
    session: AsyncSession,
    caller: AuthenticatedClient,
) -> T | _Failed:
    """``step``'s result, or its error as a value, so the transaction commits: a savepoint undoes
    the step's own writes only."""
    try:
        async with session.begin_nested():
            return await step(session, caller)
    except Exception as exc:  # raised by the caller once the jti is committed
        return _Failed(exc)
