"""Client authentication for the token, introspect and revoke endpoints, in OAuth's error shape."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ostiary.domain.clients.authentication import AuthenticatedClient, ClientAuthError, authenticate_client
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.oauth.servers import ServerContext
from ostiary.http.runtime import Runtime, runtime


async def authenticated_client(
    request: Request, session: AsyncSession, ctx: ServerContext, params: dict[str, str], endpoint: str
) -> AuthenticatedClient:
    """The authenticated, active client and the method it used (``.app``, ``.method``).

    RFC 7523 assertions must name this endpoint's URL.
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
    try:
        result = await authenticate_client(
            session,
            ctx.org.id,
            authorization_header=authorization_header,
            form=params,
            endpoint_url=url,
            accepted_audiences=[url, ctx.issuer],
            encryptor=rt.rings.encryptor,
        )
    except ClientAuthError as exc:
        headers = {"WWW-Authenticate": exc.www_authenticate} if exc.www_authenticate else None
        raise OAuthHTTPError(exc.status, exc.error, exc.description, headers) from None
    return result
