"""The benchmarks that parse their own options (``tongdao bench engines``, ``tongdao bench
relay``) give their help, usage and argparse's errors in the run's language, like every other
command, and ``tongdao bench relay --help`` lists the benchmark's own options."""

from __future__ import annotations

import sys

import pytest

from tongdao.cli import main
from tongdao.help_text import columns
from tongdao.i18n import forget


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


def flat(text: str) -> str:
    return "".join(text.split())  # Chinese wraps anywhere between characters


HELP = [
    ("relay", "--concurrency", "每级的并发调用方数", "concurrent callers at each step"),
    ("engines", "--agg-rows", "每个城市节点的家庭户数", "households per city node"),
]


@pytest.mark.parametrize(("bench", "option", "zh", "en"), HELP, ids=[h[0] for h in HELP])
def test_bench_help_lists_its_options_in_chinese_and_english(
    environment, capsys, bench, option, zh, en
):
    for argv in (["--locale", "zh-CN", "bench", bench, "--help"], ["bench", bench, "-h"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0
        assert out.startswith(f"用法：tongdao bench {bench} [-h]")
        assert option in out and flat(zh) in flat(out)
        assert "选项:" in out and "显示本帮助信息并退出" in out
        assert "usage:" not in out and "show this help" not in out
        assert "python -m" not in out  # no module path to run for the options
        assert all(columns(line) <= 80 for line in out.splitlines() if columns(line) > len(line))

    code, out, _ = run(capsys, "bench", bench, "--help", "--locale", "en")
    assert code == 0
    assert out.startswith(f"usage: tongdao bench {bench} [-h]")
    assert option in out and en in " ".join(out.split())
    assert "options:" in out and "用法" not in out and "选项" not in out


@pytest.mark.parametrize(
    ("argv", "zh", "en"),
    [
        (["--concurrency", "x"], "--concurrency 须为数字，如 1,4,16,64", "--concurrency must be"),
        (["--no-such-flag"], "无法识别的参数：--no-such-flag", "unrecognized arguments"),
        (["--seconds", "soon"], "无效的 float 值：'soon'", "invalid float value: 'soon'"),
        (["--brokers", "2"], "请给出 --database-url", "give --database-url"),
    ],
)
def test_relay_bench_errors_in_the_runs_language(environment, capsys, argv, zh, en):
    code, out, err = run(capsys, "--locale", "zh-CN", "bench", "relay", *argv)
    assert code == 2 and out == ""
    assert err.startswith("用法：tongdao bench relay") and "tongdao bench relay: error: " in err
    assert zh in err
    code, _, err = run(capsys, "bench", "relay", *argv, "--locale", "en")
    assert code == 2 and err.startswith("usage: tongdao bench relay") and en in err
    assert "用法" not in err


def test_engines_bench_errors_in_the_runs_language(environment, capsys):
    code, _, err = run(capsys, "--locale", "zh-CN", "bench", "engines", "--engines", "teleport")
    assert code == 2 and "--engines：请从 intersection_size" in err
    code, _, err = run(capsys, "--locale", "zh-CN", "bench", "engines", "--nodes", "x")
    assert code == 2 and "参数 --nodes：无效的 int 值：'x'" in err


@pytest.mark.parametrize(
    ("module", "locale", "said"),
    [
        ("relay_bench", "zh-CN", "用法：tongdao bench relay"),
        ("relay_bench", "en", "usage: tongdao bench relay"),
        ("engines_bench", "zh-CN", "用法：tongdao bench engines"),
    ],
)
def test_the_module_run_on_its_own_speaks_its_command_lines_language(
    environment, capsys, module, locale, said
):
    """``python -m tongdao.benchmarks.relay_bench --locale zh-CN --help``."""
    import importlib

    bench = importlib.import_module(f"tongdao.benchmarks.{module}")
    environment.setattr(sys, "argv", [module, "--locale", locale, "--help"])
    with pytest.raises(SystemExit) as info:
        bench.main()
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(said)
