"""``--help``, usage and argparse's errors in the language of ``--locale`` or of the environment,
and readable at 80 columns in Chinese."""

from __future__ import annotations

import argparse
import gettext
import subprocess

import pytest

from tongdao.cli import build_parser, main
from tongdao.help_text import columns, parsers, speaking, wrap
from tongdao.i18n import choose, forget


@pytest.fixture
def environment(monkeypatch):
    for key in ("TONGDAO_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    yield monkeypatch
    forget()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


HELP = [
    (
        ["catalogue", "create"],
        "条目文件（.toml 或 .json）；每个键的说明见",
        "entry file (.toml or .json); every key is explained in",
    ),
    (["consumer", "request"], "申请的查询次数", "requested number of queries"),
    (["ledger", "verify"], "验证存证日志：每条记录的哈希和链接", "Verify the ledger: each entry's"),
    (["calendar", "due"], "收到日期，YYYY-MM-DD", "day of receipt, YYYY-MM-DD"),
]


@pytest.mark.parametrize(("command", "zh", "en"), HELP, ids=[" ".join(c) for c, _, _ in HELP])
def test_sub_command_help_in_chinese_and_english(environment, capsys, command, zh, en):
    code, out, _ = run(capsys, "--locale", "zh-CN", *command, "--help")
    flat = " ".join(out.split())
    assert code == 0
    assert out.startswith(f"用法：tongdao {' '.join(command)} [-h]")
    assert "选项:" in out and "-h, --help 显示本帮助信息并退出" in flat
    assert "".join(zh.split()) in "".join(out.split())  # wrapped anywhere between characters
    assert "usage:" not in out and en.split()[0] + " " + en.split()[1] not in out

    code, out, _ = run(capsys, *command, "--help", "--locale", "en")
    flat = " ".join(out.split())
    assert code == 0
    assert out.startswith(f"usage: tongdao {' '.join(command)} [-h]")
    assert "options:" in out and "-h, --help show this help message and exit" in flat
    assert en in flat and "用法" not in out and "显示本帮助信息" not in out


def test_lang_chooses_the_help_language_too(environment, capsys):
    environment.setenv("LANG", "zh_CN.UTF-8")
    assert "位置参数:" in run(capsys, "catalogue", "create", "--help")[1]
    environment.setenv("LANG", "en_US.UTF-8")
    assert "positional arguments:" in run(capsys, "catalogue", "create", "--help")[1]


def test_a_missing_argument_is_reported_in_the_runs_language(environment, capsys):
    code, out, err = run(capsys, "--locale", "zh-CN", "catalogue", "create")
    assert code == 2 and out == ""
    assert err.startswith("用法：tongdao catalogue create")
    assert err.endswith("tongdao catalogue create: error: 缺少以下必需参数：file\n")
    code, _, err = run(capsys, "--locale", "en", "catalogue", "create")
    assert code == 2
    assert err.endswith(
        "tongdao catalogue create: error: the following arguments are required: file\n"
    )


@pytest.mark.parametrize(
    ("argv", "zh", "en"),
    [
        (
            ["catalogue", "list", "--status", "lost"],
            "参数 --status：无效的选择：'lost'（可选值为 '', 'draft'",
            "argument --status: invalid choice: 'lost' (choose from '', 'draft'",
        ),
        (
            ["catalogue", "list", "--no-such-flag"],
            "无法识别的参数：--no-such-flag",
            "unrecognized arguments: --no-such-flag",
        ),
        (
            ["catalogue", "get", "x", "--version"],
            "参数 --version：需要一个参数值",
            "argument --version: expected one argument",
        ),
        (
            ["catalogue", "get", "x", "--version", "v2"],
            "无效的 int 值：'v2'",
            "invalid int value: 'v2'",
        ),
        (["catalogu"], "无效的选择：'catalogu'", "invalid choice: 'catalogu'"),
    ],
)
def test_argparse_errors_in_both_languages(environment, capsys, argv, zh, en):
    code, _, err = run(capsys, "--locale", "zh-CN", *argv)
    assert code == 2 and zh in err and "error: " in err
    code, _, err = run(capsys, "--locale", "en", *argv)
    assert code == 2 and en in err and "用法" not in err


def test_a_run_gives_argparse_its_own_words_back(environment, capsys):
    run(capsys, "--locale", "zh-CN", "catalogue", "create")
    assert argparse._ is gettext.gettext  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(prog="other")
    assert (
        "usage: other" in parser.format_help() and "show this help message" in parser.format_help()
    )


def _chinese_help() -> list[tuple[str, str]]:
    choose(["--locale", "zh-CN"], {})
    try:
        with speaking("zh-CN"):
            return [(p.prog, p.format_help()) for p in parsers(build_parser())]
    finally:
        forget()


def test_chinese_help_keeps_to_80_columns(environment):
    too_wide = [
        f"{prog}: {columns(line)} columns: {line}"
        for prog, text in _chinese_help()
        for line in text.splitlines()
        # argparse cannot break a long flag or choice list; every line it wraps must fit
        if columns(line) > 80 and columns(line) != len(line)
    ]
    assert not too_wide, "\n".join(too_wide)


def test_chinese_help_is_chinese_everywhere(environment):
    helps = _chinese_help()
    assert len(helps) > 100
    untranslated = [prog for prog, text in helps if "show this help message" in text]
    assert not untranslated


def test_wrapping_by_display_width():
    text = "存放证书和密钥的通道主目录（环境变量 TONGDAO_HOME；默认 ./tongdao-home）"
    lines = wrap(text, 30)
    assert all(columns(line) <= 30 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line[0] in "，。；：、）" for line in lines)  # no line opens with closing marks
    assert wrap("a plain English sentence", 10) == ["a plain", "English", "sentence"]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_bash_completion_script_is_valid_in_either_language(environment, capsys, locale, tmp_path):
    assert main(["--locale", locale, "completion", "bash"]) == 0
    script = tmp_path / "tongdao.bash"
    script.write_text(capsys.readouterr().out, encoding="utf-8")
    checked = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    assert "open-catalogue" in script.read_text(encoding="utf-8")
