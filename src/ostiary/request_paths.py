"""Request paths that the gateway, the resource library and any upstream read the same way.

Both decide on the percent-decoded path (ASGI ``scope["path"]``), but an upstream may read
the bytes it is sent differently: Tomcat, Spring and Jetty drop ``;parameters`` from each
segment (``/api/..;/admin`` is ``/admin`` to them), IIS and ASP.NET take ``\\`` for ``/``,
stacks that decode twice turn ``%252e`` into ``.``, and some fold full-width characters to
ASCII. ``path_problem`` refuses every path with such a second reading, so the path that was
checked is the only one there is.

Route templates (``/users/{id}``, a final ``/*`` for a subtree) are compiled here too: the
gateway and the resource library match paths the same way without importing each other.

``loose_path`` is the path as the most forgiving upstreams read it: case-insensitive (Express,
ASP.NET Core), a trailing ``/`` ignored (Express, Spring before 6), ``;parameters`` (Tomcat,
Spring, Jetty) and trailing dots and spaces of a segment dropped (IIS), full-width letters
folded (NFKC). The gateway compares it with the
``compile_loose`` form of earlier routes, so that ``/api/ADMIN`` cannot pass as ``/api/*``
when ``/api/admin`` has a route of its own.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u1680\u2028\u2029]")
"""C0 and C1 controls, DEL, and the whitespace that NFKC does not fold to a space (NEL is
also C1): ``.strip()`` in Python, .NET and others removes them, so ``\x85..`` is ``..``."""
_DOTS_ONLY = re.compile(r"[.\s]*\.[.\s]*")
_SUSPECT_START = frozenset(". ;")
"""Only a segment starting with one of these can be dots (and spaces) once ``;params`` are
dropped, or empty; other whitespace is a control character or folds to a space (NFKC)."""


def _segment_problem(segment: str) -> str | None:
    name = segment.split(";", 1)[0]
    if _DOTS_ONLY.fullmatch(name):
        return "has a '.' or '..' segment"
    if not name and segment:
        return "has a segment made only of ';' parameters"
    return None


def path_problem(path: str, *, allow_semicolons: bool = False) -> str | None:
    """Why a decoded request path is refused, or ``None`` if it is safe.

    Refused: no leading ``/``; empty inner segments (``//``); control characters; ``\\``
    (sent as such or as ``%5C``); ``%`` (which can only come from ``%25``, an encoded ``%``:
    double encoding); segments made of dots once ``;parameters`` are dropped (``..;``,
    ``.;x``, ``...``, ``..`` with spaces); ``;`` itself unless ``allow_semicolons``; and
    non-ASCII paths whose NFKC form (full-width dots and solidus, U+FF0E and U+FF0F) would fail these checks.
    """
    if not path.startswith("/"):
        return "does not start with '/'"
    if "//" in path:
        return "has an empty segment"
    if _CONTROL_CHARS.search(path):
        return "has a control character"
    if "\\" in path:
        return "has a backslash"
    if "%" in path:
        return "is encoded twice (it has an encoded '%')"
    if ";" in path and not allow_semicolons:
        return "has a ';' parameter"
    if "/." in path or "/ " in path or ";" in path:
        for segment in path.split("/")[1:]:
            problem = _segment_problem(segment) if segment[:1] in _SUSPECT_START else None
            if problem:
                return problem
    if not path.isascii():
        folded = unicodedata.normalize("NFKC", path)
        if folded.count("/") != path.count("/"):
            return "has a character that folds to '/'"
        if folded != path and path_problem(folded, allow_semicolons=allow_semicolons):
            return "has characters that fold to an unsafe path"
    return None


def is_safe_path(path: str, *, allow_semicolons: bool = False) -> bool:
    return path_problem(path, allow_semicolons=allow_semicolons) is None


def _loose_segment(segment: str) -> str:
    trimmed = segment.split(";", 1)[0].strip()
    return trimmed if _DOTS_ONLY.fullmatch(trimmed) else trimmed.rstrip(". ").rstrip()


def loose_path(path: str) -> str:
    """``path`` as the most forgiving upstream reads it (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", path).casefold()
    segments = [_loose_segment(segment) for segment in folded.split("/")]
    return "/".join(segments).rstrip("/") or "/"


def compile_loose(template: str) -> re.Pattern[str]:
    """The pattern of ``template`` to match a ``loose_path`` against."""
    prefix = template.endswith("/*")
    body = template[:-2] if prefix else template
    parts = []
    for segment in body.split("/")[1:]:
        if segment.startswith("{") and segment.endswith("}"):
            parts.append("[^/]+")
        elif segment:
            parts.append(re.escape(_loose_segment(unicodedata.normalize("NFKC", segment).casefold())))
    regex = "/" + "/".join(parts) if parts else ""
    if prefix:
        regex += "(?:/.*)?"
    return re.compile(regex or "/")


def compile_path(template: str) -> re.Pattern[str] | None:
    """``None`` for a static path (matched by string equality, the common fast case)."""
    prefix = template.endswith("/*")
    body = template[:-2] if prefix else template
    if not prefix and "{" not in body:
        return None
    parts = []
    for segment in body.split("/")[1:]:
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    regex = "/" + "/".join(parts) if parts else ""
    if prefix:
        regex += "(?:/.*)?"
    return re.compile(regex or "/")
