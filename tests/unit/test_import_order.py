"""Every module of ``src/ostiary`` imports on its own, as the first module of the package.

A circular import shows only when the cycle is entered at one particular module (``python -c
"import ostiary.domain.tokens.user_tokens"`` failed while ``import ostiary.app`` worked). One
fresh interpreter imports each module in turn after forgetting every ``ostiary`` module, so
each one is imported first once; third-party packages stay loaded, which keeps this quick.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

NOT_IMPORTABLE_ALONE = frozenset(
    {
        "ostiary.store.migrations.env",  # Alembic's script: runs only inside ``alembic``'s context
    }
)

_IMPORT_EACH_FIRST = textwrap.dedent(
    """
    import importlib, sys, traceback
    package, failed = sys.argv[1], []
    for name in sys.argv[2:]:
        for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[loaded]
        try:
            importlib.import_module(name)
        except Exception:
            failed.append(name + ":\\n" + traceback.format_exc(limit=-3))
    print("\\n".join(failed))
    """
)


def module_names(root: Path = SRC, package: str = "ostiary") -> list[str]:
    names = []
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def modules_failing_when_imported_first(names: list[str], root: Path = SRC, package: str = "ostiary") -> str:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_FIRST, package, *names],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    return done.stdout.strip()


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    names = [name for name in module_names() if name not in NOT_IMPORTABLE_ALONE]
    assert len(names) > 200
    assert modules_failing_when_imported_first(names) == ""


def test_the_check_finds_a_cycle_entered_at_one_module(tmp_path: Path) -> None:
    package = tmp_path / "cyc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyc.b import B\nA = 1\n")
    (package / "b.py").write_text("B = 2\nfrom cyc.a import A\n")
    names = module_names(tmp_path, "cyc")
    failures = modules_failing_when_imported_first(names, tmp_path, "cyc")
    # a first: a → b → a.A, not defined yet: fails. b first: b → a → b.B, defined: works.
    assert failures.startswith("cyc.a:")
    assert "ImportError: cannot import name 'A' from partially initialized module 'cyc.a'" in failures
    assert "cyc.b:" not in failures
