"""The ``ostiary`` command line. Imports stay lazy so that ``serve`` starts fast."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Ostiary: self-hosted, Okta-compatible API Access Management.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (SSWS).", no_args_is_help=True)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
user_app = typer.Typer(help="Users (bootstrapping).", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")

DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite)")]
OrgOpt = Annotated[str | None, typer.Option("--org", help="Org subdomain (default org when omitted)")]


def _settings(database_url: str | None = None) -> Any:
    from ostiary.settings import load_settings

    return load_settings(database_url=database_url)


async def _with_tx(database_url: str | None, org_subdomain: str | None, work: Any) -> Any:
    from ostiary.app import build_runtime, prepare
    from ostiary.domain.context import Actor, Tx
    from ostiary.store.repositories import orgs

    rt = build_runtime(_settings(database_url))
    try:
        await prepare(rt)
        async with rt.db.session() as session:
            org = await orgs.get_by_subdomain(session, org_subdomain) if org_subdomain else None
            if org_subdomain and org is None:
                org = await orgs.create_org(session, org_subdomain, org_subdomain)
            org = org or await orgs.ensure_default(session)
            actor = Actor("cli", "SystemPrincipal", "ostiary-cli", "Ostiary CLI")
            return await work(Tx(session=session, org=org, actor=actor))
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
) -> None:
    """Run the org server: OAuth/OIDC, management API, sign-in."""
    import uvicorn

    from ostiary.app import SKIP_MIGRATE_ENV, build_runtime, prepare

    if database_url:
        os.environ["OSTIARY_DATABASE_URL"] = database_url
    settings = _settings(database_url)
    rt = build_runtime(settings)

    async def migrate_once() -> None:
        try:
            await prepare(rt)
        finally:
            await rt.db.dispose()

    asyncio.run(migrate_once())
    os.environ[SKIP_MIGRATE_ENV] = "1"
    uvicorn.run(
        "ostiary.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level=settings.log_level,
        date_header=False,
        server_header=False,
        proxy_headers=True,
    )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A name for the token")],
    org: OrgOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a super-admin API token; prints only the token on the last line."""
    from ostiary.domain.directory import api_tokens

    async def work(tx: Any) -> str:
        _token, plaintext = await api_tokens.create_token(tx, name)
        return plaintext

    typer.echo(asyncio.run(_with_tx(database_url, org, work)))


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
    for user in asyncio.run(_with_tx(database_url, org, work)):
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


if __name__ == "__main__":
    app()
