"""Encryption at rest (AES-256-GCM) under the master key, and where the master key comes from.

Private signing keys and client secrets (for ``client_secret_jwt``) are stored as
``v1.`` + base64url(nonce ‖ ciphertext ‖ tag), bound to their row by associated data. The
master key is ``OSTIARY_MASTER_KEY`` when set, else ``<data dir>/master.key``, generated
(mode 0600) on first start.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ostiary.jose.b64 import b64url_decode, b64url_encode
from ostiary.private_files import write_private

MASTER_KEY_BYTES = 32
MASTER_KEY_FILE = "master.key"


class KeyDecryptionError(ValueError):
    """A stored ciphertext did not decrypt: wrong master key, wrong row, or tampered."""


def associated_data(*parts: str) -> bytes:
    """Unambiguous associated data for a row, e.g. ``associated_data(org_id, kid)``."""
    return json.dumps(list(parts), separators=(",", ":")).encode("utf-8")


class KeyEncryptor:
    """AES-256-GCM under the master key: ``v1.`` + base64url(nonce ‖ ciphertext ‖ tag).

    The 96-bit nonce is random per message (safe far beyond the number of keys an
    installation will ever encrypt). ``associated_data`` is authenticated but not
    stored: pass the row's identity (org id and kid) so a ciphertext copied into another
    row fails to decrypt.
    """

    VERSION = "v1."
    _NONCE_BYTES = 12

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != MASTER_KEY_BYTES:
            raise ValueError(f"the master key must be {MASTER_KEY_BYTES} bytes, not {len(master_key)}")
        self._aead = AESGCM(master_key)

    def encrypt(self, plaintext: bytes, *, associated_data: bytes) -> str:
        nonce = secrets.token_bytes(self._NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, associated_data)
        return self.VERSION + b64url_encode(nonce + sealed)

    def decrypt(self, token: str, *, associated_data: bytes) -> bytes:
        if not token.startswith(self.VERSION):
            raise KeyDecryptionError("unknown encrypted key format")
        try:
            blob = b64url_decode(token[len(self.VERSION) :])
        except ValueError:
            raise KeyDecryptionError("encrypted key is not base64url") from None
        nonce, sealed = blob[: self._NONCE_BYTES], blob[self._NONCE_BYTES :]
        if len(nonce) != self._NONCE_BYTES or not sealed:
            raise KeyDecryptionError("encrypted key is truncated")
        try:
            return self._aead.decrypt(nonce, sealed, associated_data)
        except InvalidTag:
            raise KeyDecryptionError(
                "encrypted key did not decrypt: wrong master key, wrong row, or tampered ciphertext"
            ) from None


def master_key_from_env_or_file(env_value: str | None, data_dir: Path) -> bytes:
    """The 32-byte master key: from ``OSTIARY_MASTER_KEY`` (base64url) when set, else
    from ``data_dir/master.key``, which is generated (mode 0600) on first start.

    A set-but-empty variable is refused rather than silently falling back to the file:
    several nodes with different master keys could not read each other's signing keys.
    """
    if env_value is not None:
        return _decode_master_key(env_value, "OSTIARY_MASTER_KEY")
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        _create_master_key_file(path)
    return _decode_master_key(path.read_text(encoding="ascii", errors="replace"), str(path))


def _decode_master_key(text: str, source: str) -> bytes:
    expected = f"{source} must be base64url of exactly {MASTER_KEY_BYTES} bytes"
    try:
        key = b64url_decode(text.strip().rstrip("="))
    except ValueError:
        raise ValueError(f"{expected}; it is not valid base64url") from None
    if len(key) != MASTER_KEY_BYTES:
        raise ValueError(f"{expected}; it decodes to {len(key)} bytes")
    return key


def _create_master_key_file(path: Path) -> None:
    """Write a new key to a private temporary file, then hard-link it into place, so no
    reader ever sees a partial file and, if two processes race, the first link wins and
    both use its key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, b64url_encode(secrets.token_bytes(MASTER_KEY_BYTES)) + "\n", replace=False)
