"""``ostiary serve --memory``: an org server that leaves nothing on disk (issue 21).

SQLite lives in memory on one connection, which the requests' transactions take in turn
(``store.db.is_memory_sqlite`` says why), so the whole server runs in one process and one event
loop: the schema is made (at once, not
migration by migration), an API token
created and printed, then uvicorn serves the same app object (no factory, no re-import). The
master key is random and lives only in this process.

An API token is generated and printed only when the org file declares none (a file that
declares one names its value with ``token``, so the test that wrote the file knows it).

Start-up speed (issue 21: exec to the first client_credentials token under 1 s; issue 20: 0.5 s)
comes from seams of their own, each with its reason and measured gain in its docstring:
:mod:`ostiary.startup_gc` (no cyclic collection while modules load), :mod:`ostiary.jose.key_pool`
(the org server's RSA keys made on a thread during the imports), :mod:`ostiary.cli_fast_path`
(``serve`` called without Typer building every command). ``bench/startup.py`` measures the whole.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from dataclasses import replace
from typing import Any

from ostiary import startup_gc
from ostiary.jose.key_pool import KeyPool

MEMORY_DATABASE_URL = "sqlite+aiosqlite:///:memory:"
TOKEN_LINE_PREFIX = "SSWS token: "
SCHEMA_ENV = "OSTIARY_MEMORY_SCHEMA"
"""``migrate``: run every Alembic step instead of ``create_all`` (``bench/startup.py`` compares
the two in one run)."""
ORG_SERVER_KEYS = 2
"""RS256 keys the org server makes before its first token (ACTIVE and NEXT): made on a thread
from exec on (:mod:`ostiary.jose.key_pool`)."""
_KEY_POOL = KeyPool()


def memory_settings(settings: Any, port: int, *, scheme: str = "http") -> Any:
    """``settings`` with an in-memory database, an ephemeral master key, and
    ``http://localhost:<port>`` (``https`` with TLS) as base URL unless ``OSTIARY_BASE_URL`` is set."""
    from ostiary.jose.b64 import b64url_encode

    base_url = os.environ.get("OSTIARY_BASE_URL") or f"{scheme}://localhost:{port}"
    return replace(
        settings,
        database_url=MEMORY_DATABASE_URL,
        master_key=b64url_encode(secrets.token_bytes(32)),
        base_url=base_url.rstrip("/"),
        redis_url=None,
    )


def declares_api_tokens(org_doc: Any) -> bool:
    """Whether a checked org file lists API tokens (then ``serve --memory`` makes none of its own)."""
    return bool(org_doc and org_doc.get("apiTokens"))


async def _create_token(rt: Any, *, generate: bool = True) -> tuple[str, str | None]:
    """A new super-admin API token of the default org, unless not ``generate``:
    ``(org id, plaintext or None)``."""
    from ostiary.domain.context import Actor, Tx
    from ostiary.domain.directory import api_tokens
    from ostiary.domain.orgs import org_record
    from ostiary.store.repositories import orgs

    async def work(session: Any) -> tuple[str, str | None]:
        org = await orgs.ensure_default(session)
        if not generate:
            return str(org.id), None
        actor = Actor("cli", "SystemPrincipal", "ostiary-cli", "Ostiary CLI")
        _token, plaintext = await api_tokens.create_token(
            Tx(session=session, org=org_record(org), actor=actor), "ostiary serve --memory"
        )
        return str(org.id), str(plaintext)

    result: tuple[str, str | None] = await rt.db.transaction(work)
    return result


def _warm_org_server_keys(rt: Any, org_id: str) -> asyncio.Task[Any]:
    """Generate the org server's signing keys (two RSA keys) while the port opens and the
    client sets up its app, instead of inside the first token request; that request waits
    for this same load if it comes first. A failure is left to the first request to meet again."""
    from ostiary.domain.authz.server_lookup import ORG_SERVER_ID

    task = asyncio.create_task(rt.rings.ring(org_id, ORG_SERVER_ID))
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


async def _apply_org_file(rt: Any, org_doc: Any) -> None:
    """Apply a checked org file to the default org in one transaction (``serve --memory --apply``);
    the changes go to stderr, a refused file ends the process (exit 1) before the port opens."""
    from ostiary.domain.context import Actor, Tx
    from ostiary.domain.errors import DomainError
    from ostiary.domain.org_file.applying import apply_org
    from ostiary.domain.org_file.document import OrgFileError
    from ostiary.domain.orgs import org_record
    from ostiary.store.repositories import orgs

    async def work(session: Any) -> list[Any]:
        org = await orgs.ensure_default(session)
        actor = Actor("cli", "SystemPrincipal", "ostiary-cli", "Ostiary CLI")
        tx = Tx(session=session, org=org_record(org), actor=actor)
        return await apply_org(tx, org_doc, org_url=rt.settings.base_url)

    try:
        changes = await rt.db.transaction(work)
    except (OrgFileError, DomainError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None
    created = sum(change.verb == "create" for change in changes)
    updated = sum(change.verb == "update" for change in changes)
    sys.stderr.write(f"applied: {created} created, {updated} updated, 0 deleted\n")


async def build(settings: Any, *, org_doc: Any = None, testing: bool = False) -> tuple[Any, str, str | None]:
    """The app of an in-memory org, ready to serve: ``(app, org id, its new API token or None)``.
    The schema is made, ``org_doc`` (a checked org file) applied, the token created."""
    from ostiary.app import create_app, database_of, prepare
    from ostiary.store import migrate

    app = create_app(settings, run_migrations=False)
    rt = app.state.runtime
    rt.rings.generate = _KEY_POOL.take
    if os.environ.get(SCHEMA_ENV) == "migrate":
        await prepare(rt)
    else:
        # A new database: the schema at once, not step by step.
        await migrate.create_empty(database_of(rt).engine)
        await prepare(rt, run_migrations=False)
    if org_doc is not None:
        await _apply_org_file(rt, org_doc)
    org_id, token = await _create_token(rt, generate=not declares_api_tokens(org_doc))
    if testing:
        _install_testing(app)
    return app, org_id, token


async def serve_memory(
    settings: Any,
    *,
    host: str,
    port: int,
    uvicorn_options: dict[str, Any],
    org_doc: Any = None,
    testing: bool = False,
) -> None:
    """Prepare the in-memory org, apply ``org_doc`` (a checked org file), print its API token,
    then serve until stopped."""
    import uvicorn

    app, org_id, token = await build(settings, org_doc=org_doc, testing=testing)
    warming = _warm_org_server_keys(app.state.runtime, org_id)
    if token is not None:
        sys.stdout.write(f"{TOKEN_LINE_PREFIX}{token}\n")
    sys.stdout.flush()
    config = uvicorn.Config(app, host=host, port=port, **uvicorn_options)
    server = uvicorn.Server(config)
    collector = asyncio.create_task(startup_gc.resume_after_start(lambda: server.started))
    try:
        await server.serve()
    finally:
        warming.cancel()
        collector.cancel()


def _install_testing(app: Any) -> None:
    """``--testing``: fault injection and the ``/__ostiary/testing`` admin API (snapshot/reset of
    this in-memory database included); see ``ostiary.http.testing``."""
    from ostiary.http.testing.install import install_testing
    from ostiary.store.memory_snapshot import MemorySnapshot

    snapshot = MemorySnapshot(app.state.runtime.db.engine)
    install_testing(app, save=snapshot.save, restore=snapshot.restore)


def run(
    settings: Any,
    *,
    host: str,
    port: int,
    uvicorn_options: dict[str, Any],
    org_doc: Any = None,
    testing: bool = False,
) -> None:
    startup_gc.pause()
    _KEY_POOL.fill("RS256", ORG_SERVER_KEYS)
    asyncio.run(
        serve_memory(
            settings, host=host, port=port, uvicorn_options=uvicorn_options, org_doc=org_doc, testing=testing
        )
    )
