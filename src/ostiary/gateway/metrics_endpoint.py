"""``/metrics`` (Prometheus text): served if enabled and either public or asked for with the
metrics token (compared as SHA-256 digests in constant time)."""

from __future__ import annotations

import hashlib
import hmac

from ostiary.bearer import bearer_token, invalid_token
from ostiary.gateway.answers import send_bearer_error, send_error
from ostiary.gateway.config import GatewayConfig
from ostiary.gateway.metrics import CONTENT_TYPE, GatewayMetrics
from ostiary.gateway.request import GatewayRequest, Headers

METRICS_REALM = "ostiary-metrics"
LABEL = "(metrics)"


class MetricsEndpoint:
    def __init__(self, metrics: GatewayMetrics, token: str | None) -> None:
        self.metrics = metrics
        self._token_digest = hashlib.sha256(token.encode()).digest() if token else None

    def serves(self, config: GatewayConfig) -> bool:
        """Metrics are served if enabled and either public or protected by a token."""
        return config.metrics.enabled and (config.metrics.public or self._token_digest is not None)

    def _caller_ok(self, headers: Headers) -> bool:
        values = [value for name, value in headers if name == b"authorization"]
        token = bearer_token(values[0].decode("latin-1")) if len(values) == 1 else None
        if not token or self._token_digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._token_digest)

    async def answer(self, request: GatewayRequest) -> None:
        method = request.method
        if not request.state.config.metrics.public and not self._caller_ok(request.scope["headers"]):
            error = invalid_token("The metrics token is missing or wrong.", realm=METRICS_REALM)
            await send_bearer_error(request, error, [], label=LABEL)
            return
        if method not in ("GET", "HEAD"):
            await send_error(
                request, 405, "method_not_allowed", "Use GET.", [(b"allow", b"GET, HEAD")], label=LABEL
            )
            return
        self.metrics.count_request(LABEL, method, 200)
        body = self.metrics.render().encode()
        headers = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode())]
        await request.send({"type": "http.response.start", "status": 200, "headers": headers})
        await request.send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
