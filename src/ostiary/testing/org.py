"""One running test org: ``ostiary serve --memory --testing --apply FILE`` as a subprocess on a
free port, and the helpers a test needs around it (tokens, faults, reset)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ostiary.testing import user_login
from ostiary.testing.faults import Faults
from ostiary.testing.http_client import HttpError, Reply, basic, request
from ostiary.testing.tls import write_tls_files

TOKEN_LINE_PREFIX = "SSWS token: "
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...] = ()


@dataclass
class OstiaryOrg:
    """A started org. ``url`` is the org URL (issuers derive from it), ``api_token`` its SSWS
    token, ``ca_file`` the CA to trust when it serves TLS."""

    url: str
    api_token: str
    org_file: Path | None
    ca_file: Path | None
    process: subprocess.Popen[bytes]
    workdir: Path
    declared: dict[str, Any] = field(default_factory=dict)

    @property
    def faults(self) -> Faults:
        return Faults(self._call)

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None

    @property
    def log_file(self) -> Path:
        """The server's stderr (warnings and errors)."""
        return self.workdir / "server.log"

    def issuer(self, server_id: str | None = "default") -> str:
        """A custom server's issuer (``None``: the org authorization server's, the org URL)."""
        return self.url if server_id is None else f"{self.url}/oauth2/{server_id}"

    def oauth_base(self, server_id: str | None = "default") -> str:
        """Where ``/authorize``, ``/token``, ``/keys`` of that server live."""
        return f"{self.url}/oauth2/v1" if server_id is None else f"{self.url}/oauth2/{server_id}/v1"

    def api(self, method: str, path: str, json: Any = None) -> Reply:
        """A management API call with the org's SSWS token (``path`` from ``/api/v1/...``)."""
        return self._call(method, path, json)

    def _call(self, method: str, path: str, json: Any = None) -> Reply:
        headers = {"Authorization": f"SSWS {self.api_token}"}
        return request(method, self.url + path, headers=headers, json=json, ssl_context=self.ssl_context)

    def app(self, app: str) -> AppCredentials:
        """An app of the org file by ``label`` or fixed ``client_id``."""
        for entry in self.declared.get("apps") or []:
            oauth = (entry.get("credentials") or {}).get("oauthClient") or {}
            if app in (entry.get("label"), oauth.get("client_id")):
                if not oauth.get("client_id"):
                    raise LookupError(f"app {app!r}: fix its credentials.oauthClient.client_id in the file")
                method = oauth.get("token_endpoint_auth_method")
                secret = None if method == "none" else oauth.get("client_secret")
                uris = ((entry.get("settings") or {}).get("oauthClient") or {}).get("redirect_uris") or []
                return AppCredentials(str(oauth["client_id"]), secret, tuple(uris))
        raise LookupError(f"no app {app!r} in {self.org_file}")

    def password_of(self, login: str) -> str:
        for entry in self.declared.get("users") or []:
            if (entry.get("profile") or {}).get("login") == login:
                password = entry.get("password")
                if password is None:
                    password = ((entry.get("credentials") or {}).get("password") or {}).get("value")
                if password:
                    return str(password)
        raise LookupError(f"no password for {login!r} in {self.org_file}")

    def client_credentials(
        self,
        app: str,
        scopes: Sequence[str],
        *,
        server_id: str | None = "default",
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        """The token endpoint's answer to a ``client_credentials`` request of ``app`` (a label
        or client id of the file; or any client id with ``client_secret``)."""
        creds = AppCredentials(app, client_secret) if client_secret is not None else self.app(app)
        if creds.client_secret is None:
            raise LookupError(f"app {app!r} has no client secret in the file")
        reply = request(
            "POST",
            f"{self.oauth_base(server_id)}/token",
            form={"grant_type": "client_credentials", "scope": " ".join(scopes)},
            headers={"Authorization": basic(creds.client_id, creds.client_secret)},
            ssl_context=self.ssl_context,
        )
        if reply.status != 200:
            raise HttpError(f"client_credentials for {app}", reply)
        result: dict[str, Any] = reply.json()
        return result

    def client_credentials_token(
        self, app: str, scopes: Sequence[str], *, server_id: str | None = "default", **kw: Any
    ) -> str:
        """Just the access token of :meth:`client_credentials`."""
        return str(self.client_credentials(app, scopes, server_id=server_id, **kw)["access_token"])

    def user_tokens(
        self,
        login: str,
        *,
        app: str,
        scopes: Sequence[str] = ("openid", "profile", "email"),
        server_id: str | None = "default",
        password: str | None = None,
        redirect_uri: str | None = None,
    ) -> dict[str, Any]:
        """``login``'s tokens for ``app`` through sign-in, ``/authorize`` with PKCE and the token
        endpoint, as a browser app gets them. The password and redirect URI come from the file
        unless given."""
        creds = self.app(app)
        redirect = redirect_uri or (creds.redirect_uris[0] if creds.redirect_uris else None)
        if redirect is None:
            raise LookupError(f"app {app!r} has no redirect_uris in the file")
        http = {"ssl_context": self.ssl_context}
        session = user_login.session_token(self.url, login, password or self.password_of(login), **http)
        verifier, challenge = user_login.pkce_pair()
        base = self.oauth_base(server_id)
        code = user_login.authorization_code(
            base,
            client_id=creds.client_id,
            redirect_uri=redirect,
            scopes=scopes,
            session=session,
            challenge=challenge,
            **http,
        )
        return user_login.redeem_code(
            base,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            redirect_uri=redirect,
            code=code,
            verifier=verifier,
            **http,
        )

    def snapshot(self) -> None:
        """Save the org as it is now; :meth:`reset` comes back to it (done once at start)."""
        reply = self._call("POST", "/__ostiary/testing/snapshot")
        if reply.status != 204:
            raise HttpError("snapshot", reply)

    def reset(self) -> None:
        """Back to the org as the file made it (a database restore: milliseconds), with no
        fault left and the clock on time."""
        reply = self._call("POST", "/__ostiary/testing/reset")
        if reply.status != 204:
            raise HttpError("reset", reply)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:  # nothing on disk to flush: open keep-alive connections need not hold the stop
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_org_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


TlsFiles = tuple[Path, Path, Path]
"""(CA, certificate, key) as :func:`ostiary.testing.tls.write_tls_files` writes them."""


def start_org(
    org_file: str | Path | None = None,
    *,
    tls: bool = False,
    tls_files: TlsFiles | None = None,
    attempts: int = 3,
) -> OstiaryOrg:
    """Start an org from ``org_file`` (or an empty one) and save its snapshot; retried on
    another port when the free port was taken meanwhile. With ``tls``, a new CA unless
    ``tls_files`` are given."""
    path = Path(org_file).resolve() if org_file is not None else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"ostiary org file not found: {path}")
    last: Exception | None = None
    for _ in range(attempts):
        try:
            org = _start_once(path, tls, tls_files)
        except _PortTaken as exc:
            last = exc
            continue
        org.snapshot()
        return org
    raise RuntimeError(f"could not start an Ostiary org: {last}")


class _PortTaken(Exception):
    pass


def _declared_token(declared: dict[str, Any]) -> str | None:
    """The org file's first API token with a fixed ``token``: ``serve --memory`` generates and
    prints a token only when the file declares none, so this is the one to use."""
    for entry in declared.get("apiTokens") or []:
        if isinstance(entry, dict) and isinstance(entry.get("token"), str):
            return str(entry["token"])
    return None


def _start_once(path: Path | None, tls: bool, tls_files: TlsFiles | None) -> OstiaryOrg:
    declared = read_org_file(path)
    if declared.get("apiTokens") and _declared_token(declared) is None:
        raise ValueError(
            f"{path}: apiTokens needs one token with a fixed `token` value (the org then prints none)"
        )
    workdir = Path(tempfile.mkdtemp(prefix="ostiary-pytest-"))
    port = free_port()
    command = [sys.executable, "-m", "ostiary", "serve", "--memory", "--testing", "--port", str(port)]
    if path is not None:
        command += ["--apply", str(path)]
    ca_file = None
    if tls:
        ca_file, cert, key = tls_files or write_tls_files(workdir / "tls")
        command += ["--tls-cert", str(cert), "--tls-key", str(key)]
    env = {k: v for k, v in os.environ.items() if k not in ("OSTIARY_BASE_URL", "OSTIARY_DATABASE_URL")}
    env.setdefault("OSTIARY_LOG_LEVEL", "warning")
    out, err = workdir / "server.out", workdir / "server.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, stdout=stdout, stderr=stderr, env=env, stdin=subprocess.DEVNULL
        )
    url = f"{'https' if tls else 'http'}://localhost:{port}"
    org = OstiaryOrg(url, _declared_token(declared) or "", path, ca_file, process, workdir, declared)
    try:
        org.api_token = _wait_ready(org, out, err)
    except BaseException:
        org.stop()
        raise
    return org


def _wait_ready(org: OstiaryOrg, out: Path, err: Path) -> str:
    """The token line from stdout (or the org file's own token), then ``/healthz`` answering."""
    deadline = time.monotonic() + START_TIMEOUT
    token = org.api_token
    while time.monotonic() < deadline:
        if org.process.poll() is not None:
            log = err.read_text(errors="replace")
            if "address already in use" in log.lower():
                raise _PortTaken(log[-300:])
            raise RuntimeError(f"ostiary serve exited ({org.process.returncode}):\n{log[-2000:]}")
        if not token:
            for line in out.read_text(errors="replace").splitlines():
                if line.startswith(TOKEN_LINE_PREFIX):
                    token = line[len(TOKEN_LINE_PREFIX) :].strip()
        if token:
            try:
                if request("GET", f"{org.url}/healthz", ssl_context=org.ssl_context, timeout=2).status == 200:
                    return token
            except OSError:
                pass
        time.sleep(0.02)
    raise RuntimeError(f"ostiary serve did not answer within {START_TIMEOUT:.0f}s: {err.read_text()[-2000:]}")
