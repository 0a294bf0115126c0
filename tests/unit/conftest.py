"""Fixtures shared by the unit tests of the jose package."""

from __future__ import annotations

import pytest

from ostiary.jose.signing_keys import SigningKey, generate_signing_key


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    """An RS256 signing key, one per test module."""
    return generate_signing_key("RS256")


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    """An ES256 signing key, one per test module."""
    return generate_signing_key("ES256")
