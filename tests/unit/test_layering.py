"""The layering rules of design.md ("Dependencies point down"), checked on every run.

Every module of ``src/ostiary`` belongs to one part (``PARTS``), and a part may import only
the parts ``RULES`` lists for it. Every import counts: at the top, inside a function, under
``TYPE_CHECKING``. A failure names the importing line, the imported module and the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

LIBRARY = "library"
LIBRARY_MODULES = (
    "ostiary",  # the package's own __init__ (the version), not its subpackages
    "ostiary.jose",
    "ostiary.ids",
    "ostiary.timeutil",
    "ostiary.compact_json",
    "ostiary.randomness",
    "ostiary.circuit_breaker",
    "ostiary.request_paths",
    "ostiary.cors_policy",
    "ostiary.filter_ast",
    "ostiary.bearer",
    "ostiary.cpus",
    "ostiary.bounded_cache",
    "ostiary.log_redaction",
    "ostiary.window_counter",
    "ostiary.prometheus_text",
    "ostiary.gc_tuning",
    "ostiary.startup_gc",  # serve --memory's start-up: the collector off until the port is open
    "ostiary.cli_fast_path",  # `ostiary serve` without Typer building every command (Typer only)
    "ostiary.alembic_runner",  # applying a set of Alembic migrations (org server, access gateway)
    "ostiary.private_files",  # a 0600 file written to a temporary name, then put in place
    "ostiary.db_faults",  # database failure kinds from the drivers' exceptions, and the retry
    "ostiary.pool_liveness",  # a pooled connection pinged only after it sat idle (both stores)
    "ostiary.serving",  # serving HTTP: the uvicorn protocol (issue 15 item 8 moves it here)
)
"""The library layer: small helpers every part may use, which import no part."""

PARTS: dict[str, str] = {
    "ostiary.cli": "wiring",
    "ostiary.app": "wiring",
    "ostiary.demo_runner": "wiring",
    "ostiary.memory_server": "wiring",
    "ostiary.__main__": "wiring",
    "ostiary.testing": "testing",
    "ostiary.org_file_cli": "wiring",
    "ostiary.org_remote": "wiring",  # apply/export through Okta's management API (issue 21)
    "ostiary.settings": "settings",
    "ostiary.http": "http",
    "ostiary.domain": "domain",
    "ostiary.store": "store",
    "ostiary.gateway": "gateway",
    "ostiary.access_gateway": "access_gateway",
    "ostiary.resource": "resource",
    "ostiary.demo": "demo",
    **dict.fromkeys(LIBRARY_MODULES, LIBRARY),
}


@dataclass(frozen=True)
class Rule:
    may_import: frozenset[str]
    text: str
    never_packages: frozenset[str] = frozenset()


def _rule(text: str, *parts: str, never: tuple[str, ...] = ()) -> Rule:
    return Rule(frozenset(parts), text, frozenset(never))


_ALL_PARTS = frozenset(PARTS.values())
RULES: dict[str, Rule] = {
    "wiring": _rule("the entry points compose every part", *_ALL_PARTS),
    "settings": _rule("settings read the environment and use only the library layer", "settings", LIBRARY),
    "http": _rule(
        "http -> domain -> store: http calls the domain (and reads the Settings the wiring built)",
        "http",
        "domain",
        "settings",
        LIBRARY,
    ),
    "domain": _rule(
        "http -> domain -> store: the domain uses store/, never http or a web framework",
        "domain",
        "store",
        LIBRARY,
        never=("starlette", "fastapi"),
    ),
    "store": _rule("http -> domain -> store: storage imports neither domain nor http", "store", LIBRARY),
    "gateway": _rule(
        "the gateway never imports the org server (domain, store, http) nor resource/; "
        "shared helpers live in the library layer",
        "gateway",
        LIBRARY,
    ),
    "access_gateway": _rule(
        "the access gateway never imports the org server (domain, store, http)", "access_gateway", LIBRARY
    ),
    "resource": _rule(
        "the resource library runs in other people's apps: it never imports the org server "
        "(domain, store, http) nor the gateway; shared helpers live in the library layer",
        "resource",
        LIBRARY,
    ),
    "demo": _rule(
        "demo/ holds the demo's apps and seed; composing the servers belongs to the entry points, "
        "so demo/ never imports them (cli, app, settings)",
        *(_ALL_PARTS - {"wiring", "settings"}),
    ),
    LIBRARY: _rule("the library layer imports no part", LIBRARY),
    "testing": _rule(
        "the pytest plugin runs in other people's test suites: it drives the org server over HTTP "
        "and never imports it",
        "testing",
        LIBRARY,
    ),
}

KNOWN_DEBT: dict[str, frozenset[str]] = {
    # Issue 15, item 1: every http module takes plain records from the domain now. Add an
    # entry here only with a reason; a stale entry fails test_known_debt_is_still_real.
}
"""Imports that break a rule today and are allowed explicitly, importer -> imported modules."""


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    importer: str
    target: str


def modules_under(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file of ``package`` under ``root``."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, importer: str, is_package: bool, modules: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = importer.split(".")[: len(importer.split(".")) - node.level + int(is_package)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            yield submodule if submodule in modules else base


def imports_of(modules: dict[str, Path]) -> Iterator[Import]:
    """Every import statement of every module (``from p import m`` counts as ``p.m`` when
    ``m`` is a module)."""
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            targets = _imported(node, importer, path.name == "__init__.py", modules)
            for target in dict.fromkeys(targets):  # one line per module, not per name
                yield Import(path, getattr(node, "lineno", 0), importer, target)


def part_of(module: str, parts: dict[str, str]) -> str | None:
    """The part of the longest prefix of ``module`` in ``parts`` (the bare package name
    matches only itself)."""
    best: tuple[int, str] | None = None
    for prefix, part in parts.items():
        inside = module == prefix or ("." in prefix and module.startswith(prefix + "."))
        if inside and (best is None or len(prefix) > best[0]):
            best = (len(prefix), part)
    return best[1] if best else None


def violations(
    modules: dict[str, Path],
    package: str,
    parts: dict[str, str],
    rules: dict[str, Rule],
    allowed: dict[str, frozenset[str]],
) -> list[str]:
    found: list[str] = []
    for imp in imports_of(modules):
        source = part_of(imp.importer, parts)
        rule = rules[source] if source else None
        if rule is None:
            continue  # test_every_module_belongs_to_a_part reports it
        top = imp.target.split(".")[0]
        if top == package:
            target = part_of(imp.target, parts)
            if target in rule.may_import or imp.target in allowed.get(imp.importer, ()):
                continue
        elif top not in rule.never_packages:
            continue
        else:
            target = top
        where = f"{imp.path.relative_to(SRC) if imp.path.is_relative_to(SRC) else imp.path}:{imp.line}"
        found.append(f"{where}: {source} imports {imp.target} ({target}) -- rule: {rule.text}")
    return found


def test_every_module_belongs_to_a_part() -> None:
    unplaced = [name for name in modules_under(SRC, "ostiary") if part_of(name, PARTS) is None]
    assert unplaced == [], "add these modules to PARTS (or LIBRARY_MODULES) in this test"


def test_imports_follow_the_layering_rules() -> None:
    found = violations(modules_under(SRC, "ostiary"), "ostiary", PARTS, RULES, KNOWN_DEBT)
    advice = "move the code, or allow the import in KNOWN_DEBT with a reason (issue 15)"
    assert found == [], (
        f"layering rules broken (design.md, 'Dependencies point down'); {advice}:\n" + "\n".join(found)
    )


def test_known_debt_is_still_real() -> None:
    present = {(imp.importer, imp.target) for imp in imports_of(modules_under(SRC, "ostiary"))}
    stale = [(a, b) for a, targets in KNOWN_DEBT.items() for b in targets if (a, b) not in present]
    assert stale == [], "these imports are gone: delete them from KNOWN_DEBT"


# --- the checker itself, on a made-up package ---------------------------------------------


def _write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return modules_under(root, "pkg")


_TOY_PARTS = {"pkg": LIBRARY, "pkg.ids": LIBRARY, "pkg.store": "store", "pkg.domain": "domain"}
_TOY_RULES = {name: RULES[name] for name in ("store", "domain", LIBRARY)}


@pytest.mark.parametrize(
    "statement",
    [
        "from pkg.domain.filters import Node",
        "from pkg.domain import filters",
        "import pkg.domain.filters",
        "from ..domain import filters",
        "def late():\n    from pkg.domain.filters import Node",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.domain.filters import Node",
    ],
)
def test_the_check_names_the_import_and_the_rule(tmp_path: Path, statement: str) -> None:
    modules = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/store/__init__.py": "",
            "pkg/store/sql.py": statement + "\n",
            "pkg/domain/__init__.py": "",
            "pkg/domain/filters.py": "",
        },
    )
    [found] = violations(modules, "pkg", _TOY_PARTS, _TOY_RULES, {})
    assert found.startswith(f"{tmp_path / 'pkg/store/sql.py'}:")
    assert "store imports pkg.domain" in found
    assert "rule: http -> domain -> store: storage imports neither domain nor http" in found


def test_the_check_passes_allowed_imports_and_the_library(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/ids.py": "import json\n",
            "pkg/store/__init__.py": "from pkg import ids\nfrom pkg.domain import filters\n",
            "pkg/domain/__init__.py": "",
            "pkg/domain/filters.py": "from pkg.store import sql\nimport sqlalchemy\n",
            "pkg/store/sql.py": "",
        },
    )
    assert (
        violations(modules, "pkg", _TOY_PARTS, _TOY_RULES, {"pkg.store": frozenset({"pkg.domain.filters"})})
        == []
    )


def test_the_check_refuses_a_web_framework_in_the_domain(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/domain/__init__.py": "from starlette.requests import Request\n"},
    )
    [found] = violations(modules, "pkg", _TOY_PARTS, _TOY_RULES, {})
    assert "domain imports starlette.requests (starlette)" in found
    assert "never http or a web framework" in found


def test_the_library_imports_no_part(tmp_path: Path) -> None:
    modules = _write(
        tmp_path, {"pkg/__init__.py": "", "pkg/ids.py": "from pkg.store import sql\n", "pkg/store/sql.py": ""}
    )
    [found] = violations(modules, "pkg", _TOY_PARTS, _TOY_RULES, {})
    assert "library imports pkg.store.sql (store) -- rule: the library layer imports no part" in found
