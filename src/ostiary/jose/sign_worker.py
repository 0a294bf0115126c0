"""A signing process: signs JWS inputs sent by its parent over one socket. The parent side
is :mod:`ostiary.jose.sign_processes`, which starts it and speaks this protocol.

Run as ``python -m ostiary.jose.sign_worker FD``, FD being its end of a socketpair. It
holds nothing but the private keys its parent sent, in memory, and never logs them.

Frames both ways are a 4-byte big-endian length and a body. Parent to child:

* ``L`` kid-length(2) kid key-DER: load a PKCS#8 private key under ``kid``;
* ``S`` request-id(4) kid-length(2) kid signing-input: sign with that key.

Child to parent: request-id(4) status(1) payload, status 0 with the base64url signature or
1 with the name of the error. Each answer is written as soon as its signature is made, so
the parent's other requests never wait for a batch. The child exits when its parent's end
closes. It ignores SIGINT: a Ctrl-C in a terminal reaches the whole process group, and
the parent must be able to finish the requests it is draining.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import struct
import sys

from cryptography.hazmat.primitives import serialization

from ostiary.jose.b64 import b64url_bytes
from ostiary.jose.signer import signature
from ostiary.jose.signing_keys import PrivateKey

LENGTH = struct.Struct(">I")
KID_LENGTH = struct.Struct(">H")
REQUEST = struct.Struct(">IH")  # request id, kid length
ANSWER = struct.Struct(">IB")  # request id, status
OK, FAILED = 0, 1
LOAD, SIGN = b"L", b"S"
MAX_FRAME = 1 << 20
"""Far above any signing input we make (a few KiB); a longer frame means a broken stream."""


def _frame(body: bytes) -> bytes:
    return LENGTH.pack(len(body)) + body


def load_frame(kid: str, key_der: bytes) -> bytes:
    kid_bytes = kid.encode()
    return _frame(LOAD + KID_LENGTH.pack(len(kid_bytes)) + kid_bytes + key_der)


def sign_frame(request_id: int, kid: bytes, signing_input: bytes) -> bytes:
    return _frame(SIGN + REQUEST.pack(request_id, len(kid)) + kid + signing_input)


def answer_frame(request_id: int, status: int, payload: bytes) -> bytes:
    return _frame(ANSWER.pack(request_id, status) + payload)


def frames(buffer: bytearray) -> list[bytes]:
    """The bodies of the complete frames at the start of ``buffer``, which loses them. A
    frame over :data:`MAX_FRAME` raises ``ValueError``."""
    bodies: list[bytes] = []
    offset, size = 0, len(buffer)
    while size - offset >= LENGTH.size:
        (length,) = LENGTH.unpack_from(buffer, offset)
        if length > MAX_FRAME:
            raise ValueError("frame too long")
        start = offset + LENGTH.size
        if size - start < length:
            break
        offset = start + length
        bodies.append(bytes(buffer[start:offset]))
    del buffer[:offset]
    return bodies


class Worker:
    """The child's state: its keys. :meth:`handle` turns one frame into an answer (or
    none, for a load)."""

    def __init__(self) -> None:
        self.keys: dict[bytes, PrivateKey] = {}

    def handle(self, body: bytes) -> bytes | None:
        op = body[:1]
        if op == SIGN:
            request_id, kid_length = REQUEST.unpack_from(body, 1)
            kid_end = 1 + REQUEST.size + kid_length
            key = self.keys.get(body[1 + REQUEST.size : kid_end])
            if key is None:
                return answer_frame(request_id, FAILED, b"UnknownKid")
            try:
                return answer_frame(request_id, OK, b64url_bytes(signature(key, body[kid_end:])))
            except Exception as exc:  # the parent raises it for the caller waiting on the token
                return answer_frame(request_id, FAILED, type(exc).__name__.encode())
        if op == LOAD:
            (kid_length,) = KID_LENGTH.unpack_from(body, 1)
            kid_end = 1 + KID_LENGTH.size + kid_length
            # Only our parent writes to this socket, and it sends keys it generated or unsealed
            # (and so checked): OpenSSL's RSA check, tens of ms per key, would be done twice.
            loaded = serialization.load_der_private_key(
                body[kid_end:], password=None, unsafe_skip_rsa_key_validation=True
            )
            if not isinstance(loaded, PrivateKey):
                raise ValueError("not an RSA or EC private key")
            self.keys[body[1 + KID_LENGTH.size : kid_end]] = loaded
            return None
        raise ValueError("unknown operation")


def serve(sock: socket.socket) -> None:
    worker, pending = Worker(), bytearray()
    while chunk := sock.recv(1 << 16):
        pending += chunk
        for body in frames(pending):
            answer = worker.handle(body)
            if answer is not None:
                sock.sendall(answer)


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with (
        socket.socket(fileno=int(argv[1])) as sock,
        contextlib.suppress(BrokenPipeError, ConnectionResetError),
    ):
        serve(sock)  # until the parent closes its end (or is gone)


if __name__ == "__main__":
    main(sys.argv)
