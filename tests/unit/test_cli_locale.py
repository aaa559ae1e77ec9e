"""The command speaks the language of ``--locale`` or of the environment (zh-CN by default)."""

from __future__ import annotations

import json

import pytest

from tongdao.cli import main
from tongdao.i18n import choose, current, forget


@pytest.fixture
def environment(monkeypatch):
    for key in ("TONGDAO_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(key, raising=False)
    yield monkeypatch
    forget()


def missing_party(tmp_path, *extra: str) -> list[str]:
    return [*extra, "catalogue", "list", "--home", str(tmp_path), "--as", ""]


ZH = "tongdao: error: 请说明以哪一方身份操作：--as 代码（或 TONGDAO_PARTY）"
EN = "tongdao: error: say which party you act as: --as CODE (or TONGDAO_PARTY)"


@pytest.mark.parametrize(
    ("env", "argv", "line"),
    [
        ({}, (), ZH),  # nothing said: zh-CN
        ({"LANG": "C.UTF-8"}, (), ZH),
        ({"LANG": "en_US.UTF-8"}, (), EN),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, (), EN),
        ({"LANG": "en_US.UTF-8"}, ("--locale", "zh-CN"), ZH),
        ({"TONGDAO_LOCALE": "zh-CN"}, ("--locale=en",), EN),
    ],
)
def test_errors_follow_locale_then_environment(environment, tmp_path, capsys, env, argv, line):
    for key, value in env.items():
        environment.setenv(key, value)
    assert main(missing_party(tmp_path, *argv)) == 2
    assert capsys.readouterr().err.strip() == line


def test_locale_after_the_command_counts_too(environment, tmp_path, capsys):
    environment.setenv("LANG", "en_US.UTF-8")
    assert main([*missing_party(tmp_path), "--locale", "zh-CN"]) == 2
    assert capsys.readouterr().err.strip() == ZH


def test_json_errors_keep_the_english_text(environment, tmp_path, capsys):
    assert main([*missing_party(tmp_path), "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["message"] == ZH.removeprefix("tongdao: error: ")
    assert error["message_en"] == EN.removeprefix("tongdao: error: ")


def test_top_level_help_in_chinese_and_english(environment, capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    zh = capsys.readouterr().out
    assert "通道 (Tongdao)：部门之间基于隐私计算的数据共享。" in zh
    assert "起草、提交、查看和列出目录条目" in zh and "运行部门节点（数据留在本部门）" in zh
    with pytest.raises(SystemExit):
        main(["--locale", "en", "--help"])
    en = capsys.readouterr().out
    assert "draft, submit, read and list catalogue entries" in en and "目录条目" not in en


def test_an_unsupported_language_falls_back_to_the_default(environment):
    environment.setenv("LANG", "fr_FR.UTF-8")
    assert choose([]) == "zh-CN"
    assert choose(["--locale", "xx"]) == "zh-CN"
    assert choose(["--", "--locale", "en"]) == "zh-CN"


def test_a_run_leaves_no_choice_behind(environment, tmp_path):
    environment.setenv("LANG", "en_US.UTF-8")
    main(missing_party(tmp_path, "--locale", "zh-CN"))
    assert current() == "en"  # the environment's again, for the next caller in this process
