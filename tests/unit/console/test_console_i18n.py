"""Every string the console shows is in both of its catalogues (zh-CN, the default, and
English), with the same {fields}; zh-CN really is Chinese."""

from __future__ import annotations

import re

import pytest

from tests.unit.console.console_strings import message_ids
from tongdao.console.i18n import DEFAULT_LOCALE, catalogue, pick_locale, translate

FIELDS = re.compile(r"\{(\w+)\}")
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_extraction_sees_the_templates_and_modules():
    ids = message_ids()
    assert {"Dashboard", "Log in", "Wrong username or password", "Approve and publish"} <= ids
    assert len(ids) > 100


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_console_string_is_in_the_locale(locale):
    table = catalogue(locale)
    missing = sorted(message_ids() - set(table))
    assert not missing, f"not in policies/locales/{locale}/LC_MESSAGES/console.po: {missing}"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_translations_keep_the_fields(locale):
    for message_id, text in catalogue(locale).items():
        assert set(FIELDS.findall(text)) == set(FIELDS.findall(message_id)), message_id


def test_no_catalogue_holds_an_unused_string():
    unused = sorted(set(catalogue("zh-CN")) - message_ids())
    assert not unused, f"remove from the catalogues: {unused}"


def test_chinese_is_the_default_and_is_chinese():
    assert DEFAULT_LOCALE == "zh-CN" and pick_locale(None) == "zh-CN"
    assert pick_locale("fr") == "zh-CN" and pick_locale("en") == "en"
    assert all(HAN.search(text) for text in catalogue("zh-CN").values())
    assert translate("Entry {code} published", code="mzt.marriage") == "目录 mzt.marriage 已发布"
    assert translate("Entry {code} published", "en", code="x") == "Entry x published"
