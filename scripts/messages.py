"""Keep the catalogues of the command's and the servers' text (zh-CN, en) in step with the code.

Message ids are English templates written in the code: the first argument of every
``msg(...)`` (errors the broker and the nodes answer with, ``CommandError`` messages), of
every ``tr(...)`` of :mod:`tongdao.i18n` (the command's own lines) and the template of every
``explained(exc, ...)`` (a local error told in the reader's language). Ids used in ``tongdao/``
and ``benchmarks/`` go to ``cli.po``, the others to ``server.po``. The command's help (every
description, option help and group title of the built parser and of the parsers of the
benchmarks that take their own options, and argparse's own words) goes to ``help.po``. All
under ``policies/locales/<locale>/LC_MESSAGES/``.

    python scripts/messages.py          # add new ids to both catalogues (en = the id)
    python scripts/messages.py --check  # exit 1 listing ids without a translation

New zh-CN entries are added with an empty ``msgstr``: translate them, then run ``--check``.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tongdao", "benchmarks", "broker", "node", "proto", "policies", "crypto")
CLI_FOLDERS = ("tongdao", "benchmarks")
"""Folders whose messages the command says (``cli.po``); the others' go to ``server.po``."""
BENCH_PARSERS = ("tongdao.benchmarks.engines_bench", "tongdao.benchmarks.relay_bench")
"""Benchmarks that parse their own options (``tongdao bench engines …`` hands them on): each
module's ``build_parser()``."""
LOCALES_DIR = ROOT / "policies" / "locales"
DOMAINS = ("cli", "server", "help")
CALLS = ("msg", "tr", "explained")
"""Calls whose argument is a message id (literal strings only)."""
ID_ARGUMENT = {"msg": 0, "tr": 0, "explained": 1}
"""Which positional argument of each call is the message id (``explained(exc, "…{reason}")``)."""
IMPLIED_FIELDS = {"explained": {"reason"}}
"""Fields a call fills itself (``explained`` gives the exception's text as ``{reason}``)."""


def message_id(node: ast.Call) -> str | None:
    """The message id a call of :data:`CALLS` names (a literal string), or None."""
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    if name not in CALLS or len(node.args) <= ID_ARGUMENT[name]:
        return None
    arg = node.args[ID_ARGUMENT[name]]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def sources() -> list[Path]:
    """Every Python module of the product."""
    return [p for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]


def _calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and (found_id := message_id(node)) is not None:
            found.append(found_id)
    return found


def command_help() -> list[str]:
    """Every help text of the ``tongdao`` parser and of the benchmarks' own parsers (built in
    English), then argparse's words."""
    os.environ["TONGDAO_LOCALE"] = "en"
    from tongdao.cli import build_parser
    from tongdao.help_text import ARGPARSE_IDS, texts
    from tongdao.i18n import choose

    choose([], {"TONGDAO_LOCALE": "en"})
    built = [build_parser(), *(importlib.import_module(m).build_parser() for m in BENCH_PARSERS)]
    return [*dict.fromkeys(t for parser in built for t in texts(parser)), *ARGPARSE_IDS]


def extract_ids() -> dict[str, str]:
    """Every message id, with the catalogue (``cli``, ``server`` or ``help``) it belongs in."""
    ids: dict[str, str] = {}
    for path in sources():
        domain = "cli" if path.relative_to(ROOT).parts[0] in CLI_FOLDERS else "server"
        for message_id in _calls(path):
            ids.setdefault(message_id, domain)
    for message_id in command_help():
        ids.setdefault(message_id, "help")
    return ids


def catalogue_path(locale: str, domain: str) -> Path:
    """The ``<domain>.po`` of ``locale`` (``zh-CN`` → ``zh_CN``)."""
    return LOCALES_DIR / locale.replace("-", "_") / "LC_MESSAGES" / f"{domain}.po"


def translated(locale: str) -> dict[str, str]:
    """Every id with a translation in any of ``locale``'s catalogues."""
    from babel.messages.pofile import read_po

    have: dict[str, str] = {}
    for path in sorted(catalogue_path(locale, "x").parent.glob("*.po")):
        with path.open("rb") as fh:
            have.update({str(m.id): str(m.string) for m in read_po(fh) if m.id and m.string})
    return have


def update() -> None:
    """Add new ids to both locales' catalogues (English: the id itself; zh-CN: empty)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    ids = extract_ids()
    for locale in ("en", "zh-CN"):
        have = translated(locale)
        for domain in DOMAINS:
            path = catalogue_path(locale, domain)
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh)
            else:
                catalog = Catalog(locale=locale.replace("-", "_"), project="tongdao")
            for message_id, where in ids.items():
                if where != domain or message_id in have or message_id in catalog:
                    continue
                flags = _flags(message_id, where)
                catalog.add(message_id, message_id if locale == "en" else "", flags=flags)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=True)


def _flags(message_id: str, domain: str) -> tuple[str, ...]:
    if domain == "help":  # argparse fills %(default)s, %s … in help and in its own words
        return ("python-format",) if "%" in message_id else ()
    return ("python-brace-format",) if "{" in message_id else ()


def missing(locale: str) -> list[str]:
    """Ids without a translation in ``locale``."""
    have = translated(locale)
    return [i for i in extract_ids() if i not in have]


def main(argv: list[str] | None = None) -> int:
    """Update the catalogues, or check them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list untranslated ids; exit 1")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if not args.check:
        update()
    problems = [f"{loc}: {i!r}" for loc in ("en", "zh-CN") for i in missing(loc)]
    for line in problems:
        print(f"untranslated {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
