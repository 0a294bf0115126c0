"""One request on its way through the gateway: what each step reads and adds.

The steps (:mod:`.cors`, :mod:`.authorize`, :mod:`.body`, :mod:`.relay`) and the answers
(:mod:`.answers`) take a :class:`GatewayRequest`; the order is in :mod:`.proxy`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ostiary.gateway.config import RouteConfig
    from ostiary.gateway.metrics import GatewayMetrics
    from ostiary.gateway.state import GatewayState
    from ostiary.gateway.verifier import Principal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


class ClientDisconnected(Exception):
    pass


@dataclass(slots=True)
class GatewayRequest:
    scope: Scope
    receive: Receive
    send: Send
    state: GatewayState
    """The configuration current when the request arrived (a reload does not change it)."""
    metrics: GatewayMetrics
    method: str
    path: str
    headers: dict[bytes, bytes]
    """The request headers by name; of a repeated header, the first."""
    origin: str | None = None
    route: RouteConfig | None = None
    label: str = "(unmatched)"
    """The route as metrics name it: its path once matched."""
    extra: Headers = field(default_factory=list)
    """Headers every answer to a routed request carries (CORS, rate limits)."""
    principal: Principal | None = None
    body: bytes = b""
    answer_started: bool = False
    """Set by :mod:`.relay` before it sends the upstream's status: an upstream failure after
    that cannot be answered with a 502 any more (a flag instead of a ``send`` wrapper per call)."""
