"""One grammar for every command: it walks the whole parser, so a command added later is held to
it too (docs: README "Command-line conventions")."""

from __future__ import annotations

import argparse
import json

import pytest

from tongdao import cli
from tongdao.cli import CommandError, build_parser, error_exit_code, exit_code_for, main
from tongdao.commands._common import bound_address
from tongdao.commands._grammar import (
    DEPRECATED,
    ListOption,
    keep_secret_values,
    leaf_commands,
    rewrite_deprecated,
)

LEAVES = list(leaf_commands(build_parser()))
OLD_SPELLINGS = {alias.old for alias in DEPRECATED}
# the one spelling of each concept; a synonym here must not appear on any command
SYNONYMS = {
    "--comments": "--comment",
    "--basis": "--legal-basis",
    "--pg-url": "--database-url",
    "--db-url": "--database-url",
    "--from": "--offset",
    "--start": "--offset",
    "--page-size": "--limit",
    "--fields": "--field",
    "--methods": "--method",
    "--items": "--item",
    "--keys": "--key",
}


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings]


def _name(path: tuple[str, ...]) -> str:
    return " ".join(path)


def test_the_walk_finds_every_command():
    names = {_name(p) for p, _ in LEAVES}
    assert len(LEAVES) > 90
    assert {"demo", "completion", "requests mine", "consumer fetch", "broker serve"} <= names


@pytest.mark.parametrize("path,parser", LEAVES, ids=[_name(p) for p, _ in LEAVES])
def test_every_command_takes_json(path, parser):
    flags = {s for a in _options(parser) for s in a.option_strings}
    assert "--json" in flags, f"`tongdao {_name(path)}` has no --json"


@pytest.mark.parametrize("path,parser", LEAVES, ids=[_name(p) for p, _ in LEAVES])
def test_one_spelling_per_concept(path, parser):
    for action in _options(parser):
        for flag in action.option_strings:
            assert flag not in SYNONYMS, f"{_name(path)}: {flag} — say {SYNONYMS.get(flag)}"
            assert flag not in OLD_SPELLINGS, f"{_name(path)}: {flag} is a deprecated spelling"
            if "url" in flag:
                assert flag == "--database-url", f"{_name(path)}: {flag}"
        if isinstance(action, ListOption | argparse._AppendAction):
            flag = action.option_strings[-1]
            assert not flag.endswith("s"), f"{_name(path)}: a list option is singular: {flag}"
        assert "comma-separated" not in (action.help or ""), (
            f"{_name(path)}: {action.option_strings} is a list — use add_list_option"
        )


def test_lists_repeat_or_take_commas_and_replace_their_default():
    parser = build_parser()
    asked = ["--purpose", "p", "--scenario", "s", "--legal-basis", "l"]
    args = parser.parse_args(
        ["consumer", "request", "e", "--field", "a,b", "--field", "c", "--method", "verify", *asked]
    )
    assert args.field == ["a", "b", "c"]
    assert args.method == ["verify"]  # not ["fetch", "verify"]
    bare = parser.parse_args(["consumer", "request", "e", "--field", "a", *asked])
    assert bare.method == ["fetch"]


def test_old_spellings_are_rewritten_with_a_notice(capsys):
    argv = rewrite_deprecated(["authority", "return", "X", "--comments", "改", "--json"])
    assert argv == ["authority", "return", "X", "--comment", "改", "--json"]
    assert rewrite_deprecated(["ledger", "show", "--from", "5"]) == [
        "ledger",
        "show",
        "--offset",
        "4",
    ]
    assert rewrite_deprecated(["ledger", "show", "--from=1"]) == ["ledger", "show", "--offset=0"]
    # only inside its own command: `--from` elsewhere is left alone (and argparse refuses it)
    assert rewrite_deprecated(["catalogue", "list", "--from", "5"])[2] == "--from"
    err = capsys.readouterr().err.splitlines()
    assert (
        err[0] == "tongdao: note: --comments is now --comment (`tongdao authority return --help`)"
    )
    assert len(err) == 3
    old = ["consumer", "fetch", "--fields", "a,b", "--keys", "k", "--grant", "g", "--purpose", "p"]
    args = build_parser().parse_args(rewrite_deprecated(old))
    assert args.field == ["a", "b"] and args.key == ["k"]


def test_a_token_that_starts_with_a_dash_is_the_options_value(capsys):
    token = "-Qm9vX2" + "a" * 36  # token_urlsafe(32) can start with '-'
    argv = keep_secret_values(["open", "status", "6f0c", "--token", token, "--json"])
    assert argv == ["open", "status", "6f0c", f"--token={token}", "--json"]
    assert build_parser().parse_args(argv).token == token
    # a forgotten value before a real option is still a usage error, not a wrong token
    assert keep_secret_values(["open", "status", "6f0c", "--token", "--json"])[3] == "--token"
    with pytest.raises(SystemExit) as info:
        main(["open", "status", "6f0c", "--token", "--json"])
    assert info.value.code == 2 and "--token" in capsys.readouterr().err
    # after `--` every word is positional and left alone
    assert keep_secret_values(["x", "--", "--token", token]) == ["x", "--", "--token", token]


def test_old_spellings_stay_out_of_help(capsys):
    with pytest.raises(SystemExit):
        main(["authority", "return", "--help"])
    out = capsys.readouterr().out
    assert "--comment" in out and "--comments" not in out


def test_exit_codes_tell_the_failures_apart():
    assert exit_code_for("INVALID_ARGUMENT") == cli.EXIT_USAGE == 2
    assert exit_code_for("PERMISSION_DENIED") == exit_code_for("FAILED_PRECONDITION") == 3
    assert exit_code_for("NOT_FOUND") == cli.EXIT_NOT_FOUND == 4
    assert exit_code_for("UNAVAILABLE") == exit_code_for("DEADLINE_EXCEEDED") == 5
    assert exit_code_for("INTERNAL") == cli.EXIT_FAILED == 1
    assert error_exit_code(CommandError("bad --records")) == 2


def test_an_error_raised_from_a_failed_call_keeps_its_status():
    from tongdao.node.results import ClientError

    def refused() -> None:
        try:
            raise ClientError("NOT_FOUND", "no grant 'x'")
        except ClientError as exc:
            raise CommandError(str(exc)) from None

    with pytest.raises(CommandError) as info:
        refused()
    assert cli.status_of(info.value) == "NOT_FOUND"
    assert error_exit_code(info.value) == 4


def test_json_lines_and_json_errors(capsys, tmp_path):
    assert main(["policy", "check", "heilongjiang-2025", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[-1] == {"exit_code": 0}
    assert lines[0]["line"].startswith("OK ")
    code = main(["demo", "--stop", "--dir", str(tmp_path), "--json"])
    assert code == 4
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert out[0]["error"]["exit_code"] == 4 and "no running demo" in out[0]["error"]["message"]
    assert out[-1] == {"exit_code": 4}


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["consumer", "fetch", "--no-such-flag"])
    assert info.value.code == 2


def test_listen_prints_the_address_asked_for():
    assert bound_address("127.0.0.2:0", 41234) == "127.0.0.2:41234"
    assert bound_address("[::1]:0", 7) == "[::1]:7"
    assert bound_address(":7443", 7443) == "0.0.0.0:7443"


def test_demo_help_says_what_it_starts(capsys):
    from tongdao.demo import CITY_MZJ

    nodes = 3 + len(CITY_MZJ)  # 公安, 民政, 税务 and each city's civil-affairs bureau
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "under a minute" not in out and "two provider nodes" not in out
    assert f"Start a broker and {nodes} provider nodes" in out
    assert f"as {nodes + 1} separate processes" in out
    assert "--keep" in out and "tongdao demo --stop" in out


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_know_the_commands(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "tongdao" in script
    for word in ("consumer", "open-catalogue", "--legal-basis", "--keep"):
        assert word in script


def test_a_warning_is_one_line_without_a_source_location(monkeypatch, capsys):
    import warnings

    def warns(args):
        warnings.warn("PSI: libintlc.so.5 not found; blinding falls back", RuntimeWarning, 2)
        return 0

    monkeypatch.setattr("tongdao.commands.calendar.due_command", warns)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored afterwards
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["calendar", "due", "2026-12-18", "3"]) == 0
    err = capsys.readouterr().err
    assert err == "tongdao: warning: PSI: libintlc.so.5 not found; blinding falls back\n"


def _help_texts():
    def walk(parser, path):
        yield path, parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from walk(child, (*path, name))

    return list(walk(build_parser(), ()))


def test_help_points_to_shipped_files_never_to_source():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path, text in _help_texts():
        flat = " ".join(text.split())
        assert not re.search(r"\b[\w/]+\.py\b", flat), f"{_name(path)} points to source code"
        for ref in re.findall(r"\b(?:docs|examples)/[\w/.-]*\w", flat):
            assert (root / ref).exists(), f"{_name(path)}: {ref} does not exist"
