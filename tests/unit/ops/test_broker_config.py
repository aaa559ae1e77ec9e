"""The broker's TOML config file: the keys are the flags, flags and environment override it,
unknown keys and wrong types are refused naming the key."""

from __future__ import annotations

import argparse

import pytest

from tongdao.cli import CommandError, main
from tongdao.commands._config import read_config, resolve
from tongdao.commands.broker import SERVE_OPTIONS


def _serve_args(*argv: str) -> argparse.Namespace:
    from tongdao.cli import build_parser

    return build_parser().parse_args(["broker", "serve", *argv])


def test_every_flag_is_a_key_and_every_key_a_flag(tmp_path):
    from tongdao.cli import build_parser

    serve = build_parser()._subparsers._group_actions[0].choices["broker"]  # type: ignore[union-attr]
    serve = serve._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    flags = {s[2:] for a in serve._actions for s in a.option_strings if s.startswith("--")}
    assert flags - {"help", "config", "json"} == {o.key for o in SERVE_OPTIONS}


def test_file_values_are_used_and_flags_override_them(tmp_path, monkeypatch):
    monkeypatch.delenv("TONGDAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("TONGDAO_HOME", raising=False)
    config = tmp_path / "broker.toml"
    config.write_text(
        'listen = "0.0.0.0:7443"\nmetrics-listen = "127.0.0.1:9999"\n'
        'database-url = "sqlite:///x.db"\nnode-probe-interval = 5\nlocale = "en"\n'
    )
    args = resolve(_serve_args("--config", str(config), "--listen", "127.0.0.1:1"), SERVE_OPTIONS)
    assert args.listen == "127.0.0.1:1"  # the flag wins
    assert args.metrics_listen == "127.0.0.1:9999"
    assert args.database_url == "sqlite:///x.db"
    assert args.node_probe_interval == 5.0 and args.locale == "en"
    assert args.policy == "heilongjiang-2025"  # neither: the default


def test_the_environment_overrides_the_file(tmp_path, monkeypatch):
    config = tmp_path / "broker.toml"
    config.write_text('database-url = "sqlite:///from-file.db"\n')
    monkeypatch.setenv("TONGDAO_DATABASE_URL", "sqlite:///from-env.db")
    args = resolve(_serve_args("--config", str(config)), SERVE_OPTIONS)
    assert args.database_url == "sqlite:///from-env.db"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('database_url = "x"\n', "unknown key 'database_url' (did you mean 'database-url'?)"),
        ('colour = "red"\n', "unknown key 'colour'"),
        ("listen = 7443\n", "listen must be a string"),
        ('node-probe-interval = "5"\n', "node-probe-interval must be a number"),
        ('locale = "fr"\n', "locale must be one of zh-CN, en"),
        ("[broker]\nlisten = 'x'\n", "unknown key 'broker'"),
        ("listen = \n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_key(tmp_path, text, named):
    config = tmp_path / "broker.toml"
    config.write_text(text)
    with pytest.raises(CommandError) as err:
        read_config(str(config), SERVE_OPTIONS)
    assert named in str(err.value) and str(config) in str(err.value)


def test_serve_with_a_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "broker.toml"
    config.write_text('listen = "127.0.0.1:0"\nmetrics_port = 9464\n')
    assert main(["broker", "serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'metrics_port'" in err


def test_a_bad_environment_value_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("TONGDAO_LOG_LEVEL", "LOUD")
    with pytest.raises(CommandError) as err:
        resolve(_serve_args(), SERVE_OPTIONS)
    assert "TONGDAO_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR" in str(err.value)
