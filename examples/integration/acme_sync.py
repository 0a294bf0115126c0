#!/usr/bin/env python3
"""A sample API service integration ("Acme Sync") for Ostiary or Okta.

Each customer installs the integration into their own org (``POST /integrations/api/v1/api-services``
or the catalog), which gives them a client id and secret for that org alone. They hand those to the
vendor, who stores ``{domain, client_id, client_secret}`` per customer and, for each customer,
asks ``https://{domain}/oauth2/v1/token`` for a client-credentials token (``client_secret_basic``)
and calls that org's management API with it.

    python acme_sync.py --store customers.json add-customer acme --domain acme.example.com \\
        --client-id 0oa... --client-secret-env ACME_SECRET
    python acme_sync.py --store customers.json report

The store is a JSON file (mode 0600: it holds secrets). Tokens are kept in it with their expiry
and reused until one minute before they expire. ``--domain`` may be a host (https is used) or a
full ``http(s)://`` URL (plain http only for local test servers). Only ``httpx`` is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

SCOPES = "okta.users.read okta.groups.read"
EXPIRY_MARGIN_SECONDS = 60


class IntegrationError(Exception):
    """A customer's org refused us; the message says why (never a secret)."""


class Store:
    """``{"customers": {name: {"domain", "client_id", "client_secret", "token"?}}}`` in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"customers": {}}
        if path.exists():
            self.data = json.loads(path.read_text(encoding="utf-8"))

    @property
    def customers(self) -> dict[str, dict[str, Any]]:
        customers: dict[str, dict[str, Any]] = self.data.setdefault("customers", {})
        return customers

    def save(self) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.data, out, indent=2)
        os.replace(tmp, self.path)


def org_url(domain: str) -> str:
    return domain.rstrip("/") if domain.startswith(("https://", "http://")) else f"https://{domain}"


def access_token(http: httpx.Client, customer: dict[str, Any], log: Any) -> str:
    """The customer's cached token while it has a minute left, else a new one (and cache it)."""
    cached = customer.get("token")
    if cached and cached["expires_at"] - EXPIRY_MARGIN_SECONDS > time.time():
        log(f"token: cached for {customer['domain']}")
        return str(cached["access_token"])
    response = http.post(
        f"{org_url(customer['domain'])}/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": SCOPES},
        auth=(customer["client_id"], customer["client_secret"]),
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        raise IntegrationError(_oauth_error(response))
    body = response.json()
    customer["token"] = {"access_token": body["access_token"], "expires_at": time.time() + body["expires_in"]}
    log(f"token: fetched for {customer['domain']}")
    return str(body["access_token"])


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{response.status_code} {body.get('error')}: {body.get('error_description')}"
    except ValueError:
        return f"{response.status_code}"


def paged(http: httpx.Client, url: str, token: str) -> Iterator[dict[str, Any]]:
    """Every item of a management list, following ``Link: <...>; rel="next"``."""
    next_url: str | None = url
    while next_url:
        response = http.get(
            next_url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        if response.status_code != 200:
            try:
                summary = response.json().get("errorSummary")
            except ValueError:
                summary = None
            raise IntegrationError(f"{response.status_code} {summary or response.reason_phrase}")
        yield from response.json()
        next_url = response.links.get("next", {}).get("url")


def report(store: Store, http: httpx.Client, out: Any, log: Any) -> int:
    """Print each customer org's users and groups; 1 if any customer failed."""
    failed = 0
    for name, customer in sorted(store.customers.items()):
        base = org_url(customer["domain"])
        print(f"== {name} ({base})", file=out)
        try:
            token = access_token(http, customer, log)
            users = list(paged(http, f"{base}/api/v1/users?limit=200", token))
            groups = list(paged(http, f"{base}/api/v1/groups?limit=200", token))
        except (IntegrationError, httpx.HTTPError) as exc:
            customer.pop("token", None)
            print(f"   error: {exc}", file=out)
            failed += 1
            continue
        for user in users:
            print(f"   user  {user['profile']['login']}", file=out)
        for group in groups:
            print(f"   group {group['profile']['name']}", file=out)
    store.save()
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None, *, out: Any = None, err: Any = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", type=Path, required=True, help="JSON file of customers' credentials")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-customer", help="store a customer's domain, client id and secret")
    add.add_argument("name")
    add.add_argument("--domain", required=True, help="the customer's org: host or http(s) URL")
    add.add_argument("--client-id", required=True)
    add.add_argument("--client-secret-env", required=True, help="name of the variable holding the secret")
    commands.add_parser("report", help="print each customer org's users and groups")
    args = parser.parse_args(argv)

    store = Store(args.store)
    if args.command == "add-customer":
        secret = os.environ.get(args.client_secret_env)
        if not secret:
            print(f"error: ${args.client_secret_env} is not set", file=err)
            return 2
        store.customers[args.name] = {
            "domain": args.domain,
            "client_id": args.client_id,
            "client_secret": secret,
        }
        store.save()
        print(f"stored {args.name}", file=out)
        return 0
    with httpx.Client(timeout=30) as http:
        return report(store, http, out, lambda line: print(line, file=err))


if __name__ == "__main__":
    sys.exit(main())
