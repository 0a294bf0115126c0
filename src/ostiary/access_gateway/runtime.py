"""What one access gateway process holds: its configuration, database engine and secrets box.

Built once by the command (or a test) and handed to the server builder; nothing lives in
module globals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from ostiary.access_gateway.store.engine import default_database_url, make_engine
from ostiary.jose.key_encryption import KeyEncryptor, associated_data, master_key_from_env_or_file

DEFAULT_PORT = 8090
MASTER_KEY_ENV = "OSTIARY_MASTER_KEY"


@dataclass(frozen=True)
class GatewayConfig:
    public_url: str
    data_dir: Path
    database_url: str

    @property
    def origin(self) -> str:
        """The public URL's origin: the audience of client assertions."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def admin_host(self) -> str:
        """The public URL's ``host[:port]`` as a browser sends it in ``Host`` (no default port)."""
        return host_key(urlsplit(self.public_url).netloc, urlsplit(self.public_url).scheme)

    @property
    def scheme(self) -> str:
        return urlsplit(self.public_url).scheme


def host_key(netloc: str, scheme: str = "http") -> str:
    """``host[:port]`` lower-cased, with the scheme's default port dropped."""
    netloc = netloc.lower()
    default = ":443" if scheme == "https" else ":80"
    return netloc[: -len(default)] if netloc.endswith(default) else netloc


def make_config(
    *,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
    data_dir: Path | None = None,
    database_url: str | None = None,
    tls: bool = False,
) -> GatewayConfig:
    directory = data_dir or Path(os.environ.get("OSTIARY_DATA_DIR", ".ostiary"))
    url = (public_url or f"{'https' if tls else 'http'}://localhost:{port}").rstrip("/")
    return GatewayConfig(
        public_url=url, data_dir=directory, database_url=database_url or default_database_url(directory)
    )


@dataclass
class SecretBox:
    """Secrets at rest (IdP API tokens, OIDC client secrets, private keys) under the master key,
    each bound to its table and row."""

    encryptor: KeyEncryptor

    def seal(self, plaintext: str, *where: str) -> str:
        return self.encryptor.encrypt(
            plaintext.encode("utf-8"), associated_data=associated_data("oag", *where)
        )

    def open(self, sealed: str, *where: str) -> str:
        return self.encryptor.decrypt(sealed, associated_data=associated_data("oag", *where)).decode("utf-8")


@dataclass
class GatewayRuntime:
    config: GatewayConfig
    engine: AsyncEngine
    secrets: SecretBox
    clock: Callable[[], float] = time.time
    write_listeners: list[Callable[[], None]] = field(default_factory=list)

    def changed(self) -> None:
        """Called after every configuration write: caches (the app catalog) drop their entries."""
        for listener in self.write_listeners:
            listener()

    async def close(self) -> None:
        await self.engine.dispose()


def open_runtime(config: GatewayConfig) -> GatewayRuntime:
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = master_key_from_env_or_file(os.environ.get(MASTER_KEY_ENV), config.data_dir)
    return GatewayRuntime(
        config=config, engine=make_engine(config.database_url), secrets=SecretBox(KeyEncryptor(key))
    )
