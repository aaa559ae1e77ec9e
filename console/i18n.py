"""The console's words in zh-CN (the default) and English.

Same scheme as :mod:`tongdao.policies.i18n`: message ids are English templates with
``{named}`` fields, each locale's ``console.po`` gives the text, read once with Babel. It sits
with the product's other catalogues (``policies/locales/<locale>/LC_MESSAGES/``: the rules'
decisions, the command, its help, the servers) and is the console's own file, so no other
part edits it. Every id used in the templates and pages is in both catalogues
(tests/unit/console/test_console_i18n.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tongdao.policies.i18n import DEFAULT_LOCALE, LOCALES, LOCALES_DIR

__all__ = ["DEFAULT_LOCALE", "LOCALES", "catalogue", "pick_locale", "translate"]


@cache
def catalogue(locale: str) -> dict[str, str]:
    """Message id → text for ``locale`` (empty when the file is missing)."""
    from babel.messages.pofile import read_po

    path = LOCALES_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "console.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        read = read_po(fh)
    return {str(m.id): str(m.string) for m in read if m.id and m.string}


def translate(message_id: str, locale: str = DEFAULT_LOCALE, **params: Any) -> str:
    """``message_id`` in ``locale`` with ``params`` filled in (the id itself when missing)."""
    template = catalogue(locale).get(message_id, message_id)
    return template.format(**params) if params else template


def pick_locale(value: str | None) -> str:
    """A supported locale from a cookie or query value, else the default (zh-CN)."""
    return value if value in LOCALES else DEFAULT_LOCALE
