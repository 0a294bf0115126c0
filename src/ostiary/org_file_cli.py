"""``ostiary export`` and ``ostiary import``, and ``apply --org-url`` (the org as a file, issue 21).

Kept out of ``cli.py``; :func:`register` adds the commands. Imports stay lazy (``serve`` starts
fast). A local org is read in one transaction through the domain; a remote one (Okta or Ostiary)
only through Okta's public management API (:mod:`ostiary.org_remote`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

OrgUrlOpt = Annotated[
    str | None, typer.Option("--org-url", help="A running org (Okta or Ostiary), reached through its API")
]
TokenOpt = Annotated[str | None, typer.Option("--token", help="With --org-url: an SSWS API token")]
OutOpt = Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE (default: stdout)")]
SecretsOpt = Annotated[
    bool, typer.Option("--with-secrets", help="Include the client secrets the source returns")
]


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_org)


def _yaml(doc: Any) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def export(
    org: Annotated[str | None, typer.Option("--org", help="Org subdomain (default org when omitted)")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite)")
    ] = None,
    output: OutOpt = None,
    with_secrets: SecretsOpt = False,
    org_url: OrgUrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Write an org as an org file (the format `ostiary apply -f` reads): names, never generated ids."""
    from ostiary.domain.errors import DomainError

    try:
        if org_url is not None:
            doc = remote_export(org_url, _token_or_exit(token), with_secrets=with_secrets)
        else:
            doc = local_export(org, database_url, with_secrets=with_secrets)
    except DomainError as exc:
        raise _fail(str(exc)) from None
    _write(_yaml(doc), output)


def local_export(org: str | None, database_url: str | None, *, with_secrets: bool = False) -> dict[str, Any]:
    from ostiary import cli
    from ostiary.domain.org_file.exporting import read_org
    from ostiary.domain.org_file.from_okta import to_file

    settings = cli._settings(database_url)

    async def work(tx: Any) -> Any:
        return await read_org(tx, org_url=cli._org_url(settings, tx))

    okta_org = asyncio.run(cli._with_tx(database_url, org, work))
    return to_file(okta_org, with_secrets=with_secrets)


def _token_or_exit(token: str | None) -> str:
    if not token:
        raise _fail("--org-url needs --token (an SSWS API token)")
    return token


def remote_export(org_url: str, token: str, *, with_secrets: bool = False) -> dict[str, Any]:
    from ostiary.domain.org_file.from_okta import to_file
    from ostiary.org_remote.client import ManagementClient, RemoteError
    from ostiary.org_remote.reading import read_org

    async def work() -> Any:
        async with ManagementClient(org_url, token) as client:
            return await read_org(client)

    try:
        return to_file(asyncio.run(work()), with_secrets=with_secrets)
    except RemoteError as exc:
        raise _fail(str(exc)) from None


def apply_remote(
    file: Path, org_url: str, token: str | None, *, dry_run: bool, prune: bool
) -> tuple[list[Any], str | None]:
    """``apply --org-url``: ``(changes, None)`` or ``([], message)``."""
    from ostiary import cli
    from ostiary.domain.org_file.document import OrgFileError

    try:
        doc = cli._read_org_file(file)
    except OrgFileError as exc:
        return [], str(exc)
    return _apply_doc_remote(doc, org_url, _token_or_exit(token), dry_run=dry_run, prune=prune)


def _apply_doc_remote(
    doc: Any, org_url: str, token: str, *, dry_run: bool, prune: bool
) -> tuple[list[Any], str | None]:
    from ostiary.domain.org_file.document import OrgFileError
    from ostiary.org_remote.applying import apply_remote as apply_through_api
    from ostiary.org_remote.client import ManagementClient, RemoteError

    async def work() -> list[Any]:
        async with ManagementClient(org_url, token) as client:
            return await apply_through_api(client, doc, dry_run=dry_run, prune=prune)

    try:
        return asyncio.run(work()), None
    except (OrgFileError, RemoteError) as exc:
        return [], str(exc)


def apply_local(
    doc: Any, org: str | None, database_url: str | None, *, dry_run: bool = False, prune: bool = False
) -> tuple[list[Any], str | None]:
    """A checked document applied to a local org in one transaction: ``(changes, None)`` or
    ``([], message)``."""
    from ostiary import cli
    from ostiary.domain.errors import DomainError
    from ostiary.domain.org_file.applying import apply_org
    from ostiary.domain.org_file.document import OrgFileError

    settings = cli._settings(database_url)

    async def work(tx: Any) -> list[Any]:
        changes = await apply_org(tx, doc, org_url=cli._org_url(settings, tx), prune=prune)
        if dry_run:
            raise cli._DryRun(changes)
        return changes

    try:
        return asyncio.run(cli._with_tx(database_url, org, work)), None
    except cli._DryRun as done:
        return done.changes, None
    except (OrgFileError, DomainError) as exc:
        return [], str(exc)


def import_org(
    from_okta: Annotated[str, typer.Option("--from-okta", help="The source org's URL (Okta or Ostiary)")],
    token: Annotated[str, typer.Option("--token", help="An SSWS API token of the source org")],
    output: OutOpt = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Apply to this local org instead of writing a file")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="With --org: SQLAlchemy URL (default: SQLite)")
    ] = None,
) -> None:
    """Copy a real org's configuration: groups, users (no passwords), apps (no secrets), servers, origins.

    With ``-o FILE`` (or neither option: stdout) the org file is written; with ``--org NAME``
    it is applied to that local org (``--org default`` for the default org).
    """
    doc = remote_export(from_okta, token, with_secrets=False)
    doc.pop("apiTokens", None)  # the source's tokens are its own
    if org is None:
        _write(_yaml(doc), output)
        return
    from ostiary.domain.org_file.document import OrgFileError, check

    try:
        check(doc)
    except OrgFileError as exc:
        raise _fail(str(exc)) from None
    target = None if org == "default" else org
    changes, error = apply_local(doc, target, database_url)
    if error:
        raise _fail(error)
    for change in changes:
        typer.echo(str(change))
    created = sum(c.verb == "create" for c in changes)
    updated = sum(c.verb == "update" for c in changes)
    typer.echo(f"{created} created, {updated} updated, 0 deleted")
