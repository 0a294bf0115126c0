"""``GET /home/{appName}/{appId}[/{linkId}]``: an app's launch link, where an app's
``_links.appLinks`` and a user's ``appLinks[].linkUrl`` point (Okta's end-user dashboard tile).

An active OIDC app with an ``initiate_login_uri`` is launched as Okta launches it: a redirect to
that URI, where the app starts its own sign-in. Without one the app can only be opened from its
own page, and a short page says so (as it does for an inactive app). An unknown app: 404.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ostiary.domain.clients.records import ACTIVE, get_app
from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.http.auth import client_info
from ostiary.http.login.page import PAGE_HEADERS
from ostiary.http.runtime import runtime

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>{title}</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
<h1 style="font-size:1.25rem">{title}</h1><p>{message}</p></body></html>"""


def _page(title: str, message: str, status: int) -> Response:
    body = _PAGE.format(title=html.escape(title), message=html.escape(message))
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


async def launch(request: Request) -> Response:
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        try:
            app = await get_app(tx, request.path_params["appId"])
        except NotFound:
            app = None
    if app is None or app.name != request.path_params["appName"]:
        return _page("App not found", "This app does not exist.", 404)
    if app.status != ACTIVE:
        return _page(app.label, "This app is not active. Ask your administrator.", 200)
    oauth = app.settings.get("oauthClient") if isinstance(app.settings, dict) else None
    initiate = oauth.get("initiate_login_uri") if isinstance(oauth, dict) else None
    if isinstance(initiate, str) and initiate.startswith(("https://", "http://")):
        return RedirectResponse(initiate, status_code=303, headers=PAGE_HEADERS)
    return _page(app.label, "This app signs you in from its own page: open the app to sign in.", 200)


routes = [
    Route("/home/{appName}/{appId}", launch, methods=["GET"]),
    Route("/home/{appName}/{appId}/{linkId}", launch, methods=["GET"]),
]
