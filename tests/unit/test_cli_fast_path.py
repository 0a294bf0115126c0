"""``ostiary serve``'s fast path reads argv exactly as Typer does, or leaves it to Typer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.main

from ostiary import cli
from ostiary.cli_fast_path import FastServeTyper, options, parse, run


def typer_params(argv: list[str]) -> dict[str, Any]:
    """What Typer would call ``serve`` with."""
    command = typer.main.get_command(cli.app).commands["serve"]  # type: ignore[attr-defined]
    with command.make_context("serve", list(argv)) as ctx:
        return dict(ctx.params)


def fast_params(argv: list[str]) -> dict[str, Any] | None:
    table = options(cli.serve)
    assert table is not None
    return parse(argv, table)


def test_the_option_table_is_the_one_typer_builds() -> None:
    table = options(cli.serve)
    assert table is not None
    command = typer.main.get_command(cli.app).commands["serve"]  # type: ignore[attr-defined]
    built = {p.name: (tuple(p.opts), tuple(p.secondary_opts), p.default) for p in command.params}
    assert {o.name: (o.opts, o.secondary_opts, o.default) for o in table} == built


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--memory"],
        ["--memory", "--apply", "org.yaml", "--port", "9000"],
        ["--memory", "--apply=org.yaml", "--port=9000", "--host", "0.0.0.0"],
        ["--port", "1", "--port", "2"],
        ["--tls-cert", "c.pem", "--tls-key", "k.pem", "--workers", "3", "--db-wait", "2.5"],
        ["--signing-processes", "0", "--graceful-timeout", "7", "--database-url", "sqlite:///x.db"],
    ],
)
def test_what_it_parses_is_what_typer_passes(argv: list[str]) -> None:
    assert fast_params(argv) == typer_params(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--memory", "--bogus"],
        ["--port"],
        ["--port", "abc"],
        ["--port", " 80"],
        ["--port", "8_080"],
        ["--db-wait", "-1"],  # min=0: Typer's range error
        ["--signing-processes", "-2"],
        ["--memory=yes"],
        ["-p", "80"],
        ["--host", "--memory"],
        ["--apply", ""],
    ],
)
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert fast_params(argv) is None


def test_run_calls_only_the_fast_commands_and_maps_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    app = FastServeTyper()

    @app.command()
    def serve(
        port: Annotated[int, typer.Option(help="Port")] = 8080,
        path: Annotated[Path | None, typer.Option()] = None,
    ) -> None:
        calls.append({"port": port, "path": path})
        if port == 1:
            raise typer.Exit(3)

    @app.command()
    def other() -> None:
        raise AssertionError("not on the fast path")

    assert run(app, ["serve", "--port", "9"]) == 0
    assert calls == [{"port": 9, "path": None}]
    assert run(app, ["serve", "--port", "1"]) == 3
    assert run(app, ["other"]) is None
    assert run(app, ["serve", "--help"]) is None

    monkeypatch.setattr(sys, "argv", ["ostiary", "serve", "--path", "a.yaml"])
    with pytest.raises(SystemExit) as exited:
        app()
    assert exited.value.code == 0 and calls[-1] == {"port": 8080, "path": Path("a.yaml")}


def test_serve_memory_does_not_import_pydantic_on_the_fast_path(tmp_path: Path) -> None:
    """The point of the fast path: the command runs before Typer builds its pydantic adapters."""
    import subprocess

    script = (
        "import sys\n"
        "from ostiary import cli\n"
        "cli._serve_memory = lambda *a, **k: print('pydantic' in sys.modules)\n"
        "sys.argv = ['ostiary', 'serve', '--memory', '--port', '9']\n"
        "cli.app()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
