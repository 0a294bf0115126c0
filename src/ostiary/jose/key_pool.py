"""Signing keys generated ahead of their first use, on a thread (``serve --memory``'s start).

Why: a new org's server needs two RSA-2048 keys (ACTIVE and NEXT) before it can sign its first
token; generating them took 50-200 ms of the start on this 2-core VM, all of it on the critical
path from exec to the first token. ``cryptography`` (>= 46, pyca/cryptography#14370) releases the
GIL while OpenSSL generates an RSA key, so a thread started at exec makes them on the other core
while the main thread imports the server (about half a second of Python). :meth:`KeyPool.take`
hands them out in order, each once; when the pool is empty (or holds no key of that alg) it
generates one on the spot, as before.

Security is unchanged: the same generator (``generate_signing_key``: OpenSSL, the OS's CSPRNG),
in the same process, each key used once and never written anywhere before the key ring seals it
under the master key. Measured with ``bench/startup.py`` (see ``ostiary.memory_server``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ostiary.jose.signing_keys import SigningAlg, SigningKey


def _generate(alg: SigningAlg) -> SigningKey:
    from ostiary.jose.signing_keys import generate_signing_key  # imported on the pool's thread

    return generate_signing_key(alg)


class KeyPool:
    """Keys made by a daemon thread; :meth:`take` is a drop-in for ``generate_signing_key``."""

    def __init__(self, generate: Callable[[SigningAlg], SigningKey] = _generate) -> None:
        self._generate = generate
        self._lock = threading.Lock()
        self._ready: list[tuple[SigningAlg, Future[SigningKey]]] = []

    def fill(self, alg: SigningAlg, count: int) -> None:
        """Start generating ``count`` keys of ``alg`` on a daemon thread (it never holds up exit)."""
        futures: list[Future[SigningKey]] = [Future() for _ in range(count)]
        with self._lock:
            self._ready.extend((alg, future) for future in futures)

        def work() -> None:
            for future in futures:
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(self._generate(alg))
                except BaseException as exc:  # handed to the taker, who generates its own
                    future.set_exception(exc)

        threading.Thread(target=work, name="ostiary-key-pool", daemon=True).start()

    def take(self, alg: SigningAlg) -> SigningKey:
        """The next pooled key of ``alg`` (waiting if it is being made), else a new one."""
        with self._lock:
            index = next((i for i, (a, _f) in enumerate(self._ready) if a == alg), None)
            future = self._ready.pop(index)[1] if index is not None else None
        if future is not None:
            try:
                return future.result()
            except Exception:  # noqa: S110 - the pool failed: fall through and generate here
                pass
        return self._generate(alg)

    def pending(self) -> int:
        with self._lock:
            return len(self._ready)
