"""Certificates: the self-signed one made for the public host at first start, listed by
``GET /api/v2/certificates`` and usable as an app's ``certificateId``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.access_gateway.admin.authorization import require_scope
from ostiary.access_gateway.admin.errors import not_found
from ostiary.access_gateway.admin.scopes import CERT_READ
from ostiary.access_gateway.admin.validation import is_uuid
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.access_gateway.store import tables

VALIDITY_DAYS = 825
_DAY = 86400


def _self_signed(host: str, now: dt.datetime) -> tuple[str, str, list[str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), key_pem, [host]


async def ensure_public_host_certificate(runtime: GatewayRuntime) -> str:
    """The id of the certificate for the public URL's host, made on first start."""
    host = (urlsplit(runtime.config.public_url).hostname or "localhost").lower()
    table = tables.certificates
    async with runtime.engine.begin() as conn:
        row = (await conn.execute(select(table.c.id).where(table.c.common_name == host))).first()
        if row is not None:
            return str(row.id)
        now = dt.datetime.fromtimestamp(int(runtime.clock()), dt.UTC)
        cert_pem, key_pem, san = _self_signed(host, now)
        cert_id = str(uuid.uuid4())
        await conn.execute(
            insert(table).values(
                id=cert_id,
                common_name=host,
                san=san,
                self_signed=True,
                valid_from=int(now.timestamp()) - 300,
                expires_on=int(now.timestamp()) + VALIDITY_DAYS * _DAY,
                cert_pem=cert_pem,
                key_encrypted=runtime.secrets.seal(key_pem, "certificates", cert_id),
                created=int(now.timestamp()),
            )
        )
    return cert_id


async def certificate_exists(engine: AsyncEngine, cert_id: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(tables.certificates.c.id).where(tables.certificates.c.id == cert_id)
        )
        return found.first() is not None


def _date(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).date().isoformat()


def _render(row: Any, now: float) -> dict[str, Any]:
    return {
        "id": row.id,
        "commonName": row.common_name,
        "san": list(row.san),
        "selfSigned": bool(row.self_signed),
        "validFrom": _date(row.valid_from),
        "expiresOn": _date(row.expires_on),
        "validityRemaining": max(0, int((row.expires_on - now) // _DAY)),
    }


async def list_certificates(request: Request) -> Response:
    await require_scope(request, CERT_READ)
    runtime: GatewayRuntime = request.app.state.runtime
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(select(tables.certificates).order_by(tables.certificates.c.created))).all()
    return JSONResponse([_render(row, runtime.clock()) for row in rows])


async def get_certificate(request: Request) -> Response:
    await require_scope(request, CERT_READ)
    runtime: GatewayRuntime = request.app.state.runtime
    cert_id = request.path_params["certificateId"]
    row = None
    if is_uuid(cert_id):
        async with runtime.engine.connect() as conn:
            table = tables.certificates
            row = (await conn.execute(select(table).where(table.c.id == cert_id))).first()
    if row is None:
        raise not_found("certificate")
    return JSONResponse(_render(row, runtime.clock()))
