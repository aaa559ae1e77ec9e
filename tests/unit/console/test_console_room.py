"""The console is a room of its own: it reaches the broker only through the wire API, never a
context's service, table or the store (docs/console.md, "Where it runs")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "console"
ALLOWED_BROKER = {"tongdao.broker.ledger.audit"}  # pure checks, no SQL (its docstring)
FORBIDDEN = ("sqlalchemy", "alembic", "psycopg")


def imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_the_console_uses_no_service_no_table_and_no_store():
    modules = sorted(ROOT.glob("*.py"))
    assert len(modules) >= 8
    offenders = []
    for path in modules:
        for name in imports(path):
            if name.startswith("tongdao.broker") and name not in ALLOWED_BROKER:
                offenders.append(f"{path.name}: {name}")
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.name}: {name}")
    assert not offenders, offenders


def test_the_allowed_ledger_module_touches_no_store():
    audit = Path(__file__).resolve().parents[3] / "broker" / "ledger" / "audit.py"
    assert not [n for n in imports(audit) if n.split(".")[0] in FORBIDDEN or "models" in n]
