"""Every command and sub-command answers --help."""

import argparse

import pytest

from tongdao.cli import build_parser, main


def _walk(parser: argparse.ArgumentParser, prefix: list[str]):
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, [*prefix, name])


COMMANDS = list(_walk(build_parser(), []))


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a) or "tongdao")
def test_help_exits_zero_and_describes(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: tongdao" in capsys.readouterr().out


def test_core_commands_exist():
    names = {" ".join(c) for c in COMMANDS}
    expected = ("init", "broker serve", "node serve", "demo", "ledger verify", "supervise overdue")
    for command in expected:
        assert command in names


@pytest.mark.parametrize("argv", [[], ["--locale", "en"], ["--locale=zh-CN"]])
def test_tongdao_alone_lists_the_commands_as_a_usage_error(argv, capsys):
    assert main(argv) == 2
    out = capsys.readouterr().out
    assert "COMMAND" in out and "consumer" in out and "demo" in out


@pytest.mark.parametrize(
    ("group", "child"), [(["consumer"], "requests"), (["supervise", "order"], "issue")]
)
def test_a_command_group_alone_prints_its_own_help(group, child, capsys):
    assert main(["--locale", "zh-CN", *group]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"用法：tongdao {' '.join(group)}") and child in out


def test_every_option_of_every_command_has_help():
    from tongdao.cli import build_parser
    from tongdao.commands._grammar import leaf_commands

    bare = [
        f"{' '.join(path)} {action.option_strings[0] if action.option_strings else action.dest}"
        for path, leaf in leaf_commands(build_parser())
        for action in leaf._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert not bare, "give these a help text (or one in tongdao/commands/_option_help.py)"
