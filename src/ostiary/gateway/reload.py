"""Hot reload: the configuration file is reparsed on SIGHUP or when it changes (its
modification time, size or inode, checked every ``interval`` seconds), and the new state is
swapped in as a whole; a bad file keeps the current configuration. A request keeps the state
that was current when it arrived."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from ostiary.gateway.config import ConfigError, GatewayConfig, load_config
from ostiary.gateway.metrics import GatewayMetrics
from ostiary.gateway.state import GatewayState, build_state
from ostiary.jose.verify import JwksCache

log = logging.getLogger(__name__)
_SIGNAL_ERRORS = (NotImplementedError, RuntimeError, ValueError, AttributeError)


class Reloader:
    """Owns the current :class:`GatewayState`; ``path`` (if given) is watched and reread."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        path: Path | None,
        jwks: JwksCache,
        metrics: GatewayMetrics,
        interval: float,
    ) -> None:
        self.path = path
        self.jwks = jwks
        self.metrics = metrics
        self.interval = interval
        self.state: GatewayState = build_state(config, jwks, previous=None)
        self._watcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._file_signature = self._signature()

    def reload(self) -> bool:
        """Reparse the configuration file and swap it in; a bad file keeps the current one."""
        if self.path is None:
            return False
        self._file_signature = self._signature()
        try:
            config = load_config(self.path)
        except ConfigError as exc:
            log.error("configuration not reloaded, keeping the current one: %s", exc)
            self.metrics.count_reload("error")
            return False
        self.apply(config)
        self.metrics.count_reload("ok")
        log.info("configuration reloaded from %s", self.path)
        return True

    def apply(self, config: GatewayConfig) -> None:
        previous = self.state
        if config.listen != previous.config.listen:
            log.warning("listen settings change only on restart")
        self.state = build_state(config, self.jwks, previous=previous)
        if previous.limiter is not None and previous.limiter is not self.state.limiter:
            self._spawn(previous.limiter.close())

    def check_for_changes(self) -> bool:
        """Reload if the file's modification time, size or inode changed."""
        if self.path is None or self._signature() == self._file_signature:
            return False
        return self.reload()

    async def start(self) -> None:
        """Watch the file and listen for SIGHUP (where the loop supports signal handlers)."""
        if self.path is None:
            return
        self._watcher = asyncio.get_running_loop().create_task(self._watch())
        with contextlib.suppress(*_SIGNAL_ERRORS):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)

    async def stop(self) -> None:
        """Stop watching, and close the current rate limiter."""
        if self.path is not None:
            with contextlib.suppress(*_SIGNAL_ERRORS):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self.state.limiter is not None:
            await self.state.limiter.close()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.check_for_changes()
            except Exception:
                log.exception("configuration watcher failed")

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading the configuration")
        self.reload()

    def _signature(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        try:
            task = asyncio.ensure_future(coroutine)
        except RuntimeError:
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)
