"""Dependencies point inward: the crypto core and the rules import no transport and no store.

``tongdao.crypto`` and ``tongdao.policies`` are used by the broker, the nodes, the CLI and the
benchmarks alike; neither may reach gRPC, SQL or any outer package. The crypto core may use the
rules' message catalogue (its errors are told in the reader's language); the rules use nothing
of the project but themselves.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("grpc", "google.protobuf", "sqlalchemy", "alembic", "psycopg", "sqlite3")
ALLOWED = {
    "crypto": ("tongdao.crypto", "tongdao.policies.i18n"),
    "policies": ("tongdao.policies",),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import of ``path``, at module level or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_an_inner_layer_imports_no_transport_no_store_and_no_outer_package(layer):
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no modules under {layer}/"
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in files
        for line, name in _imports(path)
        if _within(name, OUTSIDE)
        or (_within(name, ("tongdao",)) and not _within(name, ALLOWED[layer]))
    ]
    assert not offenders, f"{layer}/ must not import these:\n" + "\n".join(offenders)


def test_the_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import grpc\n    from tongdao.broker import app\n")
    names = [name for _, name in _imports(module)]
    assert names == ["grpc", "tongdao.broker"]
    assert _within("grpc", OUTSIDE) and not _within("tongdao.broker", ALLOWED["crypto"])
