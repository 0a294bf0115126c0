"""Signing keys, JWK thumbprints, client JWK parsing and key encryption at rest."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ostiary.jose.b64 import b64url_decode
from ostiary.jose.key_encryption import (
    KeyDecryptionError,
    KeyEncryptor,
    associated_data,
    master_key_from_env_or_file,
)
from ostiary.jose.signing_keys import (
    InvalidJwk,
    SigningAlg,
    SigningKey,
    generate_signing_key,
    jwk_thumbprint,
    load_signing_key,
    public_jwk_from_dict,
)

# RFC 7638 §3.1: this JWK's SHA-256 thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
RFC7638_JWK = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKR"
    "XjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8K"
    "JZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIq"
    "bw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
B64URL_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _pem(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _b64url_32(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- thumbprints and kids ------------------------------------------------------------


def test_thumbprint_of_the_rfc7638_example_jwk_is_the_published_value() -> None:
    assert jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT


def test_thumbprint_ignores_members_that_rfc7638_does_not_require() -> None:
    bare = {name: RFC7638_JWK[name] for name in ("kty", "n", "e")}
    assert jwk_thumbprint(bare) == jwk_thumbprint({**RFC7638_JWK, "use": "sig", "kid": "other"})


def test_thumbprint_refuses_a_jwk_missing_a_required_member() -> None:
    with pytest.raises(ValueError, match="'n'"):
        jwk_thumbprint({"kty": "RSA", "e": "AQAB"})


def test_thumbprint_refuses_an_unknown_kty() -> None:
    with pytest.raises(ValueError, match="kty"):
        jwk_thumbprint({"kty": "XYZ"})


def test_kid_of_a_generated_rsa_key_is_the_thumbprint_of_its_public_jwk(rsa_key: SigningKey) -> None:
    assert rsa_key.kid == jwk_thumbprint(rsa_key.public_jwk())
    assert len(rsa_key.kid) == 43


def test_kid_of_a_generated_ec_key_is_the_thumbprint_of_its_public_jwk(ec_key: SigningKey) -> None:
    assert ec_key.kid == jwk_thumbprint(ec_key.public_jwk())
    assert len(ec_key.kid) == 43


def test_two_generated_keys_have_different_kids() -> None:
    assert generate_signing_key("ES256").kid != generate_signing_key("ES256").kid


# --- generated keys and their public JWKs --------------------------------------------


def test_generated_rs256_key_is_rsa_2048_with_exponent_65537(rsa_key: SigningKey) -> None:
    assert isinstance(rsa_key.private_key, rsa.RSAPrivateKey)
    assert rsa_key.private_key.key_size == 2048
    assert rsa_key.private_key.public_key().public_numbers().e == 65537
    assert rsa_key.alg == "RS256"


def test_generated_es256_key_is_on_p256(ec_key: SigningKey) -> None:
    assert isinstance(ec_key.private_key, ec.EllipticCurvePrivateKey)
    assert isinstance(ec_key.private_key.curve, ec.SECP256R1)
    assert ec_key.alg == "ES256"


def test_generating_a_key_for_an_unsupported_alg_is_refused() -> None:
    with pytest.raises(ValueError, match="HS256"):
        generate_signing_key(cast(SigningAlg, "HS256"))


def test_rsa_public_jwk_has_oktas_members_in_oktas_order(rsa_key: SigningKey) -> None:
    jwk = rsa_key.public_jwk()
    assert list(jwk) == ["kty", "alg", "kid", "use", "e", "n"]
    assert (jwk["kty"], jwk["alg"], jwk["kid"], jwk["use"], jwk["e"]) == (
        "RSA",
        "RS256",
        rsa_key.kid,
        "sig",
        "AQAB",
    )


def test_rsa_public_jwk_modulus_is_unpadded_base64url_of_256_bytes(rsa_key: SigningKey) -> None:
    n = rsa_key.public_jwk()["n"]
    assert set(n) <= B64URL_ALPHABET
    modulus = b64url_decode(n)
    assert len(modulus) == 256
    assert isinstance(rsa_key.private_key, rsa.RSAPrivateKey)
    assert int.from_bytes(modulus, "big") == rsa_key.private_key.public_key().public_numbers().n


def test_ec_public_jwk_has_crv_and_fixed_length_coordinates(ec_key: SigningKey) -> None:
    jwk = ec_key.public_jwk()
    assert list(jwk) == ["kty", "crv", "x", "y", "alg", "kid", "use"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert isinstance(ec_key.private_key, ec.EllipticCurvePrivateKey)
    numbers = ec_key.private_key.public_key().public_numbers()
    assert b64url_decode(jwk["x"]) == numbers.x.to_bytes(32, "big")
    assert b64url_decode(jwk["y"]) == numbers.y.to_bytes(32, "big")
    assert len(jwk["x"]) == len(jwk["y"]) == 43


def test_public_jwk_contains_no_private_members(rsa_key: SigningKey, ec_key: SigningKey) -> None:
    for key in (rsa_key, ec_key):
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key.public_jwk())


def test_repr_of_a_signing_key_does_not_show_the_private_key(rsa_key: SigningKey) -> None:
    assert "private_key" not in repr(rsa_key)


# --- PEM round trip and alg pinning --------------------------------------------------


def test_private_pem_is_unencrypted_pkcs8(rsa_key: SigningKey) -> None:
    assert rsa_key.private_pem().startswith(b"-----BEGIN PRIVATE KEY-----\n")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_loaded_key_has_the_same_public_jwk_as_the_original(alg: SigningAlg) -> None:
    original = generate_signing_key(alg)
    loaded = load_signing_key(original.private_pem(), alg, original.kid)
    assert loaded.public_jwk() == original.public_jwk()


def test_loading_an_rsa_key_as_es256_is_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="ES256 needs a P-256"):
        load_signing_key(rsa_key.private_pem(), "ES256", rsa_key.kid)


def test_loading_an_ec_key_as_rs256_is_refused(ec_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="RS256 needs an RSA"):
        load_signing_key(ec_key.private_pem(), "RS256", ec_key.kid)


def test_loading_an_rsa_key_smaller_than_2048_bits_is_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="at least 2048 bits"):
        load_signing_key(_pem(small), "RS256", "kid")


def test_loading_a_p384_key_as_es256_is_refused() -> None:
    with pytest.raises(ValueError, match="P-256"):
        load_signing_key(_pem(ec.generate_private_key(ec.SECP384R1())), "ES256", "kid")


def test_loading_a_key_for_an_unsupported_alg_is_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="RS512"):
        load_signing_key(rsa_key.private_pem(), "RS512", rsa_key.kid)


def test_loading_garbage_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as raised:
        load_signing_key(b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n", "RS256", "k")
    assert "c2VjcmV0" not in str(raised.value)


def test_a_signing_key_cannot_be_built_with_a_mismatched_alg(rsa_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="ES256"):
        SigningKey(kid="k", alg="ES256", private_key=rsa_key.private_key)


def test_protected_header_is_precomputed_as_kid_then_alg(rsa_key: SigningKey) -> None:
    header = json.loads(b64url_decode(rsa_key.protected_header_b64.decode()))
    assert list(header.items()) == [("kid", rsa_key.kid), ("alg", "RS256")]


# --- client JWKs (private_key_jwt) ---------------------------------------------------


def test_an_rsa_client_jwk_without_alg_is_pinned_to_rs256(rsa_key: SigningKey) -> None:
    jwk = {k: v for k, v in rsa_key.public_jwk().items() if k != "alg"}
    pinned = public_jwk_from_dict(jwk)
    assert pinned.alg == "RS256"
    assert isinstance(pinned.key, rsa.RSAPublicKey)
    assert pinned.key.public_numbers() == rsa_key.private_key.public_key().public_numbers()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_an_rsa_client_jwk_keeps_its_declared_rsa_alg(rsa_key: SigningKey, alg: str) -> None:
    assert public_jwk_from_dict({**rsa_key.public_jwk(), "alg": alg}).alg == alg


def test_an_ec_p256_client_jwk_is_pinned_to_es256(ec_key: SigningKey) -> None:
    jwk = {k: v for k, v in ec_key.public_jwk().items() if k != "alg"}
    pinned = public_jwk_from_dict(jwk)
    assert pinned.alg == "ES256"
    assert isinstance(pinned.key, ec.EllipticCurvePublicKey)
    assert pinned.key.public_numbers() == ec_key.private_key.public_key().public_numbers()


def test_the_rfc7638_example_jwk_is_accepted_as_a_client_key() -> None:
    assert public_jwk_from_dict(RFC7638_JWK).alg == "RS256"


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth"])
def test_a_client_jwk_with_a_private_member_is_refused(rsa_key: SigningKey, member: str) -> None:
    with pytest.raises(InvalidJwk, match="private"):
        public_jwk_from_dict({**rsa_key.public_jwk(), member: "AQAB"})


def test_a_client_ec_jwk_with_d_is_refused(ec_key: SigningKey) -> None:
    with pytest.raises(InvalidJwk, match="private"):
        public_jwk_from_dict({**ec_key.public_jwk(), "d": "AQAB"})


def test_a_symmetric_oct_jwk_is_refused() -> None:
    with pytest.raises(InvalidJwk):
        public_jwk_from_dict({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"})


def test_an_oct_jwk_without_k_is_refused_for_its_kty() -> None:
    with pytest.raises(InvalidJwk, match="kty"):
        public_jwk_from_dict({"kty": "oct", "alg": "HS256"})


@pytest.mark.parametrize("kty", ["OKP", "rsa", "", None])
def test_an_unknown_kty_is_refused(kty: str | None) -> None:
    with pytest.raises(InvalidJwk, match="kty"):
        public_jwk_from_dict({"kty": kty, "crv": "Ed25519", "x": "AQAB"})


def test_an_rsa_client_key_smaller_than_2048_bits_is_refused() -> None:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()
    jwk = {"kty": "RSA", "e": "AQAB", "n": _b64url_32(numbers.n.to_bytes(128, "big"))}
    with pytest.raises(InvalidJwk, match="1024 bits"):
        public_jwk_from_dict(jwk)


def test_an_rsa_client_key_with_a_huge_exponent_is_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(InvalidJwk, match="exponent"):
        public_jwk_from_dict({**rsa_key.public_jwk(), "e": _b64url_32(b"\x01" * 9)})


@pytest.mark.parametrize("alg", ["ES256", "HS256", "PS256", "none", "RS1"])
def test_an_rsa_client_jwk_declaring_a_non_rsa_pkcs1_alg_is_refused(rsa_key: SigningKey, alg: str) -> None:
    with pytest.raises(InvalidJwk, match="does not fit"):
        public_jwk_from_dict({**rsa_key.public_jwk(), "alg": alg})


@pytest.mark.parametrize("alg", ["RS256", "ES384", "HS256", "none"])
def test_an_ec_client_jwk_declaring_another_alg_is_refused(ec_key: SigningKey, alg: str) -> None:
    with pytest.raises(InvalidJwk, match="does not fit"):
        public_jwk_from_dict({**ec_key.public_jwk(), "alg": alg})


def test_an_ec_client_jwk_on_another_curve_is_refused() -> None:
    numbers = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-384",
        "x": _b64url_32(numbers.x.to_bytes(48, "big")),
        "y": _b64url_32(numbers.y.to_bytes(48, "big")),
    }
    with pytest.raises(InvalidJwk, match="P-384"):
        public_jwk_from_dict(jwk)


def test_an_ec_client_jwk_whose_point_is_not_on_the_curve_is_refused(ec_key: SigningKey) -> None:
    jwk = {**ec_key.public_jwk(), "y": _b64url_32((1).to_bytes(32, "big"))}
    with pytest.raises(InvalidJwk, match="curve"):
        public_jwk_from_dict(jwk)


def test_an_ec_client_jwk_with_short_coordinates_is_refused(ec_key: SigningKey) -> None:
    with pytest.raises(InvalidJwk, match="32 bytes"):
        public_jwk_from_dict({**ec_key.public_jwk(), "x": "AQAB"})


def test_a_client_jwk_for_encryption_is_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(InvalidJwk, match="use"):
        public_jwk_from_dict({**rsa_key.public_jwk(), "use": "enc"})


def test_a_client_jwk_whose_key_ops_exclude_verify_is_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(InvalidJwk, match="key_ops"):
        public_jwk_from_dict({**rsa_key.public_jwk(), "key_ops": ["encrypt"]})


@pytest.mark.parametrize("n", ["AQAB=", "AQ+B", "AQ/B", "AQ AB", 12345])
def test_a_client_jwk_with_a_member_that_is_not_unpadded_base64url_is_refused(n: object) -> None:
    with pytest.raises(InvalidJwk, match="'n'"):
        public_jwk_from_dict({"kty": "RSA", "e": "AQAB", "n": n})


# --- encryption at rest --------------------------------------------------------------

MASTER_KEY = bytes(range(32))
ROW = associated_data("00o1abc", "kid-1")


def test_an_encrypted_key_decrypts_to_the_original(rsa_key: SigningKey) -> None:
    encryptor = KeyEncryptor(MASTER_KEY)
    sealed = encryptor.encrypt(rsa_key.private_pem(), associated_data=ROW)
    assert encryptor.decrypt(sealed, associated_data=ROW) == rsa_key.private_pem()


def test_ciphertext_is_versioned_base64url_of_nonce_ciphertext_and_tag() -> None:
    sealed = KeyEncryptor(MASTER_KEY).encrypt(b"pem", associated_data=ROW)
    assert sealed.startswith("v1.")
    assert len(b64url_decode(sealed[3:])) == 12 + 3 + 16


def test_encrypting_twice_uses_fresh_nonces() -> None:
    encryptor = KeyEncryptor(MASTER_KEY)
    assert encryptor.encrypt(b"pem", associated_data=ROW) != encryptor.encrypt(b"pem", associated_data=ROW)


def test_a_tampered_ciphertext_is_refused() -> None:
    encryptor = KeyEncryptor(MASTER_KEY)
    sealed = encryptor.encrypt(b"private key pem", associated_data=ROW)
    body = bytearray(b64url_decode(sealed[3:]))
    body[20] ^= 0x01
    with pytest.raises(KeyDecryptionError):
        encryptor.decrypt("v1." + _b64url_32(bytes(body)), associated_data=ROW)


def test_a_ciphertext_moved_to_another_row_is_refused() -> None:
    encryptor = KeyEncryptor(MASTER_KEY)
    sealed = encryptor.encrypt(b"private key pem", associated_data=ROW)
    with pytest.raises(KeyDecryptionError):
        encryptor.decrypt(sealed, associated_data=associated_data("00o1abc", "kid-2"))


def test_a_ciphertext_under_another_master_key_is_refused() -> None:
    sealed = KeyEncryptor(MASTER_KEY).encrypt(b"private key pem", associated_data=ROW)
    with pytest.raises(KeyDecryptionError, match="wrong master key"):
        KeyEncryptor(bytes(32)).decrypt(sealed, associated_data=ROW)


@pytest.mark.parametrize("sealed", ["v2.AAAA", "AAAA", "v1.", "v1.AAAA", "v1.not base64"])
def test_malformed_ciphertexts_are_refused(sealed: str) -> None:
    with pytest.raises(KeyDecryptionError):
        KeyEncryptor(MASTER_KEY).decrypt(sealed, associated_data=ROW)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_a_master_key_that_is_not_32_bytes_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyEncryptor(b"k" * size)


def test_associated_data_keeps_its_parts_apart() -> None:
    assert associated_data("ab", "c") != associated_data("a", "bc")


# --- the master key ------------------------------------------------------------------


def test_master_key_comes_from_the_environment_when_set(tmp_path: Path) -> None:
    key = bytes(range(100, 132))
    assert master_key_from_env_or_file(_b64url_32(key), tmp_path) == key
    assert not (tmp_path / "master.key").exists()


def test_master_key_from_the_environment_may_carry_padding_and_whitespace(tmp_path: Path) -> None:
    key = bytes(range(32))
    padded = base64.urlsafe_b64encode(key).decode() + "\n"
    assert master_key_from_env_or_file(padded, tmp_path) == key


@pytest.mark.parametrize("size", [16, 31, 33, 48])
def test_a_master_key_of_the_wrong_length_in_the_environment_is_refused(tmp_path: Path, size: int) -> None:
    value = _b64url_32(b"\xab" * size)
    with pytest.raises(ValueError, match="OSTIARY_MASTER_KEY must be base64url of exactly 32") as raised:
        master_key_from_env_or_file(value, tmp_path)
    assert value not in str(raised.value)


@pytest.mark.parametrize("value", ["not base64url!", "a+b/" * 11, "", "   "])
def test_an_undecodable_or_empty_master_key_in_the_environment_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="OSTIARY_MASTER_KEY") as raised:
        master_key_from_env_or_file(value, tmp_path)
    if value.strip():
        assert value not in str(raised.value)


def test_without_the_environment_a_master_key_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = master_key_from_env_or_file(None, data_dir)
    path = data_dir / "master.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b64url_decode(path.read_text().strip()) == key


def test_the_master_key_file_is_reused_on_the_next_start(tmp_path: Path) -> None:
    assert master_key_from_env_or_file(None, tmp_path) == master_key_from_env_or_file(None, tmp_path)


def test_creating_the_master_key_file_leaves_no_temporary_file(tmp_path: Path) -> None:
    master_key_from_env_or_file(None, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]


def test_an_existing_master_key_file_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(_b64url_32(b"x" * 16) + "\n")
    with pytest.raises(ValueError, match=r"master\.key must be base64url of exactly 32 bytes"):
        master_key_from_env_or_file(None, tmp_path)


def test_the_environment_wins_over_an_existing_master_key_file(tmp_path: Path) -> None:
    master_key_from_env_or_file(None, tmp_path)
    key = bytes(range(1, 33))
    assert master_key_from_env_or_file(_b64url_32(key), tmp_path) == key
