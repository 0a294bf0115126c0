"""Pure pieces of the user flows, tested alone: PKCE (RFC 7636), redirect URI matching, the OIDC
claims released by scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ostiary.domain.clients.redirect_uris import redirect_uri_registered
from ostiary.domain.tokens import pkce
from ostiary.domain.tokens.oidc_claims import claims_for_scopes
from ostiary.domain.tokens.token_user import TokenUser, token_user
from ostiary.store.models import User

# RFC 7636, Appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_the_rfc_example() -> None:
    assert pkce.s256(VERIFIER) == CHALLENGE
    assert pkce.verify(VERIFIER, CHALLENGE, "S256")
    assert not pkce.verify(VERIFIER[:-1] + "l", CHALLENGE, "S256")
    assert not pkce.verify(None, CHALLENGE, "S256")


def test_plain_is_refused_for_every_client() -> None:
    for public in (False, True):
        with pytest.raises(pkce.PkceError):
            pkce.check_challenge(VERIFIER, "plain", public=public, required=public)
        with pytest.raises(pkce.PkceError):
            pkce.check_challenge(VERIFIER, None, public=public, required=public)  # plain by default (§4.3)
    assert not pkce.verify(VERIFIER, VERIFIER, "plain")


@pytest.mark.parametrize(
    ("challenge", "method"),
    [("x" * 42, "S256"), ("x" * 129, "S256"), ("a b" * 20, "S256"), (CHALLENGE, "S512"), (None, "S256")],
)
def test_malformed_challenges_are_refused(challenge: str | None, method: str) -> None:
    with pytest.raises(pkce.PkceError):
        pkce.check_challenge(challenge, method, public=False, required=False)


def test_without_a_challenge_pkce_is_only_refused_when_required() -> None:
    assert pkce.check_challenge(None, None, public=False, required=False) is None
    assert pkce.verify(None, None, None) and not pkce.verify(VERIFIER, None, None)
    with pytest.raises(pkce.PkceError, match="NONE"):
        pkce.check_challenge(None, None, public=True, required=True)


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://app.example.com/cb", True),
        ("https://app.example.com/cb/", False),
        ("https://app.example.com/cb?x=1", False),
        ("https://app.example.com:443/cb", False),
        ("HTTPS://app.example.com/cb", False),
        ("https://app.example.com.evil/cb", False),
    ],
)
def test_redirect_uris_match_exactly(uri: str, ok: bool) -> None:
    assert redirect_uri_registered(uri, ["https://app.example.com/cb"]) is ok


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://t1.example.com/cb", True),
        ("https://t-2.example.com/cb", True),
        ("https://a.b.example.com/cb", False),
        ("https://example.com/cb", False),
        ("https://t1.example.com.evil/cb", False),
        ("https://t1.evilexample.com/cb", False),
        ("http://t1.example.com/cb", False),
        ("https://t1.example.com/cb?x", False),
        ("https://user@t1.example.com/cb", False),
    ],
)
def test_a_subdomain_wildcard_matches_one_label(uri: str, ok: bool) -> None:
    registered = ["https://*.example.com/cb"]
    assert redirect_uri_registered(uri, registered, wildcard=True) is ok
    assert redirect_uri_registered(uri, registered, wildcard=False) is False


def _user(**profile: str) -> TokenUser:
    """A user activated with the email of ``profile`` (so that address is verified)."""
    email = profile.get("email", "").lower() or None
    row = User(
        id="00uAbc",
        org_id="00oAbc",
        status="ACTIVE",
        login="carl@example.com",
        profile={"login": "carl@example.com", **profile},
        last_updated=datetime(2026, 1, 2, tzinfo=UTC),
        email_lower=email,
        verified_email_lower=email,
    )
    return token_user(row)


def test_scopes_release_their_standard_claims_only() -> None:
    user = _user(
        firstName="Carl", lastName="Sagan", email="carl@example.com", locale="en_US", zipCode="91101"
    )
    assert claims_for_scopes(user, ["openid"]) == {}
    assert claims_for_scopes(user, ["email"]) == {"email": "carl@example.com", "email_verified": True}
    profile = claims_for_scopes(user, ["profile"])
    assert profile["name"] == "Carl Sagan" and profile["locale"] == "en-US"
    assert profile["preferred_username"] == "carl@example.com" and profile["updated_at"] == 1767312000
    assert "email" not in profile and "middle_name" not in profile
    assert claims_for_scopes(user, ["address"]) == {"address": {"postal_code": "91101"}}
    assert claims_for_scopes(user, ["phone"]) == {}


def test_display_name_wins_over_first_and_last_name() -> None:
    user = _user(displayName="Dr. Sagan", firstName="Carl", lastName="Sagan")
    assert claims_for_scopes(user, ["profile"])["name"] == "Dr. Sagan"
