"""The logo images that groups' and apps' ``_links.logo`` point at (``/img/logos/...``).

Okta serves stock images there; Ostiary serves plain PNG tiles of the same sizes, drawn once on
first request (no image files to ship or find at run time), so a client that follows every link
(an admin UI showing logos, a link checker) gets an image instead of a 404.
"""

from __future__ import annotations

import functools
import struct
import zlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

GROUP_MEDIUM = "/img/logos/groups/okta-medium.png"
GROUP_LARGE = "/img/logos/groups/okta-large.png"
APP_DEFAULT = "/img/logos/default.png"

_SIZES = {GROUP_MEDIUM: 60, GROUP_LARGE: 120, APP_DEFAULT: 60}
_TILE = (0x1F, 0x5B, 0xC9)  # blue
_MARK = (0xFF, 0xFF, 0xFF)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


@functools.cache
def png(size: int) -> bytes:
    """A square RGB PNG of ``size`` pixels: a blue tile with a white ring."""
    centre, outer, inner = (size - 1) / 2, size * 0.32, size * 0.2
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            rows.extend(_MARK if inner <= distance <= outer else _TILE)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


async def logo(request: Request) -> Response:
    return Response(
        png(_SIZES[request.url.path]),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


routes = [Route(path, logo, methods=["GET"]) for path in _SIZES]
