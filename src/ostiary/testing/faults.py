"""Make the org misbehave on purpose, through ``/__ostiary/testing`` (``serve --memory --testing``).

Every fault is reversible: :meth:`Faults.clear` removes the rules and puts the token clock back;
``OstiaryOrg.reset`` also undoes rotations and lockouts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ostiary.testing.http_client import HttpError, Reply

JWKS_PATHS = "*/v1/keys"
"""Every JWKS endpoint: ``/oauth2/v1/keys`` and ``/oauth2/{id}/v1/keys``."""

Call = Callable[[str, str, Any], Reply]


class Faults:
    def __init__(self, call: Call) -> None:
        self._call = call

    def _admin(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        reply = self._call(method, f"/__ostiary/testing{path}", body)
        if reply.status != expect:
            raise HttpError(f"{method} {path}", reply)
        return reply.json() if reply.body else None

    def add(self, path: str, **rule: Any) -> dict[str, Any]:
        """A raw rule: ``status`` (429, 500, 503), ``delaySeconds``, ``times``, ``method``,
        ``resetSeconds``, ``limit``; ``path`` is a glob (``*`` matches across ``/``)."""
        body = {"path": path, **{k: v for k, v in rule.items() if v is not None}}
        result: dict[str, Any] = self._admin("POST", "/faults", body, expect=201)
        return result

    def rate_limit(
        self, path: str, *, times: int = 1, reset_in: int = 1, method: str | None = None, limit: int = 600
    ) -> dict[str, Any]:
        """The next ``times`` requests to ``path`` get 429 ``E0000047`` with ``X-Rate-Limit-Limit``,
        ``X-Rate-Limit-Remaining: 0`` and ``X-Rate-Limit-Reset`` ``reset_in`` seconds ahead."""
        return self.add(path, status=429, times=times, resetSeconds=reset_in, method=method, limit=limit)

    def error(self, path: str, status: int = 500, *, times: int | None = 1, method: str | None = None) -> Any:
        """The next ``times`` requests (``None``: until cleared) get ``status`` (500 or 503)."""
        return self.add(path, status=status, times=times, method=method)

    def delay(self, path: str, seconds: float, *, times: int | None = None, method: str | None = None) -> Any:
        """Requests to ``path`` wait ``seconds`` before they are answered."""
        return self.add(path, delaySeconds=seconds, times=times, method=method)

    def jwks_down(self) -> dict[str, Any]:
        """Every JWKS endpoint answers 503 until :meth:`clear` (or removing the returned rule)."""
        return self.add(JWKS_PATHS, status=503)

    def remove(self, rule_id: str) -> None:
        self._admin("DELETE", f"/faults/{rule_id}", expect=204)

    def rules(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._admin("GET", "/faults")
        return result

    def rotate_keys(self, server_id: str | None = "default") -> str:
        """Rotate a server's signing keys now (``None``: the org authorization server); the new
        active ``kid``. The old key stays on the JWKS, as after Okta's own rotation."""
        body = {} if server_id is None else {"authorizationServerId": server_id}
        result = self._admin("POST", "/keys/rotate", body)
        return str(result["activeKid"])

    def skew_clock(self, seconds: float) -> None:
        """Tokens are minted as if the server's clock were ``seconds`` ahead (negative: behind),
        so they come out expired or not yet valid for a verifier on the real clock."""
        self._admin("PUT", "/clock", {"skewSeconds": seconds})

    def lock_out(self, login: str) -> None:
        """Lock the user out, as too many failed sign-ins would."""
        self._admin("POST", f"/users/{login}/lock")

    def clear(self) -> None:
        """No fault rule left for this org; the token clock back on time."""
        self._admin("DELETE", "/faults", expect=204)
