"""The ``ostiary`` command line. Imports stay lazy so that ``serve`` starts fast."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from ostiary.cli_fast_path import FastServeTyper

app = FastServeTyper(
    help="Ostiary: self-hosted, Okta-compatible API Access Management.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens (SSWS).", no_args_is_help=True)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
user_app = typer.Typer(help="Users (bootstrapping).", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")

from ostiary.org_file_cli import register as _register_org_file_commands  # noqa: E402

_register_org_file_commands(app)  # export, import

DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite)")]
OrgOpt = Annotated[str | None, typer.Option("--org", help="Org subdomain (default org when omitted)")]


def _settings(database_url: str | None = None) -> Any:
    from ostiary.settings import SettingsError, load_settings

    try:
        return load_settings(database_url=database_url)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


async def _with_tx(database_url: str | None, org_subdomain: str | None, work: Any) -> Any:
    from ostiary.app import build_runtime, prepare
    from ostiary.domain.context import Actor, Tx
    from ostiary.domain.directory import orgs as org_domain
    from ostiary.domain.orgs import org_record
    from ostiary.store.repositories import orgs

    rt = build_runtime(_settings(database_url))
    try:
        await prepare(rt)

        async def in_org(session: Any) -> Any:
            # An unknown --org is an error (DomainError → exit 1), never a new org.
            org = await org_domain.get_org(session, org_subdomain) if org_subdomain else None
            org = org or await orgs.ensure_default(session)
            actor = Actor("cli", "SystemPrincipal", "ostiary-cli", "Ostiary CLI")
            return await work(Tx(session=session, org=org_record(org), actor=actor))

        return await rt.db.transaction(in_org)
    finally:
        await rt.db.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    database_url: DatabaseOpt = None,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate for https")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key for https")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    graceful_timeout: Annotated[
        int, typer.Option("--graceful-timeout", help="Seconds to let requests finish on shutdown")
    ] = 5,
    signing_processes: Annotated[
        int | None,
        typer.Option(
            "--signing-processes",
            min=0,
            help="Processes per worker that sign tokens (0: threads); default: CPUs / workers",
        ),
    ] = None,
    db_wait: Annotated[
        float,
        typer.Option(
            "--db-wait", min=0, help="Seconds to wait for an unreachable PostgreSQL at start, with backoff"
        ),
    ] = 30,
    memory: Annotated[
        bool,
        typer.Option(
            "--memory",
            help="Nothing on disk: SQLite in memory, an ephemeral master key; prints an API token",
        ),
    ] = False,
    apply_org: Annotated[
        Path | None,
        typer.Option("--apply", help="With --memory: an org file to apply before the port opens"),
    ] = None,
    testing: Annotated[
        bool,
        typer.Option(
            "--testing",
            help="With --memory: fault injection and the /__ostiary/testing admin API (docs/testing.md)",
        ),
    ] = False,
) -> None:
    """Run the org server: OAuth/OIDC, management API, sign-in."""
    if apply_org is not None and not memory:
        typer.echo("error: --apply needs --memory (use `ostiary apply -f` on a data dir)", err=True)
        raise typer.Exit(2)
    if testing and not memory:
        typer.echo("error: --testing needs --memory", err=True)
        raise typer.Exit(2)
    if memory:
        if workers != 1 or database_url:
            typer.echo(
                "error: --memory runs one process on its own database (no --workers, --database-url)",
                err=True,
            )
            raise typer.Exit(2)
        org_doc = _checked_org_file_or_exit(apply_org) if apply_org is not None else None
        _serve_memory(
            host,
            port,
            log_level=_settings(None).log_level,
            tls=(tls_cert, tls_key),
            org_doc=org_doc,
            testing=testing,
        )
        return
    import uvicorn

    from ostiary.app import SKIP_MIGRATE_ENV
    from ostiary.cpus import available_cpus
    from ostiary.gc_tuning import SERVING_ENV
    from ostiary.log_redaction import uvicorn_log_config
    from ostiary.serving.uvicorn_protocol import WEBSOCKETS, CoalescingHttpToolsProtocol
    from ostiary.settings import SIGNING_PROCESSES_ENV

    if database_url:
        os.environ["OSTIARY_DATABASE_URL"] = database_url
    if signing_processes is None and not os.environ.get(SIGNING_PROCESSES_ENV):
        signing_processes = max(1, available_cpus() // max(workers, 1))
    if signing_processes is not None:
        os.environ[SIGNING_PROCESSES_ENV] = str(signing_processes)
    settings = _settings(database_url)
    _start_or_exit(settings, lambda rt: _wait_and_prepare(rt, db_wait))
    os.environ[SKIP_MIGRATE_ENV] = "1"
    os.environ[SERVING_ENV] = "1"
    uvicorn.run(
        "ostiary.app:create_app",
        factory=True,
        http=CoalescingHttpToolsProtocol,
        ws=WEBSOCKETS,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level=settings.log_level,
        log_config=uvicorn_log_config(),  # no secret in a log line, the access log's URLs included
        # uvicorn formats every access-log line's arguments before the logger drops them.
        access_log=settings.log_level in ("trace", "debug", "info"),
        date_header=False,
        server_header=False,
        proxy_headers=True,
        # Idle TLS keep-alive connections otherwise hold a stop for as long as the client keeps them.
        timeout_graceful_shutdown=graceful_timeout,
    )


def _serve_memory(
    host: str,
    port: int,
    *,
    log_level: str,
    tls: tuple[Path | None, Path | None] = (None, None),
    org_doc: Any = None,
    testing: bool = False,
) -> None:
    """``serve --memory``: one process, one event loop (see ``ostiary.memory_server``)."""
    from ostiary import memory_server
    from ostiary.log_redaction import uvicorn_log_config
    from ostiary.serving.uvicorn_protocol import WEBSOCKETS, CoalescingHttpToolsProtocol

    scheme = "https" if tls[0] else "http"
    settings = memory_server.memory_settings(_settings(None), port, scheme=scheme)
    memory_server.run(
        settings,
        host=host,
        port=port,
        org_doc=org_doc,
        testing=testing,
        uvicorn_options={
            "http": CoalescingHttpToolsProtocol,
            "ws": WEBSOCKETS,
            "log_level": log_level,
            "log_config": uvicorn_log_config(),
            "access_log": log_level in ("trace", "debug", "info"),
            "date_header": False,
            "server_header": False,
            "timeout_graceful_shutdown": 5,
            "ssl_certfile": str(tls[0]) if tls[0] else None,
            "ssl_keyfile": str(tls[1]) if tls[1] else None,
        },
    )


async def _wait_and_prepare(rt: Any, db_wait: float) -> None:
    from ostiary.app import database_of, prepare
    from ostiary.store.waiting import wait_for_database

    try:
        await wait_for_database(database_of(rt), db_wait, lambda line: typer.echo(line, err=True))
        await prepare(rt)
    finally:
        await rt.db.dispose()


def _start_or_exit(settings: Any, start: Any) -> None:
    """Build the runtime and run ``start(runtime)``; a failure of the data directory or the
    database ends the process with one line on stderr and exit status 1, not a traceback."""
    from ostiary.app import build_runtime
    from ostiary.db_faults import classify
    from ostiary.store.waiting import DatabaseNotReady, describe

    try:
        asyncio.run(start(build_runtime(settings)))
    except DatabaseNotReady as exc:
        typer.echo(f"error: cannot start: {exc}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(
            f"error: cannot start: {exc.strerror or exc} ({exc.filename or settings.data_dir})", err=True
        )
        raise typer.Exit(1) from None
    except Exception as exc:
        if classify(exc) is None:
            raise
        typer.echo(f"error: cannot start: {describe(exc, settings.database_url)}", err=True)
        raise typer.Exit(1) from None


@app.command()
def demo(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Keep the demo's data here (default: a temp dir)")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port_offset: Annotated[int, typer.Option("--port-offset", help="Added to every demo port")] = 0,
) -> None:
    """The whole seed scenario: org :8080, gateway :8081, APIs :8082 and :8083, demo app :3090."""
    import tempfile

    from ostiary.demo_runner import run_demo

    directory = data_dir or Path(tempfile.mkdtemp(prefix="ostiary-demo-"))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    raise typer.Exit(run_demo(directory, host=host, port_offset=port_offset))


gateway_app = typer.Typer(help="The API gateway.", invoke_without_command=True)
app.add_typer(gateway_app, name="gateway")


@gateway_app.callback()
def gateway(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="gateway.yaml")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: the file's listen.port, else 8081)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface (default: the file's listen.host)")] = None,
    reuse_port: Annotated[
        bool, typer.Option("--reuse-port", help="Let more gateway processes serve this port (SO_REUSEPORT)")
    ] = False,
) -> None:
    """Run the API gateway: ``ostiary gateway --config gateway.yaml [--port 8081]``."""
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        typer.echo("error: --config is required", err=True)
        raise typer.Exit(2)
    from ostiary.gateway.server import run_gateway

    _settings()  # the process-wide OSTIARY_* variables it shares with serve (e.g. OSTIARY_READ_TIMEOUT)
    run_gateway(config, host=host, port=port, reuse_port=reuse_port)


@gateway_app.command("config")
def gateway_config(
    from_authorization_server: Annotated[str, typer.Option("--from-authorization-server", help="Server id")],
    mapping: Annotated[Path, typer.Option("--mapping", help="YAML: upstream and scope -> calls")],
    org_url: Annotated[str, typer.Option("--org-url", envvar="OSTIARY_BASE_URL")] = "http://localhost:8080",
    token: Annotated[
        str | None, typer.Option("--token", envvar="OSTIARY_API_TOKEN", help="SSWS API token")
    ] = None,
) -> None:
    """Print a gateway.yaml generated from an authorization server's scopes and a mapping file."""
    import requests
    import yaml

    from ostiary.gateway.generate import generate_config

    if not token:
        typer.echo("error: --token (or OSTIARY_API_TOKEN) is required", err=True)
        raise typer.Exit(2)
    headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}
    base = f"{org_url.rstrip('/')}/api/v1/authorizationServers/{from_authorization_server}"
    server = requests.get(base, headers=headers, timeout=10)
    scopes = requests.get(f"{base}/scopes", headers=headers, timeout=10)
    if server.status_code != 200 or scopes.status_code != 200:
        typer.echo(f"error: {server.status_code} {server.text[:200]}", err=True)
        raise typer.Exit(1)
    try:
        generated = generate_config(server.json(), scopes.json(), yaml.safe_load(mapping.read_text()))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(yaml.safe_dump(generated, sort_keys=False))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A name for the token")],
    org: OrgOpt = None,
    database_url: DatabaseOpt = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="LOGIN of the super admin the token acts as (created, with SUPER_ADMIN, if absent); "
            "without it the token has no user and acts as a super admin",
        ),
    ] = None,
) -> None:
    """Create a super-admin API token; prints only the token on the last line."""
    from ostiary.domain.directory import api_tokens
    from ostiary.domain.roles import admins

    async def work(tx: Any) -> str:
        user_id = (await admins.ensure_super_admin(tx, user)).id if user else None
        _token, plaintext = await api_tokens.create_token(tx, name, user_id=user_id)
        return plaintext

    typer.echo(_run_domain(lambda: _with_tx(database_url, org, work)))


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOpt = None) -> None:
    """Apply database migrations."""

    async def work(_tx: Any) -> None:
        return None

    asyncio.run(_with_tx(database_url, None, work))
    typer.echo("database is up to date")


@user_app.command("create")
def user_create(
    login: Annotated[str, typer.Option("--login")],
    first_name: Annotated[str, typer.Option("--first-name")],
    last_name: Annotated[str, typer.Option("--last-name")],
    password: Annotated[
        str | None, typer.Option("--password", help="Omit to create without credentials")
    ] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    org: OrgOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create an active user."""
    from ostiary.domain.directory import users

    body: dict[str, Any] = {
        "profile": {"login": login, "email": email or login, "firstName": first_name, "lastName": last_name}
    }
    if password:
        body["credentials"] = {"password": {"value": password}}

    async def work(tx: Any) -> str:
        user = await users.create_user(tx, body, activate=True)
        return f"{user.id} {user.login} {user.status}"

    typer.echo(_run_domain(lambda: _with_tx(database_url, org, work)))


@user_app.command("list")
def user_list(org: OrgOpt = None, database_url: DatabaseOpt = None) -> None:
    """List users."""
    from rich.console import Console
    from rich.table import Table

    from ostiary.domain.directory import users

    async def work(tx: Any) -> list[Any]:
        return list((await users.list_users(tx, limit=1000)).items)

    table = Table("id", "login", "status", "name")
    for user in _run_domain(lambda: _with_tx(database_url, org, work)):
        name = f"{user.profile.get('firstName') or ''} {user.profile.get('lastName') or ''}".strip()
        table.add_row(user.id, user.login, user.status, name)
    Console().print(table)


def _run_domain(make: Any) -> Any:
    from ostiary.domain.errors import DomainError

    try:
        return asyncio.run(make())
    except DomainError as exc:
        causes = "; ".join(exc.causes)
        typer.echo(f"error: {exc.message}{' (' + causes + ')' if causes else ''}", err=True)
        raise typer.Exit(1) from None


access_gateway_app = typer.Typer(
    help="The access gateway and its /api/v2 admin API.", invoke_without_command=True
)
access_gateway_clients = typer.Typer(help="Admin API clients (private_key_jwt).", no_args_is_help=True)
app.add_typer(access_gateway_app, name="access-gateway")
access_gateway_app.add_typer(access_gateway_clients, name="api-client")
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="State directory (default: OSTIARY_DATA_DIR)")
]
PublicUrlOpt = Annotated[
    str | None, typer.Option("--public-url", help="Admin origin (default: http://localhost:<port>)")
]


@access_gateway_app.callback()
def access_gateway(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8090,
    public_url: PublicUrlOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate for https")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key for https")] = None,
) -> None:
    """Run the access gateway: ``ostiary access-gateway [--port 8090] [--public-url URL]``."""
    if ctx.invoked_subcommand is not None:
        return
    if (tls_cert is None) != (tls_key is None):
        typer.echo("error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(2)
    from ostiary.access_gateway.command import StartError
    from ostiary.access_gateway.command import serve as serve_access_gateway

    try:
        serve_access_gateway(
            host=host,
            port=port,
            public_url=public_url,
            data_dir=data_dir,
            database_url=database_url,
            tls_cert=tls_cert,
            tls_key=tls_key,
            log_level=os.environ.get("OSTIARY_LOG_LEVEL", "info").lower(),
        )
    except StartError as exc:
        typer.echo(f"error: cannot start: {exc}", err=True)
        raise typer.Exit(1) from None


@access_gateway_clients.command("create")
def access_gateway_client_create(
    name: Annotated[str, typer.Option("--name", help="A name for the client")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A scope (repeat); default: the app, cert and idp scopes"),
    ] = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
    public_url: PublicUrlOpt = None,
) -> None:
    """Create an admin API client; prints one JSON object (the private key is shown only once)."""
    import json

    from ostiary.access_gateway.admin.api_clients import UnknownScope
    from ostiary.access_gateway.command import create_client

    try:
        created = create_client(
            name=name, scopes=scope or [], data_dir=data_dir, database_url=database_url, public_url=public_url
        )
    except UnknownScope as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(created, indent=2))


integration_app = typer.Typer(help="The API service integration catalog.", no_args_is_help=True)
app.add_typer(integration_app, name="integration")


@integration_app.command("publish")
def integration_publish(
    file: Annotated[Path, typer.Option("-f", "--file", help="entry.yaml: type, name, scopes, ...")],
    database_url: DatabaseOpt = None,
) -> None:
    """Create or update a catalog entry and make it ACTIVE at once; prints its type.

    The file's keys: type, name, scopes (okta.* scopes) required; description, logoUrl,
    configGuideUrl, properties optional. A new entry is published by the default org.
    """
    import yaml

    from ostiary.domain.integrations import catalog

    try:
        body = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    if not isinstance(body, dict):
        typer.echo(f"error: {file} must be a YAML mapping (type, name, scopes, ...)", err=True)
        raise typer.Exit(1)

    async def work(tx: Any) -> str:
        entry = await catalog.publish_entry(tx, body)
        return entry.type

    typer.echo(_run_domain(lambda: _with_tx(database_url, None, work)))


org_app = typer.Typer(
    help="Orgs, each at {NAME}.{base host}, and their custom domains.", no_args_is_help=True
)
org_domain_app = typer.Typer(help="Custom domains of an org.", no_args_is_help=True)
app.add_typer(org_app, name="org")
org_app.add_typer(org_domain_app, name="domain")


async def _with_orgs(database_url: str | None, work: Any) -> Any:
    """Run ``work(session, runtime)`` in one transaction of a prepared database."""
    from ostiary.app import build_runtime, prepare

    rt = build_runtime(_settings(database_url))
    try:
        await prepare(rt)
        return await rt.db.transaction(lambda session: work(session, rt))
    finally:
        await rt.db.dispose()


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Argument(help="One DNS label in lower case: the org's subdomain")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Default: NAME")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create an org with its org authorization server and `default` server; prints its URL last."""
    from ostiary.domain.directory import orgs as org_domain

    async def work(session: Any, rt: Any) -> str:
        org = await org_domain.create_org(session, name, display_name)
        return f"{org.subdomain} {org.id}\n{rt.org_url(org)}"

    typer.echo(_run_domain(lambda: _with_orgs(database_url, work)))


@org_app.command("list")
def org_list(database_url: DatabaseOpt = None) -> None:
    """List orgs: name, id, display name, URL, custom domains."""
    from ostiary.domain.directory import orgs as org_domain

    async def work(session: Any, rt: Any) -> list[tuple[str, ...]]:
        return [
            (item.org.subdomain, item.org.id, item.org.name, rt.org_url(item.org), " ".join(item.domains))
            for item in await org_domain.list_orgs(session)
        ]

    for row in _run_domain(lambda: _with_orgs(database_url, work)):
        typer.echo("\t".join(row).rstrip())


@org_domain_app.command("add")
def org_domain_add(
    name: Annotated[str, typer.Argument(help="The org")],
    host: Annotated[str, typer.Argument(help="A host name (no port) that names this org only")],
    database_url: DatabaseOpt = None,
) -> None:
    """Serve the org NAME at HOST too (requests with that Host header reach it)."""
    from ostiary.domain.directory import orgs as org_domain

    async def work(session: Any, rt: Any) -> str:
        return await org_domain.add_domain(session, name, host, base_host=rt.base_host)

    typer.echo(_run_domain(lambda: _with_orgs(database_url, work)))


@app.command("preview")
def preview(
    server: Annotated[str, typer.Option("--server", help="Authorization server id (e.g. default)")],
    client: Annotated[str, typer.Option("--client", help="Client id")],
    grant_type: Annotated[
        str, typer.Option("--grant-type", help="authorization_code, implicit or client_credentials")
    ],
    scope: Annotated[str, typer.Option("--scope", help="Space-separated scopes")] = "",
    user: Annotated[
        str | None, typer.Option("--user", help="User id or login (none for client_credentials)")
    ] = None,
    org: OrgOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Token preview: the claims a token request would get (or its error) and the rule trace, as
    JSON; nothing is issued. Exit status 0 when granted, 1 when refused."""
    import json

    from ostiary.domain.tokens.preview import PreviewRequest

    wanted = PreviewRequest(client_id=client, grant_type=grant_type, scopes=tuple(scope.split()), user=user)
    result = _run_domain(lambda: _preview(database_url, org, server, wanted))
    typer.echo(json.dumps(result, indent=2))
    if not result["granted"]:
        raise typer.Exit(1)


async def _preview(database_url: str | None, org_subdomain: str | None, server_id: str, wanted: Any) -> Any:
    from ostiary.app import build_runtime, prepare
    from ostiary.domain.authz import server_admin
    from ostiary.domain.context import Tx
    from ostiary.domain.errors import NotFound
    from ostiary.domain.orgs import org_record
    from ostiary.domain.tokens.preview import preview_tokens
    from ostiary.store.repositories import orgs

    rt = build_runtime(_settings(database_url))
    try:
        await prepare(rt)
        async with rt.db.session() as session:
            org = await orgs.get_by_subdomain(session, org_subdomain) if org_subdomain else None
            if org_subdomain and org is None:
                raise NotFound(f"No org {org_subdomain}")
            org = org_record(org or await orgs.ensure_default(session))
            await server_admin.manageable_server(Tx(session=session, org=org), server_id)
        ring = await rt.rings.ring(org.id, server_id)
        async with rt.db.session() as session:
            tx = Tx(session=session, org=org)
            server = await server_admin.manageable_server(tx, server_id)
            storage = rt.token_storage(session)
            result = await preview_tokens(tx, server, ring, wanted, org_url=rt.org_url(org), storage=storage)
            return result.as_json()
    finally:
        await rt.db.dispose()


if __name__ == "__main__":
    app()


class _DryRun(Exception):
    """Raised inside the transaction of ``apply --dry-run`` so that it rolls back."""

    def __init__(self, changes: list[Any]) -> None:
        self.changes = changes


@app.command("apply")
def apply_file(
    file: Annotated[Path, typer.Option("-f", "--file", help="The org file (YAML)")],
    org: OrgOpt = None,
    database_url: DatabaseOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Delete what the file no longer has")] = False,
    org_url: Annotated[str | None, typer.Option("--org-url", help="A running org (Okta or Ostiary)")] = None,
    token: Annotated[str | None, typer.Option("--token", help="With --org-url: an SSWS API token")] = None,
) -> None:
    """Bring an org to the groups, users, apps and authorization servers of a file, in one transaction."""
    if org_url is not None:
        from ostiary.org_file_cli import apply_remote

        changes, error = apply_remote(file, org_url, token, dry_run=dry_run, prune=prune)
    else:
        changes, error = _apply_org_file(file, org, database_url, dry_run=dry_run, prune=prune)
    if error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    for change in changes:
        typer.echo(str(change))
    created = sum(change.verb == "create" for change in changes)
    updated = sum(change.verb == "update" for change in changes)
    deleted = sum(change.verb == "delete" for change in changes)
    prefix = "dry run: " if dry_run else ""
    typer.echo(f"{prefix}{created} created, {updated} updated, {deleted} deleted")


def _read_org_file(file: Path) -> Any:
    import yaml

    from ostiary.domain.org_file.document import OrgFileError, check

    try:
        return check(yaml.safe_load(file.read_text(encoding="utf-8")))
    except OSError as exc:
        raise OrgFileError("", f"cannot read {file}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise OrgFileError("", f"{file} is not valid YAML: {exc}") from None


def _apply_org_file(
    file: Path, org: str | None, database_url: str | None, *, dry_run: bool, prune: bool = False
) -> tuple[list[Any], str | None]:
    """``(changes, None)``, or ``([], message)`` when the file is refused (nothing applied)."""
    from ostiary.domain.errors import DomainError
    from ostiary.domain.org_file.applying import apply_org
    from ostiary.domain.org_file.document import OrgFileError

    try:
        doc = _read_org_file(file)
    except OrgFileError as exc:
        return [], str(exc)
    settings = _settings(database_url)

    async def work(tx: Any) -> list[Any]:
        changes = await apply_org(tx, doc, org_url=_org_url(settings, tx), prune=prune)
        if dry_run:
            raise _DryRun(changes)
        return changes

    try:
        return asyncio.run(_with_tx(database_url, org, work)), None
    except _DryRun as done:
        return done.changes, None
    except (OrgFileError, DomainError) as exc:
        return [], str(exc)


def _org_url(settings: Any, tx: Any) -> str:
    """The org URL (the org server's issuer, which ``okta.*`` grants name), as ``runtime.org_url``."""
    from urllib.parse import urlsplit

    base = str(settings.base_url).rstrip("/")
    if tx.org.is_default:
        return base
    parts = urlsplit(base)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{tx.org.subdomain}.{parts.hostname}{port}"


def _checked_org_file_or_exit(file: Path) -> Any:
    from ostiary.domain.org_file.document import OrgFileError

    try:
        return _read_org_file(file)
    except OrgFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":  # `python -m ostiary.cli`: how `ostiary demo` starts its parts
    app(prog_name="ostiary")
