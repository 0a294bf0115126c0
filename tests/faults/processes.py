"""Processes the fault tests start, stop, freeze and kill: ``ostiary serve`` and a private
PostgreSQL (never the machine's shared one)."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import requests

from tests.e2e.servers import OSTIARY, free_port


def postgres_bin() -> Path | None:
    """The directory of PostgreSQL's ``initdb`` and ``postgres``, or None when not installed."""
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if (Path(bindir) / "initdb").exists():
            return Path(bindir)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PrivatePostgres:
    """A throw-away cluster on a free port, its socket and data in a temporary directory. As
    root it runs as the ``postgres`` user (PostgreSQL refuses to run as root), switched to by
    ``subprocess`` itself: a ``runuser`` parent would stop itself when its child is frozen."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.directory = Path(tempfile.mkdtemp(prefix="ostiary-faults-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            os.chmod(self.directory, 0o700)
            self._as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, cwd=self.directory, **self._as_user,
        )  # fmt: skip

    def start(self) -> None:
        log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115 (kept for the process's life)
        self.process = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-k", str(self.directory),
             "-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "full_page_writes=off", "-c", "max_connections=60"],
            stdout=log, stderr=log, cwd=self.directory, **self._as_user,
        )  # fmt: skip
        log.close()
        self.wait_accepting()

    def wait_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise TimeoutError("the private PostgreSQL did not start")

    def postmaster_pid(self) -> int:
        """The postmaster is the process this object started. (Not ``postmaster.pid``: a stale
        file names a pid that may since belong to anything — with pid_max 32768 a long run reuses
        pids, and a SIGINT meant for PostgreSQL once stopped a pytest worker.)"""
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, the server exits."""
        assert self.process is not None
        if self.process.poll() is not None:
            return
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGQUIT)
            self.process.wait(timeout=10)

    def _all_pids(self) -> list[int]:
        root = self.postmaster_pid()
        pids = [root]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                pids.append(int(Path(stat).parent.name))
        return pids

    def freeze(self) -> list[int]:
        pids = self._all_pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @staticmethod
    def thaw(pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw(self._all_pids())
            self.stop()
        elif self.process is not None:
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class Serve:
    """``ostiary serve`` as a subprocess on a free port, its output in ``log``."""

    def __init__(self, directory: Path, env: Mapping[str, str]) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / f"serve-{self.port}.log"
        self.env = {
            # Only what the test says: CI's OSTIARY_REDIS_URL would add Redis to /readyz.
            **{name: value for name, value in os.environ.items() if not name.startswith("OSTIARY_")},
            "OSTIARY_DATA_DIR": str(directory / "data"),
            "OSTIARY_BASE_URL": self.url,
            "OSTIARY_RATE_LIMITS": "off",
            "OSTIARY_SIGNING_PROCESSES": "0",
            "OSTIARY_LOG_LEVEL": "warning",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OSTIARY, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def token(self) -> str:
        """An API token, made in this process (migrating the database on the way): a second
        ``ostiary`` process would cost seconds of start-up on a loaded machine."""
        from ostiary.app import build_runtime, prepare
        from ostiary.domain.context import Actor, Tx
        from ostiary.domain.directory import api_tokens
        from ostiary.settings import load_settings
        from ostiary.store.repositories import orgs

        data_dir = Path(self.env["OSTIARY_DATA_DIR"])
        url = self.env.get("OSTIARY_DATABASE_URL")
        settings = load_settings(data_dir=str(data_dir), database_url=url)
        rt = build_runtime(settings)

        async def create() -> str:
            try:
                await prepare(rt)
                async with rt.db.session() as session:
                    org = await orgs.ensure_default(session)
                    _token, plaintext = await api_tokens.create_token(
                        Tx(session=session, org=org, actor=Actor.system()), "faults"
                    )
                    return plaintext
            finally:
                await rt.db.dispose()

        return asyncio.run(create())

    def start(self, *args: str, wait: bool = True) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [OSTIARY, "serve", "--port", str(self.port), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_up()

    def wait_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"serve exited with {self.process.returncode}: {self.log.read_text()[-2000:]}"
                )
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise TimeoutError("serve did not come up")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextlib.asynccontextmanager
async def uvicorn_in_this_loop(app: Any) -> AsyncIterator[int]:
    """``app`` served by uvicorn with Ostiary's HTTP protocol in the running event loop, on a
    free loopback port (yielded) until the block ends."""
    import uvicorn

    from ostiary.serving.uvicorn_protocol import CoalescingHttpToolsProtocol

    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="critical",
        http=CoalescingHttpToolsProtocol,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task
