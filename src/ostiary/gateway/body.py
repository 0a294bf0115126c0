"""The request body, read whole up to ``limits.max_request_body`` (413 beyond, 400 for a bad
``Content-Length``) before the upstream is called."""

from __future__ import annotations

from ostiary.gateway.answers import send_error, send_too_large
from ostiary.gateway.request import ClientDisconnected, GatewayRequest


async def read_body(request: GatewayRequest) -> bool:
    """Read the body into ``request.body``; False if refused (answered)."""
    limit = request.state.config.limits.max_request_body
    headers = request.headers
    declared = headers.get(b"content-length")
    if declared is None and b"transfer-encoding" not in headers and request.method in ("GET", "HEAD"):
        return True  # HTTP/1.1: no length and no chunking means no body
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            await send_error(request, 400, "invalid_request", "Bad Content-Length.")
            return False
        if length > limit:
            await send_too_large(request)
            return False
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await send_too_large(request)
            return False
        chunks.append(chunk)
        if not message.get("more_body", False):
            request.body = b"".join(chunks)
            return True
