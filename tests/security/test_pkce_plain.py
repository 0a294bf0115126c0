"""F17: PKCE ``plain`` is refused for every client (RFC 9700 §2.1.1), as discovery advertises
only ``S256``. Before, a confidential client could send ``code_challenge_method=plain`` (or no
method, which RFC 7636 §4.3 reads as ``plain``) and redeem the code with the challenge itself."""

from __future__ import annotations

import httpx
import pytest

from ostiary.domain.tokens import pkce
from tests.conftest import Server
from tests.support.authorize import authorize, pkce_pair, redirected, user, web_app

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


@pytest.mark.parametrize("method", ["plain", None])
@pytest.mark.parametrize("public", [False, True])
def test_plain_is_refused_for_every_client(method: str | None, public: bool) -> None:
    with pytest.raises(pkce.PkceError, match="S256"):
        pkce.check_challenge(VERIFIER, method, public=public, required=False)


def test_a_stored_plain_challenge_no_longer_verifies() -> None:
    assert not pkce.verify(VERIFIER, VERIFIER, "plain")


@pytest.mark.parametrize("method", ["plain", None])
async def test_a_confidential_client_gets_invalid_request_for_plain(
    admin: httpx.AsyncClient, server: Server, method: str | None
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin)
    _, challenge = pkce_pair()
    async with server.client() as browser:
        response = await authorize(browser, client_id, code_challenge=challenge, code_challenge_method=method)
    error = redirected(response)
    assert error["error"] == "invalid_request"
    assert "S256" in error["error_description"]
    assert error["state"] == "st4te"


async def test_discovery_advertises_only_s256(server: Server) -> None:
    async with server.client() as client:
        doc = (await client.get("/oauth2/default/.well-known/oauth-authorization-server")).json()
    assert doc["code_challenge_methods_supported"] == ["S256"]
