"""``/admin``: the dashboard, and the console's static files (``/admin/static``)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ostiary.http.console.pages import PREFIX, Admin, admin_page, render
from ostiary.http.runtime import runtime

_STATIC = Path(__file__).parent / "static"
_FILES = {"console.css": "text/css", "console.js": "text/javascript"}


async def _home(request: Request, admin: Admin) -> Response:
    org = await runtime(request).org_for(request)
    return render(request, "home.html", admin=admin, org_name=org.name)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    media = _FILES.get(name)
    if media is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(
        _STATIC / name,
        media_type=media,
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )


routes = [
    Route(PREFIX, admin_page(_home), methods=["GET"]),
    Route(f"{PREFIX}/", admin_page(_home), methods=["GET"]),
    Route(PREFIX + "/static/{name}", static, methods=["GET"]),
]
