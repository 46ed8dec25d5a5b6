"""The package's import rules (docs/architecture.md): rooms import downwards only, no cycles,
and no function-local imports of the package's own modules except in the CLI."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "partnersim"


def test_import_contracts_hold():
    """import-linter's contracts (pyproject.toml): layers and no cycles within a room."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is a test dependency (pip install -e .[dev])"
    done = subprocess.run([lint, "--no-cache"], capture_output=True, text=True,
                          cwd=PACKAGE.parents[1])
    assert done.returncode == 0, done.stdout[-3000:]


def _local_imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    """Imports of partnersim modules inside a function body."""
    found = []
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [a.name for a in node.names] if isinstance(node, ast.Import)
                         else [])
                if any(n == "partnersim" or n.startswith("partnersim.") for n in names):
                    found.append(node)
    return found


REASONS = ("start-up", "because", "why")
"""Words of a comment that gives a reason for a local import (a bare ``# noqa`` does not)."""


def _says_why(lines: list[str], node: ast.stmt) -> bool:
    """A comment giving a reason (:data:`REASONS`) on the import itself or in the block of
    imports and comments just above."""
    block = lines[node.lineno - 1: node.end_lineno]
    above = node.lineno - 2
    while above >= 0 and lines[above].strip().startswith(("from ", "import ", "#", ")")):
        block.append(lines[above])
        above -= 1
    comments = [line.partition("#")[2].lower() for line in block if "#" in line]
    return any(word in comment for comment in comments for word in REASONS)


def test_function_local_imports_only_in_the_cli_and_each_says_why():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in _local_imports(ast.parse("\n".join(lines))):
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if path.name != "cli.py":
                offenders.append(f"{where}: function-local import outside the CLI")
            elif not _says_why(lines, node):
                offenders.append(f"{where}: no comment saying why it is local")
    assert offenders == []


def test_the_local_import_scan_finds_one_and_reads_its_comment():
    source = "def f():\n    from partnersim.model import stages\n    import numpy\n"
    (found,) = _local_imports(ast.parse(source))
    assert not _says_why(source.splitlines(), found)
    commented = "def f():\n    # why: start-up time\n    from partnersim.model import stages\n"
    (found,) = _local_imports(ast.parse(commented))
    assert _says_why(commented.splitlines(), found)
    for reasonless in ("# noqa: PLC0415", "# here", "#"):
        source = f"def f():\n    from partnersim.model import stages  {reasonless}\n"
        (found,) = _local_imports(ast.parse(source))
        assert not _says_why(source.splitlines(), found), reasonless
