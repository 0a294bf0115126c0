"""``ostiary serve`` called without Typer building the whole command line first.

Why: before it runs one command, Typer (0.29) turns every command of the app into a Click
command, and every option of each into a pydantic ``TypeAdapter``: importing pydantic and
building those took about 100 ms of CPU (300 ms of wall time on a loaded 2-core VM) of
``serve --memory``'s start, whose goal is a first token 0.5 s after exec (issue 20, goal 5).

What: :func:`parse` reads ``argv`` against the command function's own signature (the same
``typer.Option`` declarations Typer reads, through ``typer.utils.get_params_from_function``)
and returns the keyword arguments, or ``None`` for anything it does not handle exactly as
Typer would: an unknown option, ``--help``, a value that does not convert, a ``min``/``max``
out of range, an option with an environment variable, a callback or a prompt. ``None`` means
"let Typer do it", so errors, help and every other command keep Typer's behaviour;
``tests/unit/test_cli_fast_path.py`` checks the option table against the Click command Typer
builds. Measured gain: see ``bench/startup.py`` (``serve --memory --apply`` to first token).
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer
from typer.models import OptionInfo

FAST_COMMANDS = frozenset({"serve"})
_CONVERT: dict[Any, Callable[[str], Any]] = {str: str, int: int, float: float, Path: Path}
_PLAIN_VALUE = {
    str: re.compile(r".*", re.DOTALL),
    Path: re.compile(r".+", re.DOTALL),
    int: re.compile(r"[+-]?[0-9]+"),
    float: re.compile(r"[+-]?[0-9]+(\.[0-9]+)?"),
}


class Option(typing.NamedTuple):
    name: str  # the function's parameter
    opts: tuple[str, ...]
    secondary_opts: tuple[str, ...]  # a bool's "off" names
    kind: Any  # bool, str, int, float or Path
    default: Any
    min: Any
    max: Any


def options(command: Callable[..., Any]) -> list[Option] | None:
    """The command's options as Typer declares them, or ``None`` if one is beyond this parser."""
    from typer.utils import get_params_from_function

    table = []
    for name, meta in get_params_from_function(command).items():
        info = meta.default
        if not isinstance(info, OptionInfo) or _beyond(info):
            return None
        kind = _plain_type(meta.annotation)
        if kind is None:
            return None
        decls = tuple(info.param_decls or ())
        default_name = f"--{name.lower().replace('_', '-')}"
        if kind is bool and not decls:
            opts, secondary = (default_name,), (f"--no-{default_name[2:]}",)
        elif kind is bool:
            opts = tuple(decl.split("/")[0] for decl in decls)
            secondary = tuple(decl.split("/", 1)[1] for decl in decls if "/" in decl)
        else:
            opts, secondary = decls or (default_name,), ()
        if any(not opt.startswith("--") for opt in opts + secondary):
            return None  # short options (-p) group and glue in ways left to Click
        table.append(Option(name, opts, secondary, kind, info.default, info.min, info.max))
    return table


def _beyond(info: OptionInfo) -> bool:
    return bool(
        info.envvar
        or info.callback
        or info.prompt
        or info.is_eager
        or info.count
        or info.parser
        or info.default_factory
        or not info.expose_value
        or info.exists
        or info.resolve_path
        or info.clamp
    ) or (info.default is ...)


def _plain_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if (
        typing.get_origin(annotation) in (typing.Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
    ):
        annotation = args[0] if args[1] is type(None) else args[1]
    return annotation if annotation is bool or annotation in _CONVERT else None


def parse(argv: Sequence[str], table: list[Option]) -> dict[str, Any] | None:
    """Keyword arguments for the command, or ``None`` (see the module's docstring)."""
    by_name = {opt: (option, True) for option in table for opt in option.opts}
    by_name.update({opt: (option, False) for option in table for opt in option.secondary_opts})
    values: dict[str, Any] = {option.name: option.default for option in table}
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, has_value, value = arg.partition("=")
        if name not in by_name:
            return None
        option, on = by_name[name]
        if option.kind is bool:
            if has_value:
                return None
            values[option.name] = on
            continue
        if not has_value:
            if not args or args[0].startswith("-"):
                return None
            value = args.pop(0)
        if not _PLAIN_VALUE[option.kind].fullmatch(value):
            return None  # e.g. " 8080", "8_080", "inf", "": left to Typer's own conversion
        converted = _CONVERT[option.kind](value)
        if (option.min is not None and converted < option.min) or (
            option.max is not None and converted > option.max
        ):
            return None
        values[option.name] = converted
    return values


def run(app: typer.Typer, argv: Sequence[str]) -> int | None:
    """Run ``argv`` (``sys.argv[1:]``) on the fast path: the exit status, or ``None`` when it
    is Typer's to run."""
    if not argv or argv[0] not in FAST_COMMANDS:
        return None
    command = next(
        (
            c.callback
            for c in app.registered_commands
            if (c.name or getattr(c.callback, "__name__", "")) == argv[0]
        ),
        None,
    )
    table = options(command) if command is not None else None
    kwargs = parse(argv[1:], table) if table is not None else None
    if command is None or kwargs is None:
        return None
    try:
        command(**kwargs)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (KeyboardInterrupt, EOFError):  # as Click's standalone mode answers them
        sys.stderr.write("\nAborted!\n")
        return 1
    return 0


class FastServeTyper(typer.Typer):
    """A :class:`typer.Typer` whose console-script call tries :func:`run` first."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:
            status = run(self, sys.argv[1:])
            if status is not None:
                sys.exit(status)
        return super().__call__(*args, **kwargs)
