"""Relative URLs that bring the browser back to this authorization request.

The sign-in page returns through ``…/v1/authorize/resume``, the consent page lives at
``…/v1/authorize/consent``; both carry the request's parameters in the query. Parameters that
the interruption satisfied (``sessionToken``, ``max_age``, ``prompt=login``) are dropped, or
coming back would interrupt again.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlencode

from ostiary.http.oauth.authorize.state import Authorization

AUTHORIZE_SUFFIX = "/v1/authorize"


def authorize_path(authz: Authorization) -> str:
    path = authz.request.url.path
    return path[: path.rindex(AUTHORIZE_SUFFIX) + len(AUTHORIZE_SUFFIX)]


def params_without(
    authz: Authorization, *, drop: Collection[str] = (), drop_prompts: Collection[str] = ()
) -> dict[str, str]:
    params = {k: v for k, v in authz.params.items() if k not in drop}
    prompts = [p for p in params.get("prompt", "").split() if p not in drop_prompts]
    if prompts:
        params["prompt"] = " ".join(prompts)
    else:
        params.pop("prompt", None)
    return params


def with_suffix(
    authz: Authorization, suffix: str = "", *, drop: Collection[str] = (), drop_prompts: Collection[str] = ()
) -> str:
    """``{authorize path}{suffix}?{params}``: the authorize endpoint itself with no suffix."""
    query = urlencode(params_without(authz, drop=drop, drop_prompts=drop_prompts))
    return f"{authorize_path(authz)}{suffix}?{query}"
