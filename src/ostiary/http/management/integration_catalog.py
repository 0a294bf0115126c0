"""The integration catalog over HTTP (``okta.oauthIntegrations.*`` scopes).

- ``/integrations/api/v1/catalog/api-services[/{type}]`` GET: what this org may install.
- ``/integrations/api/v1/submissions`` GET, POST: the entries this org publishes; a new one is
  a DRAFT. ``/{type}`` GET, PUT (a DRAFT or REJECTED entry; it becomes a DRAFT);
  ``/{type}/lifecycle/submit`` POST (DRAFT → SUBMITTED).
- ``/{type}/lifecycle/approve`` and ``/reject`` POST (``{"reason"}``): the instance operator only.

The instance operator is a caller of the **default org** with an **SSWS API token** (a super
admin there, e.g. ``ostiary token create --name operator``). An OAuth access token is never the
operator, whatever its scopes. At the default org an API token also sees every org's entries
in ``GET /submissions`` and ``GET /submissions/{type}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.integrations import catalog
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, path_param
from ostiary.http.management.integrations_render import CATALOG, SUBMISSIONS, catalog_json, submission_json
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response
from ostiary.http.runtime import Principal

READ, MANAGE = "okta.oauthIntegrations.read", "okta.oauthIntegrations.manage"
NOT_OPERATOR = "Only the instance operator (an API token of the default org) may review submissions"


def _type(request: Request) -> str:
    return path_param(request, "type")


def is_operator(request: Request, tx: Tx) -> bool:
    principal = getattr(request.state, "principal", None)
    return isinstance(principal, Principal) and principal.kind == "api_token" and tx.org.is_default


def _require_operator(request: Request, tx: Tx) -> None:
    if not is_operator(request, tx):
        raise OktaHTTPError(
            403, "E0000006", "You do not have permission to perform the requested action", [NOT_OPERATOR]
        )


async def list_catalog(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        entries = await catalog.catalog(tx)
    base = base_url(request)
    return json_response([catalog_json(e, base) for e in entries])


async def get_catalog_entry(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        entry = await catalog.catalog_entry(tx, _type(request))
    return json_response(catalog_json(entry, base_url(request)))


async def list_submissions(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        entries = await catalog.submissions(
            tx, every_org=is_operator(request, tx), status=request.query_params.get("status")
        )
    base = base_url(request)
    return json_response([submission_json(e, base) for e in entries])


async def create_submission(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        entry = await catalog.create_entry(tx, body)
    return json_response(submission_json(entry, base_url(request)), 201)


async def get_submission(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        entry = await catalog.submission(tx, _type(request), operator=is_operator(request, tx))
    return json_response(submission_json(entry, base_url(request)))


async def replace_submission(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        entry = await catalog.replace_entry(tx, _type(request), body)
    return json_response(submission_json(entry, base_url(request)))


async def submit(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        entry = await catalog.submit_entry(tx, _type(request))
    return json_response(submission_json(entry, base_url(request)))


async def approve(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        _require_operator(request, tx)
        entry = await catalog.approve_entry(tx, _type(request))
    return json_response(submission_json(entry, base_url(request)))


async def reject(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        _require_operator(request, tx)
        entry = await catalog.reject_entry(tx, _type(request), body)
    return json_response(submission_json(entry, base_url(request)))


_SUBMISSION = SUBMISSIONS + "/{type}"

routes = [
    Route(CATALOG, list_catalog, methods=["GET"]),
    Route(CATALOG + "/{type}", get_catalog_entry, methods=["GET"]),
    Route(SUBMISSIONS, list_submissions, methods=["GET"]),
    Route(SUBMISSIONS, create_submission, methods=["POST"]),
    Route(_SUBMISSION, get_submission, methods=["GET"]),
    Route(_SUBMISSION, replace_submission, methods=["PUT"]),
    Route(_SUBMISSION + "/lifecycle/submit", submit, methods=["POST"]),
    Route(_SUBMISSION + "/lifecycle/approve", approve, methods=["POST"]),
    Route(_SUBMISSION + "/lifecycle/reject", reject, methods=["POST"]),
]
