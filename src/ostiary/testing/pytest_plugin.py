"""pytest plugin (entry point ``pytest11``: ``ostiary``): an Okta org on localhost for a test suite.

ini options (``pytest.ini``, ``[tool.pytest.ini_options]``)::

    ostiary_org_file = tests/org.yaml   # relative to the ini file; none: an empty org
    ostiary_scope = session             # or module: one org per test module
    ostiary_tls = false                 # true: https with a generated CA (org.ca_file)
    ostiary_ca_env = false              # true (with TLS): SSL_CERT_FILE and REQUESTS_CA_BUNDLE
                                        # name that CA for the whole run

A module picks another file with ``pytestmark = pytest.mark.ostiary_org("org.yaml")`` (relative
to the module; ``tls=True`` as a keyword). Orgs are started lazily, once per (file, TLS) and scope.

Fixtures: ``ostiary_org`` (module scope; an :class:`~ostiary.testing.org.OstiaryOrg`),
``ostiary_api_token``, ``ostiary_faults`` (faults cleared after the test), ``ostiary_clean_org``
(the org reset to its file before the test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ostiary.testing.faults import Faults
    from ostiary.testing.org import OstiaryOrg

_Key = tuple[str | None, bool]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("ostiary_org_file", "Org file (YAML) the ostiary_org fixture applies", default="")
    parser.addini(
        "ostiary_scope", "session (default) or module: how long an Ostiary org lives", default="session"
    )
    parser.addini(
        "ostiary_tls", "Serve the test org over https with a generated CA", type="bool", default=False
    )
    parser.addini(
        "ostiary_ca_env",
        "With TLS: point SSL_CERT_FILE and REQUESTS_CA_BUNDLE at the generated CA",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ostiary_org(path, tls=False): the org file of this module's ostiary_org fixture"
    )
    if config.getini("ostiary_tls") and config.getini("ostiary_ca_env"):
        _trust_run_ca(config)


_TLS_FILES = pytest.StashKey["tuple[Path, Path, Path]"]()
_SAVED_ENV = pytest.StashKey["dict[str, str | None]"]()
_CA_ENV = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _trust_run_ca(config: pytest.Config) -> None:
    """One CA for the run, named by ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` before test
    modules import their HTTP clients: aiohttp (the okta SDK, okta-jwt-verifier) makes its
    verified SSL context at import time from OpenSSL's default paths, which read them."""
    import sys
    import tempfile

    from ostiary.testing.tls import write_tls_files

    files = write_tls_files(Path(tempfile.mkdtemp(prefix="ostiary-pytest-ca-")))
    config.stash[_TLS_FILES] = files
    config.stash[_SAVED_ENV] = {name: os.environ.get(name) for name in _CA_ENV}
    for name in _CA_ENV:
        os.environ[name] = str(files[0])
    connector = sys.modules.get("aiohttp.connector")
    if connector is not None and hasattr(connector, "_SSL_CONTEXT_VERIFIED"):  # imported already
        connector._SSL_CONTEXT_VERIFIED.load_verify_locations(str(files[0]))


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in config.stash.get(_SAVED_ENV, {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class OrgPool:
    """The orgs of one run, started on first use, stopped when their scope ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.orgs: dict[_Key, OstiaryOrg] = {}

    def get(self, path: Path | None, tls: bool) -> OstiaryOrg:
        from ostiary.testing.org import start_org

        key: _Key = (str(path) if path else None, tls)
        org = self.orgs.get(key)
        if org is None:
            tls_files = self.config.stash.get(_TLS_FILES, None)
            org = self.orgs[key] = start_org(path, tls=tls, tls_files=tls_files)
        return org

    def stop(self, key: _Key) -> None:
        org = self.orgs.pop(key, None)
        if org is not None:
            org.stop()

    def stop_all(self) -> None:
        for key in list(self.orgs):
            self.stop(key)


def _org_file_and_tls(request: pytest.FixtureRequest) -> tuple[Path | None, bool]:
    config = request.config
    tls = bool(config.getini("ostiary_tls"))
    marker = request.node.get_closest_marker("ostiary_org")
    if marker is not None:
        if not marker.args:
            raise pytest.UsageError("@pytest.mark.ostiary_org needs the org file's path")
        module_dir = Path(str(request.node.path)).parent
        return (module_dir / marker.args[0]).resolve(), bool(marker.kwargs.get("tls", tls))
    configured = str(config.getini("ostiary_org_file") or "")
    if not configured:
        return None, tls
    base = config.inipath.parent if config.inipath else config.rootpath
    return (base / configured).resolve(), tls


@pytest.fixture(scope="session")
def ostiary_pool(request: pytest.FixtureRequest) -> Iterator[OrgPool]:
    pool = OrgPool(request.config)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="module")
def ostiary_org(request: pytest.FixtureRequest, ostiary_pool: OrgPool) -> Iterator[OstiaryOrg]:
    """The module's running org (``ostiary serve --memory --testing``), shared per the scope."""
    path, tls = _org_file_and_tls(request)
    org = ostiary_pool.get(path, tls)
    yield org
    if request.config.getini("ostiary_scope") == "module":
        ostiary_pool.stop((str(path) if path else None, tls))


@pytest.fixture(scope="module")
def ostiary_api_token(ostiary_org: OstiaryOrg) -> str:
    """The org's SSWS API token (for the okta SDK's ``token``)."""
    return ostiary_org.api_token


@pytest.fixture
def ostiary_faults(ostiary_org: OstiaryOrg) -> Iterator[Faults]:
    """Fault injection on the org; every fault is cleared after the test."""
    faults = ostiary_org.faults
    yield faults
    faults.clear()


@pytest.fixture
def ostiary_clean_org(ostiary_org: OstiaryOrg) -> OstiaryOrg:
    """The org reset to its file (a snapshot restore) before the test."""
    ostiary_org.reset()
    return ostiary_org


def pytest_report_header(config: pytest.Config) -> Any:
    configured = config.getini("ostiary_org_file")
    return f"ostiary: org file {configured}" if configured else None
