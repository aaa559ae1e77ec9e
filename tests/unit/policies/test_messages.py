"""Every decision message the rules can return is in both catalogues (zh-CN and en)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tongdao.policies import i18n

POLICIES = Path(i18n.__file__).resolve().parent


def decision_messages() -> set[str]:
    """The message templates passed to ``_d(outcome, articles, rule, locale, message, …)``."""
    found = set()
    for path in POLICIES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_d"
                and len(node.args) >= 5
            ):
                message = node.args[4]
                assert isinstance(message, ast.Constant), f"{path.name}: a computed message"
                found.add(message.value)
    return found


def test_the_walk_finds_the_messages():
    assert "A refusal must state its reason" in decision_messages()
    assert len(decision_messages()) > 20


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_decision_message_is_translated(locale):
    catalogue = i18n._catalogue(locale)
    missing = sorted(m for m in decision_messages() if m not in catalogue)
    assert not missing, f"{locale} lacks: {missing}"
