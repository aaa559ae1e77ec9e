"""A file that does not parse is said where: file, line and column, in the reader's language."""

import json
import tomllib

import pytest

from tongdao.policies.i18n import render, syntax_error


def _toml_error(text: str) -> tomllib.TOMLDecodeError:
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    return caught.value


def test_toml_names_line_and_column():
    said = syntax_error(_toml_error('code = "x"\nname = \n'), "entry.toml")
    assert str(said).startswith("entry.toml: not valid TOML at line 2, column 8: ")
    assert render(said, "zh-CN").startswith("entry.toml：不是有效的 TOML（第 2 行第 8 列：")


def test_json_names_line_and_column():
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads('{\n  "code": \n}')
    said = syntax_error(caught.value, "entry.json")
    assert str(said).startswith("entry.json: not valid JSON at line 3, column 1: Expecting value")


def test_an_error_that_names_no_place_is_still_said():
    said = syntax_error(ValueError("'utf-8' codec can't decode byte 0xff"), "x.toml")
    assert str(said) == "x.toml: not valid TOML: 'utf-8' codec can't decode byte 0xff"


def test_a_stored_message_keeps_the_messages_inside_it():
    from tongdao.policies.i18n import msg, render_stored, template_of

    said = msg(
        "both parties are {level} departments of region {region}",
        level=msg("city-level"),
        region="230100",
    )
    stored = json.loads(json.dumps(template_of(said)))  # as a JSON column gives it back
    assert render_stored(stored, str(said), "zh-CN") == "双方均为行政区划 230100 的市级部门"
    assert render_stored(stored, str(said), "en") == str(said)
    assert render_stored(None, "older row", "zh-CN") == "older row"
