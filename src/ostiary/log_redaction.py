"""No secret in a log line: the values of sensitive parameters are replaced before any handler
formats a record.

A URL's query string reaches the access log whole (``POST /oauth2/v1/token?code=…``), and Okta's
clients put secrets there (``code`` at /token, ``token`` at /introspect, ``sessionToken`` at
/authorize), so :func:`redact` rewrites ``name=value`` pairs (query strings, form bodies),
``"name": "value"`` JSON members and ``Bearer``/``Basic``/``SSWS`` credentials whose name is in
:data:`SENSITIVE`. :class:`RedactingFilter` applies it to a record's message, arguments and
traceback text; :func:`uvicorn_log_config` is uvicorn's logging configuration with that filter
on every handler, and a root handler so that the application's own loggers are filtered too.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote_plus

REDACTED: Final = "[REDACTED]"
# Parameter names compared in lower case, after percent-decoding.
SENSITIVE: Final = frozenset(
    {
        "access_token",
        "actor_token",
        "api_token",
        "assertion",
        "client_assertion",
        "client_secret",
        "code",
        "code_verifier",
        "device_code",
        "id_token",
        "id_token_hint",
        "otp",
        "passcode",
        "password",
        "refresh_token",
        "sessiontoken",
        "statetoken",
        "subject_token",
        "token",
    }
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%.-")
_VALUE = re.compile(r"[^&#\s\"'<>]*")
_JSON_MEMBER = re.compile(r'"([\w.\-]+)"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
_CREDENTIAL = re.compile(r"\b(Bearer|Basic|SSWS)(\s+)[\w.~+/=\-]{8,}")
_SCHEMES = ("Bearer ", "Basic ", "SSWS ")
_PLAIN = (int, float, type(None))


def _is_sensitive(name: str) -> bool:
    return (unquote_plus(name) if "%" in name or "+" in name else name).lower() in SENSITIVE


def _redact_pairs(text: str) -> str:
    """``name=value`` pairs with a sensitive name get ``[REDACTED]`` values. Walks the ``=`` signs
    with ``str.find`` rather than trying a regex at every position of the line."""
    parts: list[str] = []
    done = 0
    equals = text.find("=")
    while equals != -1:
        start = equals
        while start > 0 and text[start - 1] in _NAME_CHARS:
            start -= 1
        value = _VALUE.match(text, equals + 1)
        end = value.end() if value else equals + 1
        if start < equals and _is_sensitive(text[start:equals]):
            parts += (text[done : equals + 1], REDACTED)
            done = end
        equals = text.find("=", max(end, equals + 1))
    return "".join(parts) + text[done:] if parts else text


def _json_member(match: re.Match[str]) -> str:
    return f'"{match[1]}"{match[2]}"{REDACTED}"' if _is_sensitive(match[1]) else match[0]


def _may_hold_secret(text: str) -> bool:
    return "=" in text or '":' in text or '" :' in text or any(scheme in text for scheme in _SCHEMES)


def redact(text: str) -> str:
    """``text`` with the values of sensitive parameters and credentials replaced by ``[REDACTED]``."""
    if not _may_hold_secret(text):
        return text
    if "=" in text:
        text = _redact_pairs(text)
    if '":' in text or '" :' in text:
        text = _JSON_MEMBER.sub(_json_member, text)
    if any(scheme in text for scheme in _SCHEMES):
        text = _CREDENTIAL.sub(rf"\1\2{REDACTED}", text)
    return text


def _redacted_arg(value: object) -> object:
    """A ``%`` argument with its secrets redacted; numbers stay numbers (``%d`` needs them), and
    another object is replaced by its redacted text only when there was something to redact."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _PLAIN):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def _redacted_args(record: logging.LogRecord) -> tuple[object, ...] | dict[str, object] | None:
    """The record's arguments, each redacted (``None`` when it has none)."""
    if isinstance(record.args, tuple):
        return tuple(_redacted_arg(arg) for arg in record.args)
    if isinstance(record.args, Mapping):
        return {key: _redacted_arg(arg) for key, arg in record.args.items()}
    return None


class RedactingFilter(logging.Filter):
    """Redacts a record in place and lets it through: each ``%`` argument (formatters such as
    uvicorn's ``AccessFormatter`` read them, so they stay arguments), then the message they
    make (a secret split between template and argument), then the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _may_hold_secret(message):
            args = _redacted_args(record)
            if args is not None:
                record.args = args
                message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, every handler filtered by :class:`RedactingFilter`,
    and the root logger (the application's and libraries' loggers) sent to uvicorn's default
    handler at ``WARNING``, as Python's last-resort handler did."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {**config.get("filters", {}), "redact": {"()": f"{__name__}.RedactingFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "redact"]
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
