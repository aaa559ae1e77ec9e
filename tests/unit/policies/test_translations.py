"""Every message of the command and of the servers is in both catalogues (zh-CN and en), and
each is rendered in the locale its reader asked for."""

from __future__ import annotations

import ast
import importlib.util
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tongdao.policies import i18n

ROOT = Path(__file__).resolve().parents[3]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MESSAGES = _script()


def _fields(template: str) -> set[str]:
    return {
        f"{name}!{conv}:{spec}"
        for _, name, spec, conv in string.Formatter().parse(template)
        if name is not None
    }


def test_the_walk_finds_the_messages_of_the_command_and_the_servers():
    ids = MESSAGES.extract_ids()
    # a CLI error, a refusal of the role check, a field limit of the edge, a domain error
    assert "say which party you act as: --as CODE (or TONGDAO_PARTY)" in ids
    assert "{name} needs the role {needed}; {who} holds {roles}: {hint}" in ids
    assert "at most {n} characters without control characters" in ids
    assert "no catalogue entry {code!r}" in ids
    assert "draft, submit, read and list catalogue entries" in ids  # top-level help
    assert len(ids) > 400


def test_the_walk_puts_every_help_text_and_argparses_words_in_help_po():
    ids = MESSAGES.extract_ids()
    assert (
        ids["entry file (.toml or .json); every key is explained in examples/catalogue-entry.toml"]
        == "help"
    )
    assert ids["a data item wanted (repeat, or separate with commas)"] == "help"  # made by a helper
    assert ids["who you are (the rule file's [open_data] list)"] == "help"  # a group title
    assert ids["the following arguments are required: %s"] == "help"  # argparse's own
    assert sum(1 for d in ids.values() if d == "help") > 450
    for locale in i18n.LOCALES:
        path = MESSAGES.catalogue_path(locale, "help")
        with path.open("rb") as fh:
            in_file = {str(m.id) for m in read_po(fh) if m.id and m.string}
        lacking = sorted(i for i, d in ids.items() if d == "help" and i not in in_file)
        assert not lacking, f"{path.relative_to(ROOT)} lacks {lacking}"


def test_a_new_help_text_without_a_translation_is_found(monkeypatch):
    from tongdao.commands import completion

    register = completion.register

    def with_a_new_option(sub):  # type: ignore[no-untyped-def]
        register(sub)
        sub.choices["completion"].add_argument("--new", help="a help text nobody translated")

    monkeypatch.setattr(completion, "register", with_a_new_option)
    assert "a help text nobody translated" in MESSAGES.missing("zh-CN")
    assert "a help text nobody translated" in MESSAGES.missing("en")


def test_argparses_words_are_all_known():
    """Every text Python's argparse passes to ``_()`` or ``ngettext()`` is in our list (and
    so in help.po): read from the argparse this Python runs."""
    import argparse

    from tongdao.help_text import ARGPARSE_IDS

    said = set()
    for node in ast.walk(ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))):
        name = getattr(getattr(node, "func", None), "id", None)
        if not isinstance(node, ast.Call) or name not in ("_", "ngettext"):
            continue
        literal = [a.value for a in node.args if isinstance(a, ast.Constant)]
        said.update(v for v in literal if isinstance(v, str))
    assert "usage: " in said and "expected %s arguments" in said
    assert not said - set(ARGPARSE_IDS), sorted(said - set(ARGPARSE_IDS))


def _percent(text: str) -> list[str]:
    return sorted(re.findall(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-z%]", text))


def test_help_translations_keep_argparses_placeholders():
    """argparse fills help with ``%`` (``%(default)s``, ``%s``): a translation must keep every
    placeholder of its id, and no lone ``%``."""
    catalogue = i18n._catalogue("zh-CN")
    helps = [i for i, d in MESSAGES.extract_ids().items() if d == "help"]
    wrong = [i for i in helps if _percent(catalogue.get(i, i)) != _percent(i)]
    assert not wrong, f"translations with other placeholders: {wrong}"


def test_every_message_call_passes_exactly_its_fields():
    problems = []
    for path in MESSAGES.sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(node, "func", None), "id", None)
            if not isinstance(node, ast.Call) or name not in MESSAGES.CALLS:
                continue
            template = MESSAGES.message_id(node)
            if template is None:
                continue
            given = {k.arg for k in node.keywords} | MESSAGES.IMPLIED_FIELDS.get(name, set())
            if None in given:  # **params
                continue
            wanted = {
                n.split(".")[0].split("[")[0]
                for _, n, _, _ in string.Formatter().parse(template)
                if n
            }
            if wanted != given:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {wanted} != {given}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_is_in_the_catalogue(locale):
    catalogue = i18n._catalogue(locale)
    missing = sorted(m for m in MESSAGES.extract_ids() if m not in catalogue)
    assert not missing, f"{locale} lacks: {missing}"


def test_each_translation_keeps_the_fields_of_its_template():
    catalogue = i18n._catalogue("zh-CN")
    wrong = [
        m for m in MESSAGES.extract_ids() if m in catalogue and _fields(catalogue[m]) != _fields(m)
    ]
    assert not wrong, f"translations with other fields: {wrong}"


def test_a_message_is_rendered_again_in_its_readers_locale():
    text = i18n.msg("no catalogue entry {code!r}", code="hlj.gat.hukou")
    assert text == "no catalogue entry 'hlj.gat.hukou'"
    assert i18n.render(text, "zh-CN") == "没有目录条目 'hlj.gat.hukou'"
    assert i18n.render(text, "en") == text
    # a nested message (the edge's limit in its refusal) follows its reader too
    nested = i18n.msg(
        "{name} needs the role {needed}; {who} holds {roles}: {hint}",
        name="Query",
        needed="analyst",
        who="x",
        roles=i18n.msg("no role"),
        hint=i18n.msg("log in as a person who holds {needed}", needed="analyst"),
    )
    said = i18n.render(nested, "zh-CN")
    assert "持有的角色为 （无）" in said and "请以持有 analyst" in said
    assert i18n.render("text that is no message id", "zh-CN") == "text that is no message id"


@pytest.mark.parametrize(
    ("given", "locale"),
    [
        ("zh_CN.UTF-8", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en_US.UTF-8", "en"),
        ("en-GB", "en"),
        ("C.UTF-8", None),
        ("POSIX", None),
        ("fr_FR", None),
        ("", None),
    ],
)
def test_locale_names(given, locale):
    assert i18n.normalise(given) == locale


def test_accept_language_and_the_environment():
    assert i18n.negotiate("fr;q=1.0, en;q=0.5, zh-CN;q=0.8") == "zh-CN"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("fr, de") is None and i18n.negotiate("zh;q=0") is None
    assert i18n.from_environment({}) == "zh-CN"
    assert i18n.from_environment({"LANG": "C.UTF-8"}) == "zh-CN"
    assert i18n.from_environment({"LANG": "en_US.UTF-8"}) == "en"
    assert i18n.from_environment({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}) == "zh-CN"
    assert i18n.from_environment({"LC_ALL": "en_US", "TONGDAO_LOCALE": "zh-CN"}) == "zh-CN"
