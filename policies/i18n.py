"""Localised decision messages (zh-CN and en), from gettext catalogues under ``locales/``.

Message ids are English templates with ``{named}`` fields; each locale's ``messages.po`` gives
the translation. Catalogues are read once with Babel (no compile step, so a fresh install works).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


@cache
def _catalogue(locale: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    path = LOCALES_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def translate(message_id: str, locale: str = DEFAULT_LOCALE, **params: Any) -> str:
    """Render ``message_id`` in ``locale`` with ``params``.

    Args:
        message_id: the English template (also the fallback).
        locale: ``zh-CN`` or ``en``.
        params: values for the template's fields.

    Returns:
        The rendered message.

    Raises:
        ValueError: unknown locale.
    """
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; use one of {', '.join(LOCALES)}")
    template = _catalogue(locale).get(message_id, message_id) if locale != "en" else message_id
    return template.format(**params)
