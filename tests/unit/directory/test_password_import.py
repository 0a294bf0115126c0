"""Users imported with hashed passwords (``credentials.password.hash``) sign in with the password
they had, and the hash becomes argon2id at the first sign-in; bad hash objects change nothing."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import bcrypt
import httpx
import pytest
from sqlalchemy import select

from ostiary.store.models import User
from tests.conftest import Server

PASSWORD = "Imported-Passw0rd"
SALT = b"pepper-and-salt"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def digest_hash(algorithm: str, order: str | None) -> dict[str, Any]:
    name = {"SHA-512": "sha512", "SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}[algorithm]
    if order is None:
        return {"algorithm": algorithm, "value": b64(hashlib.new(name, PASSWORD.encode()).digest())}
    salted = SALT + PASSWORD.encode() if order == "PREFIX" else PASSWORD.encode() + SALT
    return {
        "algorithm": algorithm,
        "salt": b64(SALT),
        "saltOrder": order,
        "value": b64(hashlib.new(name, salted).digest()),
    }


def bcrypt_hash() -> dict[str, Any]:
    full = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()  # $2b$04$<22><31>
    return {"algorithm": "BCRYPT", "workFactor": 4, "salt": full[7:29], "value": full[29:]}


def pbkdf2_hash() -> dict[str, Any]:
    raw = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), SALT, 4096, 32)
    return {
        "algorithm": "PBKDF2",
        "digestAlgorithm": "SHA256_HMAC",
        "iterationCount": 4096,
        "keySize": 32,
        "salt": b64(SALT),
        "value": b64(raw),
    }


HASHES = {
    "bcrypt": bcrypt_hash,
    "sha512-prefix": lambda: digest_hash("SHA-512", "PREFIX"),
    "sha256-postfix": lambda: digest_hash("SHA-256", "POSTFIX"),
    "sha1-unsalted": lambda: digest_hash("SHA-1", None),
    "md5-prefix": lambda: digest_hash("MD5", "PREFIX"),
    "pbkdf2": pbkdf2_hash,
}


def body(login: str, hash_spec: object) -> dict[str, Any]:
    return {
        "profile": {"login": login, "email": login, "firstName": "Imp", "lastName": "Orted"},
        "credentials": {"password": {"hash": hash_spec}},
    }


async def stored_hash(server: Server, user_id: str) -> str | None:
    async with server.rt.db.session() as session:
        return (await session.scalars(select(User.password_hash).where(User.id == user_id))).one()


async def authn(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/authn", json={"username": login, "password": password})


@pytest.mark.parametrize("kind", sorted(HASHES))
async def test_an_imported_hash_signs_in_and_becomes_argon2id(
    server: Server, admin: httpx.AsyncClient, kind: str
) -> None:
    login = f"{kind}@example.com"
    created = await admin.post("/api/v1/users?activate=true", json=body(login, HASHES[kind]()))
    assert created.status_code == 200, created.text
    user = created.json()
    assert user["status"] == "ACTIVE"
    assert user["credentials"]["password"] == {}
    assert "hash" not in created.text
    before = await stored_hash(server, user["id"])
    assert before is not None and not before.startswith("$argon2")
    async with server.client() as anonymous:
        assert (await authn(anonymous, login, "Wrong-Passw0rd")).status_code == 401
        assert await stored_hash(server, user["id"]) == before  # a wrong password upgrades nothing
        signed_in = await authn(anonymous, login, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["status"] == "SUCCESS"
        after = await stored_hash(server, user["id"])
        assert after is not None and after.startswith("$argon2id$")
        assert (await authn(anonymous, login, PASSWORD)).json()["status"] == "SUCCESS"


async def test_a_staged_user_may_be_given_an_imported_hash(admin: httpx.AsyncClient, server: Server) -> None:
    created = await admin.post(
        "/api/v1/users?activate=false",
        json={
            "profile": {
                "login": "st@example.com",
                "email": "st@example.com",
                "firstName": "S",
                "lastName": "T",
            }
        },
    )
    user_id = created.json()["id"]
    update = await admin.post(
        f"/api/v1/users/{user_id}", json={"credentials": {"password": {"hash": digest_hash("SHA-256", None)}}}
    )
    assert update.status_code == 200, update.text
    assert (
        await admin.post(f"/api/v1/users/{user_id}/lifecycle/activate?sendEmail=false")
    ).status_code == 200
    async with server.client() as anonymous:
        assert (await authn(anonymous, "st@example.com", PASSWORD)).json()["status"] == "SUCCESS"


async def test_an_active_user_may_not_be_given_an_imported_hash(
    admin: httpx.AsyncClient, server: Server
) -> None:
    created = await admin.post(
        "/api/v1/users", json=body("active.imp@example.com", digest_hash("SHA-1", None))
    )
    user_id = created.json()["id"]
    before = await stored_hash(server, user_id)
    refused = await admin.post(
        f"/api/v1/users/{user_id}", json={"credentials": {"password": {"hash": digest_hash("MD5", None)}}}
    )
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "E0000001"
    assert await stored_hash(server, user_id) == before


BAD_HASHES: list[object] = [
    "not-an-object",
    {"algorithm": "ROT13", "value": "abc"},
    {"algorithm": "SHA-256"},
    {"algorithm": "SHA-256", "value": "***not base64***"},
    {"algorithm": "SHA-256", "value": b64(b"too short")},
    {"algorithm": "SHA-256", "salt": b64(SALT), "value": b64(bytes(32))},  # salt without saltOrder
    {"algorithm": "SHA-256", "salt": b64(SALT), "saltOrder": "MIDDLE", "value": b64(bytes(32))},
    {"algorithm": "BCRYPT", "workFactor": 10, "salt": "short", "value": "x" * 31},
    {"algorithm": "BCRYPT", "workFactor": 99, "salt": "a" * 22, "value": "b" * 31},
    {"algorithm": "BCRYPT", "workFactor": "10", "salt": "a" * 22, "value": "b" * 31},
    {
        "algorithm": "PBKDF2",
        "digestAlgorithm": "MD5_HMAC",
        "iterationCount": 4096,
        "keySize": 32,
        "value": b64(bytes(32)),
    },
    {
        "algorithm": "PBKDF2",
        "digestAlgorithm": "SHA256_HMAC",
        "iterationCount": 10,
        "keySize": 32,
        "value": b64(bytes(32)),
    },
]


@pytest.mark.parametrize("bad", BAD_HASHES)
async def test_a_bad_hash_is_e0000001_and_creates_nothing(admin: httpx.AsyncClient, bad: object) -> None:
    response = await admin.post("/api/v1/users", json=body("bad.hash@example.com", bad))
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "E0000001"
    assert response.json()["errorCauses"]
    assert (await admin.get("/api/v1/users/bad.hash@example.com")).status_code == 404


async def test_value_and_hash_together_are_refused(admin: httpx.AsyncClient) -> None:
    both = body("both@example.com", digest_hash("SHA-1", None))
    both["credentials"]["password"]["value"] = PASSWORD
    response = await admin.post("/api/v1/users", json=both)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"
