"""Every refusal the broker and the nodes raise, and every error of their configuration, backups
and ledger exports, is a catalogued message, so a reader who asked for zh-CN never gets an
English-only sentence: the text goes through ``msg(...)`` (whose id the translation check then
holds to both catalogues), never a bare literal or f-string."""

from __future__ import annotations

import ast
from pathlib import Path

from tongdao.policies.i18n import msg, render

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = ("broker", "node", "proto", "policies")
DOMAIN_ERRORS = {
    "DomainError",
    "InvalidArgument",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "FailedPrecondition",
    "ResourceExhausted",
    "Unavailable",
    "Unauthenticated",
    "Aborted",
    "OutOfRange",
    "ConfigError",
    "BackupError",
    "ExportError",
    "ProofError",
}


def _uncatalogued(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        text = node.args[0]
        literal = isinstance(text, ast.JoinedStr) or (
            isinstance(text, ast.Constant) and isinstance(text.value, str)
        )
        if name in DOMAIN_ERRORS and literal:
            found.append(f"{where}:{node.lineno}: {name}(<literal>)")
    return found


def test_no_domain_error_is_raised_with_an_uncatalogued_sentence():
    found = [
        hit
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "_pb2" not in path.name
        for hit in _uncatalogued(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not found, "wrap the text in msg(...) and translate it:\n" + "\n".join(found)


def test_the_walk_sees_a_literal_refusal_and_passes_a_catalogued_one():
    assert _uncatalogued('raise NotFound(f"no split {x!r}", field="id")', "m.py") == [
        "m.py:1: NotFound(<literal>)"
    ]
    assert _uncatalogued('raise errors.InvalidArgument("too long")', "m.py") == [
        "m.py:1: InvalidArgument(<literal>)"
    ]
    assert _uncatalogued('raise NotFound(msg("no split {x!r}", x=x), field="id")', "m.py") == []


def test_a_regional_refusal_reads_in_chinese():
    text = msg("no regional split {split_id!r}", split_id="rs-1")
    assert str(text) == "no regional split 'rs-1'"
    assert render(text, "zh-CN") == "没有区域拆分 'rs-1'"
