"""Sign JWTs in a few child processes instead of threads of the server's own process.

Why: with :class:`~ostiary.jose.signer.JwtSigner`'s threads, every signature takes the
GIL twice (to start and to hand its token back) from an event loop that wants it all the
time; on a 2-vCPU VM about a tenth of the token endpoint's CPU went to those futex
hand-offs, and the loop waited on them. A child process has its own GIL: the loop writes
``header.payload`` to a socket (once per loop iteration for all the tokens of that
iteration) and reads the signatures back; :mod:`ostiary.jose.sign_worker` has the
protocol. ``bench/token.py`` measured about 20% more RS256 tokens/s and 50% more ES256
than with threads; ``bench/sign.py`` compares the two without HTTP.

Private keys travel to the children over their socketpair once per key, never through a
file, an argument or the environment. If a child dies, what it had not answered is signed
on the fallback threads and a new child takes its place; after two children in a row
die within a second of starting, none is started again and the threads sign instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives import serialization

from ostiary.jose import sign_worker
from ostiary.jose.signer import JwtSigner, fork_generation, signing_input_of
from ostiary.jose.signing_keys import SigningKey

log = logging.getLogger("ostiary.signer")

_QUICK_DEATH_SECONDS = 1.0
_QUICK_DEATHS_TOLERATED = 2


class ProcessSigner:
    """Signs on ``processes`` child processes, with :class:`JwtSigner` threads as the
    fallback. Same interface as :class:`JwtSigner`; :meth:`start` may be called ahead of
    the first token so that the children have imported ``cryptography`` by then."""

    def __init__(self, processes: int, fallback: JwtSigner | None = None) -> None:
        if processes < 1:
            raise ValueError("a ProcessSigner needs at least one process")
        self.processes = processes
        self.fallback = fallback or JwtSigner()
        self._children: list[_Child] = []
        self._started_in = -1
        self._quick_deaths = 0
        self._closed = False

    async def sign(self, claims: Mapping[str, object], key: SigningKey, *, typ: str | None = None) -> str:
        return await self.submit(signing_input_of(claims, key, typ), key)

    def submit(self, signing_input: bytes, key: SigningKey) -> asyncio.Future[str]:
        if self._closed:
            raise RuntimeError("this ProcessSigner is closed")
        if self._started_in != fork_generation():
            self.start()
        children = self._children
        if not children:
            return self.fallback.submit(signing_input, key)
        child = min(children, key=_Child.load) if len(children) > 1 else children[0]
        return child.submit(signing_input, key)

    def start(self) -> None:
        """Start the children (on the running loop). Idempotent; in a forked process,
        drop the parent's children and start this process's own."""
        loop = asyncio.get_running_loop()
        if self._started_in != fork_generation():
            for child in self._children:
                child.disown()
            self._children = []
            self._started_in = fork_generation()
        while len(self._children) < self.processes and self._quick_deaths < _QUICK_DEATHS_TOLERATED:
            try:
                self._children.append(_Child(loop, self._on_death))
            except OSError:
                log.exception("could not start a signing process; signing on threads")
                self._quick_deaths = _QUICK_DEATHS_TOLERATED

    def close(self, *, wait: bool = True) -> None:
        """Close the children's sockets (they exit on end of file) and the fallback
        threads; with ``wait``, wait for all of them. Tokens still being signed fail."""
        self._closed = True
        children, self._children = self._children, []
        for child in children:
            child.close()
            for future, _input, _key in child.pending.values():
                if not future.done():
                    future.set_exception(RuntimeError("the signer was closed"))
            child.pending.clear()
        if wait:
            for child in children:
                child.wait()
        self.fallback.close(wait=wait)

    def _on_death(self, child: _Child) -> None:
        with contextlib.suppress(ValueError):
            self._children.remove(child)
        if time.monotonic() - child.started < _QUICK_DEATH_SECONDS:
            self._quick_deaths += 1
        else:
            self._quick_deaths = 0
        log.warning(
            "signing process %s exited (code %s); %d requests move to threads",
            child.process.pid,
            child.process.poll(),
            len(child.pending),
        )
        for future, signing_input, key in child.pending.values():
            if not future.done():
                _chain(self.fallback.submit(signing_input, key), future)
        child.pending.clear()
        if self._quick_deaths >= _QUICK_DEATHS_TOLERATED:
            log.error("signing processes keep dying at start; signing on threads from now on")
        elif not self._closed:
            self.start()


def _child_environment() -> dict[str, str]:
    """Ours without ``OSTIARY_*`` (the master key, the database URL): the child gets its
    keys over the socket and needs nothing else of ours."""
    return {name: value for name, value in os.environ.items() if not name.startswith("OSTIARY_")}


class SigningFailed(RuntimeError):
    """A signing process could not sign (the name of its error is the message)."""


def _chain(source: asyncio.Future[str], target: asyncio.Future[str]) -> None:
    def copy(done: asyncio.Future[str]) -> None:
        if target.done():
            return
        if done.exception() is not None:
            target.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


class _Child:
    """One signing process and the parent's end of its socket, read by the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_death: Callable[[_Child], None]) -> None:
        self.loop = loop
        self._on_death = on_death
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "ostiary.jose.sign_worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                close_fds=True,
                env=_child_environment(),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.started = time.monotonic()
        self.sock = ours
        ours.setblocking(False)
        self._fd = ours.fileno()
        self.pending: dict[int, tuple[asyncio.Future[str], bytes, SigningKey]] = {}
        self._ids = itertools.count(1)
        self._loaded: dict[str, SigningKey] = {}
        self._out = bytearray()
        self._flush_scheduled = False
        self._writer_added = False
        self._in = bytearray()
        self._alive = True
        loop.add_reader(self._fd, self._on_readable)

    def load(self) -> int:
        return len(self.pending)

    def submit(self, signing_input: bytes, key: SigningKey) -> asyncio.Future[str]:
        future: asyncio.Future[str] = self.loop.create_future()
        kid = key.kid
        if self._loaded.get(kid) is not key:
            der = key.private_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            self._out += sign_worker.load_frame(kid, der)
            self._loaded[kid] = key
        request_id = next(self._ids) & 0xFFFFFFFF
        self.pending[request_id] = (future, signing_input, key)
        self._out += sign_worker.sign_frame(request_id, kid.encode(), signing_input)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._alive or not self._out:
            return
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._die()
            return
        del self._out[:sent]
        if self._out and not self._writer_added:
            self._writer_added = True
            self.loop.add_writer(self._fd, self._on_writable)

    def _on_writable(self) -> None:
        self._writer_added = False
        self.loop.remove_writer(self._fd)
        self._flush()

    def _on_readable(self) -> None:
        try:
            chunk = self.sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._die()
            return
        self._in += chunk
        try:
            bodies = sign_worker.frames(self._in)
        except ValueError:
            self._die()
            return
        pending = self.pending
        for body in bodies:
            request_id, status = sign_worker.ANSWER.unpack_from(body)
            entry = pending.pop(request_id, None)
            if entry is None or entry[0].done():
                continue
            future, signing_input, _key = entry
            payload = body[sign_worker.ANSWER.size :]
            if status == sign_worker.OK:
                future.set_result((signing_input + b"." + payload).decode("ascii"))
            else:
                future.set_exception(SigningFailed(payload.decode("ascii", errors="replace")))

    def _die(self) -> None:
        if not self._alive:
            return
        self.close()
        self._on_death(self)

    def close(self) -> None:
        """Close our end: the child sees end of file and exits."""
        if not self._alive:
            return
        self._alive = False
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self._fd)
            if self._writer_added:
                self.loop.remove_writer(self._fd)
        self.sock.close()

    def disown(self) -> None:
        """In a forked process: close the inherited socket without touching the loop."""
        self._alive = False
        self.sock.close()

    def wait(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
