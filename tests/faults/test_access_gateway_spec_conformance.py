"""schemathesis over oag-admin.yaml: every built operation of the access gateway's admin API
(offline mode is not built) is fuzzed in process with a token holding every scope; no answer may
be a server error, and none may break the response schema the spec gives for its status."""

from __future__ import annotations

import asyncio
import copy
import tempfile
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from ostiary.access_gateway.admin import access_tokens, repository, schemas
from ostiary.access_gateway.admin.scopes import ALL_SCOPES
from ostiary.access_gateway.bootstrap import prepare
from ostiary.access_gateway.runtime import make_config, open_runtime
from ostiary.access_gateway.server import build_app
from ostiary.access_gateway.store import tables

SPEC = Path(__file__).resolve().parents[1] / "spec" / "oag-admin.yaml"
BASE = "http://localhost:8090"
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}}}
)


def _spec() -> dict[str, Any]:
    spec = dict(yaml.load(SPEC.read_text(), Loader=yaml.CSafeLoader))
    fixed = copy.deepcopy(spec)
    schemas = fixed["components"]["schemas"]
    # The spec's own examples answer ``regexRule: null`` and ``customDirective: null``.
    for name in ("regexRule", "customDirective"):
        schemas["Policy"]["properties"][name]["nullable"] = True
    # Its IdP examples give Okta's permissions as an object ({SUPER_ADMIN: true, ...}), not an array.
    schemas["IdP"]["properties"]["validationStatus"]["properties"]["permissions"] = {}
    fixed["paths"] = {path: item for path, item in fixed["paths"].items() if "/offline-mode" not in path}
    fixed["servers"] = [{"url": BASE}]
    return fixed


EXAMPLE_APP = "44931df2-4464-4c4d-97ce-5d0177b09f30"
EXAMPLE_IDP = "3f63f461-c7fc-483b-b2ae-961633d251ac"
EXAMPLE_CERTIFICATE = "15cc2bc6-b280-4d94-a0bf-c91751b40d9c"


async def _seed(runtime: Any) -> None:
    """The spec examples' IdP, certificate and app (with a part of each kind), so requests built
    from its examples reach the handlers and list answers carry real documents. The IdP's org is
    a closed port: every org sync fails fast (a 400)."""
    async with runtime.engine.begin() as conn:
        await conn.execute(
            tables.idps.insert().values(
                id=EXAMPLE_IDP,
                type="IDP_OKTA",
                name="closed",
                description="",
                domain="http://127.0.0.1:9",
                api_token_encrypted=runtime.secrets.seal("00t", "idps", EXAMPLE_IDP),
                created=0,
            )
        )
        await conn.execute(
            tables.certificates.update()
            .where(tables.certificates.c.common_name == "localhost")
            .values(id=EXAMPLE_CERTIFICATE)
        )
        await repository.insert_app(
            conn,
            {
                "id": EXAMPLE_APP,
                "label": "Test App",
                "public_domain": "oagapp.domain.tld",
                "status": "CREATED",
                "idp_id": EXAMPLE_IDP,
                "document": {
                    **schemas.APP_DEFAULTS,
                    "name": "testapp",
                    "type": "OAG_HEADER_BASED",
                    "postLoginUrl": "https://oagapp.domain.tld/landing",
                    "certificateId": EXAMPLE_CERTIFICATE,
                },
                "session": schemas.SESSION_DEFAULTS,
                "behavior": schemas.BEHAVIOR_DEFAULTS,
                "health_check": schemas.HEALTH_CHECK_DEFAULTS,
                "org_app_id": None,
                "org_client_secret_encrypted": None,
                "created": 0,
            },
        )
        parts = [
            (
                repository.RESOURCE,
                {"hostname": "http://app1.internal.domain.tld", "assignedWeight": 1, "active": True},
            ),
            (
                repository.ATTRIBUTE,
                {
                    "name": "h",
                    "source": "IDP",
                    "value": "login",
                    "type": "HEADER",
                    **schemas.ATTRIBUTE_DEFAULTS,
                },
            ),
            (
                repository.POLICY,
                {"name": "root", "resourcePath": "/", "rule": "PROTECTED", **schemas.POLICY_DEFAULTS},
            ),
        ]
        for kind, document in parts:
            await repository.insert_part(conn, EXAMPLE_APP, kind, str(uuid.uuid4()), document)


@cache
def _app_and_token() -> tuple[Any, str]:
    directory = Path(tempfile.mkdtemp(prefix="ostiary-oag-schemathesis-"))
    runtime = open_runtime(make_config(port=8090, data_dir=directory))

    async def setup() -> str:
        await prepare(runtime)
        await _seed(runtime)
        # issued "in 2096", so it outlives the run
        token = await access_tokens.issue(runtime.engine, "fuzzer", sorted(ALL_SCOPES), 4_000_000_000 - 600)
        await runtime.engine.dispose()  # the fuzzer's event loop opens its own connections
        return token

    token = asyncio.run(setup())
    return build_app(runtime), token


@pytest.fixture(autouse=True)
def pooled_rsa_keys() -> None:
    """No org server here: nothing draws on the per-test key pool of ``tests/conftest.py``."""


schema = schemathesis.openapi.from_dict(_spec(), config=CONFIG)
schema.app = _app_and_token()[0]
FUZZ = settings(
    max_examples=3, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@FUZZ
def test_admin_operation_has_no_server_error_and_keeps_its_schema(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_app_and_token()[1]}", "Host": "localhost:8090"},
        checks=[not_a_server_error, response_schema_conformance],
    )
