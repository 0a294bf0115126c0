"""Mint JWTs (RFC 7515 compact JWS, RFC 7519) with our signing keys, off the event loop.

Minting is on the token endpoint's hot path, so this module talks to ``cryptography``
directly instead of going through PyJWT: the protected header is precomputed per key
(:attr:`SigningKey.protected_header_b64`, exactly Okta's ``{"kid":…,"alg":…}``), the
claims are serialized with orjson, and the padding and hash
objects are module constants.

Why not a library (issue 20): ``python bench/sign.py --libraries-only --library-rounds 15``
times :func:`encode_jwt` against PyJWT 2.15.1 and joserfc 1.8.0 (``jwt.encode``), keys
preloaded, in CPU time per token, least of interleaved rounds. On the 2-core box of
2026-12-07: ES256 28.9 µs ours, 47.1 PyJWT (ours 1.63x faster), 56.6 joserfc (1.95x); RS256
312 µs ours, 326 PyJWT (1.05x), 338 joserfc (1.08x), where the RSA signature itself is 303 µs
of it: besides the signature ours costs 4-9 µs a token, PyJWT 23, joserfc 32-34. So it stays.

An RSA-2048 signature costs a few hundred microseconds of CPU, which would stall every
other request on the event loop. :class:`JwtSigner` runs it on a few threads instead;
``cryptography`` releases the GIL while OpenSSL signs, so the threads sign in parallel
with each other and with the loop. ``bench/sign.py`` measures what that buys.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Protocol, TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ostiary.compact_json import dumps
from ostiary.cpus import available_cpus
from ostiary.jose.b64 import b64url_bytes
from ostiary.jose.signing_keys import PrivateKey, SigningKey

_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_P256_SCALAR_BYTES = 32

_LEFT_HASH_FUNCTIONS: dict[str, Callable[[bytes], hashlib._Hash]] = {
    **dict.fromkeys(("RS256", "ES256", "PS256"), hashlib.sha256),
    **dict.fromkeys(("RS384", "ES384", "PS384"), hashlib.sha384),
    **dict.fromkeys(("RS512", "ES512", "PS512"), hashlib.sha512),
}


def encode_jwt(claims: Mapping[str, object], key: SigningKey, *, typ: str | None = None) -> str:
    """A compact JWS of ``claims`` signed with ``key``; header ``{"kid","alg"}`` plus
    ``typ`` only when given. Blocks for the signature: on the event loop, use
    :meth:`JwtSigner.sign`."""
    return _sign_compact(signing_input_of(claims, key, typ), key)


def signing_input_of(claims: Mapping[str, object], key: SigningKey, typ: str | None) -> bytes:
    header = key.protected_header_b64 if typ is None else _header_with_typ(key, typ)
    return header + b"." + b64url_bytes(dumps(claims, finite=True))


def _header_with_typ(key: SigningKey, typ: str) -> bytes:
    return b64url_bytes(dumps({"kid": key.kid, "alg": key.alg, "typ": typ}))


def _sign_compact(signing_input: bytes, key: SigningKey) -> str:
    return (signing_input + b"." + b64url_bytes(signature(key.private_key, signing_input))).decode("ascii")


def signature(private_key: PrivateKey, data: bytes) -> bytes:
    """RS256: RSASSA-PKCS1-v1_5 with SHA-256. ES256: ECDSA P-256 with SHA-256, converted
    from DER to the fixed 64-byte ``r ‖ s`` that JWS requires (RFC 7518 §3.4)."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, _PKCS1V15, _SHA256)
    r, s = decode_dss_signature(private_key.sign(data, _ECDSA_SHA256))
    return r.to_bytes(_P256_SCALAR_BYTES, "big") + s.to_bytes(_P256_SCALAR_BYTES, "big")


def left_hash(value: str, alg: str) -> str:
    """OIDC ``at_hash`` / ``c_hash`` (OpenID Connect Core §3.1.3.6, §3.3.2.11): base64url
    of the left-most half of the hash of ``value``, the hash being the one of the ID
    token's ``alg`` (SHA-256 for RS256 and ES256)."""
    hash_function = _LEFT_HASH_FUNCTIONS.get(alg)
    if hash_function is None:
        raise ValueError(f"no left hash defined for alg {alg!r}")
    digest = hash_function(value.encode("utf-8")).digest()
    return b64url_bytes(digest[: len(digest) // 2]).decode("ascii")


_forks = 0
"""How many forks lie between the first process and this one. Checked on every signature
instead of ``os.getpid()``, which is a system call each time."""


def _count_fork() -> None:
    global _forks
    _forks += 1


def fork_generation() -> int:
    """Changes in a forked child: whatever threads or processes a signer started belong to
    its parent there."""
    return _forks


os.register_at_fork(after_in_child=_count_fork)


class Signer(Protocol):
    """What the token endpoints need: :class:`JwtSigner` (threads) or
    :class:`~ostiary.jose.sign_processes.ProcessSigner` (child processes)."""

    async def sign(self, claims: Mapping[str, object], key: SigningKey, *, typ: str | None = None) -> str: ...

    def submit(self, signing_input: bytes, key: SigningKey) -> asyncio.Future[str]: ...

    def start(self) -> None: ...

    def close(self, *, wait: bool = True) -> None: ...


class JwtSigner:
    """Signs JWTs on a few dedicated threads so the event loop never waits for RSA.

    The claims are serialized on the caller's thread before :meth:`sign` yields, so a
    caller may reuse or change its dict as soon as the call is made; only the signature
    runs on the ``ostiary-sign_N`` threads. The threads start on the first :meth:`sign`
    (an app that never mints starts none) and are daemons, blocked on a queue when idle.

    Why not ``loop.run_in_executor`` with a ``ThreadPoolExecutor``: its ``submit`` (a
    ``concurrent.futures.Future``, a work item, locks) and its future chaining cost the
    loop about 2.5 times as much per token as a plain ``SimpleQueue`` in and results
    handed back in batches (one ``call_soon_threadsafe`` per batch, see :class:`_Inbox`):
    about 20-26 µs against 10-12 µs on a 2-vCPU VM, half an ES256 signature.
    ``bench/sign.py`` prints both.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or available_cpus()
        self._lock = threading.Lock()
        self._closed = False
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._started_in = -1  # the _forks value when the threads started; -1: never
        self._inbox: _Inbox | None = None

    async def sign(self, claims: Mapping[str, object], key: SigningKey, *, typ: str | None = None) -> str:
        return await self.submit(signing_input_of(claims, key, typ), key)

    def submit(self, signing_input: bytes, key: SigningKey) -> asyncio.Future[str]:
        """The compact JWS of an already serialized ``header.payload``, as a future of the
        running loop."""
        inbox = self._inbox_for(asyncio.get_running_loop())
        future: asyncio.Future[str] = inbox.loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("this JwtSigner is closed")
            if self._started_in != _forks:
                self._start_threads()
            self._requests.put((inbox, future, signing_input, key))
        return future

    def start(self) -> None:
        """Nothing to do ahead of time: the threads start with the first token."""

    def close(self, *, wait: bool = True) -> None:
        """Stop the threads once the tokens already requested are signed; with ``wait``,
        return only when they are."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:
                self._requests.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _start_threads(self) -> None:
        """Start the workers on first use, and again on first use in a forked child
        (which inherits the signer but none of its threads)."""
        self._started_in = _forks
        self._requests = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=_serve, args=(self._requests,), name=f"ostiary-sign_{index}", daemon=True)
            for index in range(self.max_workers)
        ]
        for thread in self._threads:
            thread.start()

    def _inbox_for(self, loop: asyncio.AbstractEventLoop) -> _Inbox:
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:
            inbox = self._inbox = _Inbox(loop)
        return inbox


def _serve(requests: queue.SimpleQueue[_Request | None]) -> None:
    while (request := requests.get()) is not None:
        inbox, future, signing_input, key = request
        outcome: str | BaseException
        try:
            outcome = _sign_compact(signing_input, key)
        except BaseException as exc:  # handed to the awaiting caller
            outcome = exc
        inbox.deliver(future, outcome)


class _Inbox:
    """Signed tokens on their way back to one event loop.

    Workers append results and wake the loop only if no wake-up is pending; the loop
    clears the flag *before* taking results, and workers append *before* looking at
    it, so every result is taken by some drain. A race between two workers can only
    cause a spare wake-up, never a lost one.
    """

    __slots__ = ("_results", "_wakeup_pending", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._results: collections.deque[tuple[asyncio.Future[str], str | BaseException]] = (
            collections.deque()
        )
        self._wakeup_pending = False

    def deliver(self, future: asyncio.Future[str], outcome: str | BaseException) -> None:
        self._results.append((future, outcome))
        if not self._wakeup_pending:
            self._wakeup_pending = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting any more
                self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._wakeup_pending = False
        results = self._results
        while results:
            future, outcome = results.popleft()
            if future.done():  # the caller was cancelled
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


_Request: TypeAlias = tuple[_Inbox, "asyncio.Future[str]", bytes, SigningKey]
