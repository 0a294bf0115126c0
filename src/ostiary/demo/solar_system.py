"""The mock "solar system" API of Okta's API Center demo (``../shared/spec/demo.md`` §2).

Every route is open: in the demo, access control is the gateway's job. Bodies and
headers are those of the original Express app: compact JSON with
``Content-Type: application/json; charset=utf-8``, an HTML banner on ``/``, and
Express's "Cannot GET /path" page (404) for anything else, wrong methods included.
"""

from __future__ import annotations

import html
import json
import random
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

VISITORS = ["Oumuamua", "2I/Borisov"]
ASTEROIDS = ["ceres", "hygiea", "pallas", "vesta"]
PLANETS = ["mercury", "venus", "earth", "mars", "jupiter", "saturn", "uranus", "neptune"]
MOONS = ["adrastea", "amalthea", "callisto", "europa", "ganymede", "io", "metis", "thebe"]
GRADES = {"12345": "F", "00uptdgk3iNZYSAc10h7": "A"}
TOKEN_INLINE_HOOK_RESPONSE = {
    "commands": [
        {
            "type": "com.okta.identity.patch",
            "value": [{"op": "add", "path": "/claims/extPatientId", "value": "1234"}],
        },
        {
            "type": "com.okta.access.patch",
            "value": [
                {
                    "op": "add",
                    "path": "/claims/external_guid",
                    "value": "F0384685-F87D-474B-848D-2058AC5655A7",
                }
            ],
        },
    ]
}
SAML_INLINE_HOOK_RESPONSE = {
    "commands": [
        {
            "type": "com.okta.assertion.patch",
            "value": [
                {"op": "replace", "path": "/authentication/sessionIndex", "value": "definitelyARealSession"}
            ],
        }
    ]
}


def express_json(payload: Any, status_code: int = 200) -> Response:
    """``res.json(payload)``: ``JSON.stringify`` output (no spaces) in UTF-8."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status_code, media_type=JSON_TYPE)


def _digits(count: int) -> str:
    return "".join(str(random.randrange(10)) for _ in range(count))


def _masked_ssn() -> str:
    return f"{_digits(3)}-XX-{_digits(4)}"


def _static_json(payload: Any) -> Any:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")

    async def endpoint(request: Request) -> Response:
        return Response(body, media_type=JSON_TYPE)

    return endpoint


async def banner(request: Request) -> Response:
    return Response("<b>Okta solar system api</b>", media_type=HTML_TYPE)


async def grades(request: Request) -> Response:
    student_id = request.path_params["student_id"]
    body: dict[str, str] = {"student_id": student_id}
    if student_id in GRADES:
        body["grade"] = GRADES[student_id]
    return express_json(body)


async def ssn(request: Request) -> Response:
    return express_json({"ssn": _masked_ssn()})


async def risk_score(request: Request) -> Response:
    return express_json({"risk_score": random.randrange(1000)})


async def profile_update_hook(request: Request) -> Response:
    return express_json(
        {"commands": [{"type": "com.okta.user.profile.update", "value": {"ssn": _masked_ssn()}}]}
    )


async def token_inline_hook(request: Request) -> Response:
    return express_json(TOKEN_INLINE_HOOK_RESPONSE)


async def saml_inline_hook(request: Request) -> Response:
    return express_json(SAML_INLINE_HOOK_RESPONSE)


async def _body_fields(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    try:
        if "application/x-www-form-urlencoded" in content_type or "multipart/form-data" in content_type:
            return dict(await request.form())
        value = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _loosely_equals_12345(value: Any) -> bool:
    """JavaScript ``value == "12345"``: the string, or the number 12345."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return bool(value == 12345)
    return bool(value == "12345")


async def valid_accounts(request: Request) -> Response:
    fields = await _body_fields(request)
    valid = fields.get("email") == "lois.lane@mailinator.com" and _loosely_equals_12345(
        fields.get("account_no")
    )
    return express_json({"result": "success" if valid else "failure"})


def _express_not_found_page(method: str, path: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
        f"</head>\n<body>\n<pre>Cannot {html.escape(method)} {html.escape(path)}</pre>\n</body>\n</html>\n"
    )


async def not_found(request: Request, exc: Exception) -> Response:
    response = Response(
        _express_not_found_page(request.method, request.url.path), status_code=404, media_type=HTML_TYPE
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def build_solar_system_app() -> Starlette:
    routes = [
        Route("/", banner, methods=["GET"]),
        Route("/visitors", _static_json(VISITORS), methods=["GET"]),
        Route("/asteroids", _static_json(ASTEROIDS), methods=["GET"]),
        Route("/planets", _static_json(PLANETS), methods=["GET"]),
        Route("/moons", _static_json(MOONS), methods=["GET"]),
        Route("/grades/{student_id}", grades, methods=["GET"]),
        Route("/ssn", ssn, methods=["GET"]),
        Route("/risk_score", risk_score, methods=["GET"]),
        Route("/v", profile_update_hook, methods=["GET"]),
        Route("/test_inline_hook", token_inline_hook, methods=["POST"]),
        Route("/valid_accounts", valid_accounts, methods=["POST"]),
        Route("/ssn-saml", saml_inline_hook, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.router.redirect_slashes = False
    app.add_middleware(_ExpressTrailingSlash)
    return app


class _ExpressTrailingSlash:
    """Express's non-strict routing: ``/planets/`` is ``/planets``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path[:-1])
        await self.app(scope, receive, send)
