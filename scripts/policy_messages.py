"""Keep the policy message catalogues (zh-CN, en) in step with the code.

Message ids are English templates written in the code: the 5th argument of ``_d(...)`` in
``policies/engine.py`` and the first argument of every ``translate(...)`` call in ``policies/``
and the ``calendar``/``policy`` CLI commands; holiday names come from ``chinesecalendar``.

    python scripts/policy_messages.py          # add new ids to both catalogues (en = the id)
    python scripts/policy_messages.py --check  # exit 1 listing ids without a zh-CN translation

New zh-CN entries are added with an empty ``msgstr``: translate them, then run ``--check``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    *sorted((ROOT / "policies").glob("*.py")),
    ROOT / "tongdao" / "commands" / "calendar.py",
    ROOT / "tongdao" / "commands" / "policy.py",
)
LOCALES_DIR = ROOT / "policies" / "locales"
# call name -> index of the message-id argument
CALLS = {"_d": 4, "translate": 0, "_t": 0, "tr": 0}


def extract_ids(sources: tuple[Path, ...] = SOURCES) -> list[str]:
    """Every message id used in ``sources`` (literal strings only), in first-seen order."""
    ids: dict[str, None] = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            index = CALLS.get(str(name))
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                ids[arg.value] = None
    try:
        from chinese_calendar.constants import Holiday

        for holiday in Holiday:
            ids[str(holiday.value)] = None
    except ImportError:  # pragma: no cover - chinesecalendar is a runtime dependency
        pass
    return list(ids)


def catalogue_path(locale: str) -> Path:
    """The ``messages.po`` of ``locale`` (``zh-CN`` → ``zh_CN``)."""
    return LOCALES_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"


def missing(locale: str, ids: list[str] | None = None) -> list[str]:
    """Ids without a translation in any of ``locale``'s catalogues (the rules' ``messages.po``,
    or ``cli.po`` for the command's own lines: the runtime reads them all)."""
    from babel.messages.pofile import read_po

    have: set[str] = set()
    for path in sorted(catalogue_path(locale).parent.glob("*.po")):
        with path.open("rb") as fh:
            have |= {str(m.id) for m in read_po(fh) if m.id and m.string}
    return [i for i in (ids if ids is not None else extract_ids()) if i not in have]


def update() -> None:
    """Add new ids to both catalogues (English: the id itself; zh-CN: empty, to translate)."""
    from babel.messages.pofile import read_po, write_po

    ids = extract_ids()
    for locale in ("en", "zh-CN"):
        path = catalogue_path(locale)
        untranslated = set(missing(locale, ids))  # an id another catalogue holds stays there
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for message_id in ids:
            if message_id not in catalog and message_id in untranslated:
                flags = ("python-brace-format",) if "{" in message_id else ()
                text = message_id if locale == "en" else ""
                catalog.add(message_id, text, flags=flags)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False)


def main(argv: list[str] | None = None) -> int:
    """Update the catalogues, or check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list untranslated ids; exit 1")
    args = parser.parse_args(argv)
    if not args.check:
        update()
    problems = [f"{loc}: {i!r}" for loc in ("en", "zh-CN") for i in missing(loc)]
    for line in problems:
        print(f"untranslated {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
