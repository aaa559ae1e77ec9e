"""The node configuration file: what it accepts, and errors naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.node.world import write_csv
from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.signing import SigningKey
from tongdao.node.config import ConfigError, load_node_config
from tongdao.node.server import build_engine

GOOD = """
department = "hlj.gat"
home = "home"
listen = "127.0.0.1:0"
state_dir = "node-state"

[[entries]]
code = "gat.population"
source = "csv:population.csv"
key_field = "id_number"
casefold_keys = true

[entries.grades]
id_number = "sensitive_personal"
name = "personal"
gender = "general"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_resolves_paths_next_to_itself(tmp_path):
    config = load_node_config(write(tmp_path, GOOD))
    assert config.department == "hlj.gat"
    assert config.home == tmp_path.resolve() / "home"
    assert config.state_dir == tmp_path.resolve() / "node-state"
    assert config.policy == "heilongjiang-2025"
    [entry] = config.entries
    assert (entry.code, entry.key_field, entry.casefold_keys) == (
        "gat.population",
        "id_number",
        True,
    )
    assert entry.grades["name"] == "personal"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda t: t.replace('department = "hlj.gat"\n', ""), "department: missing"),
        (lambda t: t.replace('"127.0.0.1:0"', "7501"), "listen: must be a str"),
        (lambda t: t.replace("[[entries]]", "[[entriez]]"), "entriez: unknown key"),
        (lambda t: t.replace("casefold_keys", "casefold_key"), "entries[0].casefold_key: unknown"),
        (lambda t: t.replace('key_field = "id_number"\n', ""), "entries[0].key_field: missing"),
        (lambda t: t.replace('name = "personal"', "name = 3"), "grades: values must be"),
        (lambda t: t + t[t.index("[[entries]]") :], "listed twice"),
        (lambda t: t.replace("department =", "department ="[:-1]), "not valid TOML"),
        (lambda t: t.split("[[entries]]")[0] + "entries = []\n", "at least one"),
    ],
)
def test_errors_name_the_file_key_and_problem(tmp_path, change, needle):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as err:
        load_node_config(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_node_config(tmp_path / "absent.toml")


def engine_for(tmp_path: Path, text: str):
    write_csv(tmp_path / "population.csv")
    return build_engine(
        load_node_config(write(tmp_path, text)),
        signing_key=SigningKey.generate(),
        encryption_keys=EncryptionKeyPair.generate(),
        broker_key=SigningKey.generate().verify_key,
    )


def test_build_engine_serves_only_graded_columns(tmp_path):
    engine = engine_for(tmp_path, GOOD)
    try:
        entry = engine.entries["gat.population"]
        assert entry.served_fields == ("id_number", "name", "gender")
        assert entry.source.count() == 3
    finally:
        engine.state.close()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda t: t.replace('gender = "general"', 'gendre = "general"'), "'gendre', not columns"),
        (lambda t: t.replace('"general"', '"public"'), "grade 'public'"),
        (lambda t: t.replace("population.csv", "absent.csv"), "no such file"),
        (lambda t: t.replace('key_field = "id_number"', 'key_field = "passport"'), "passport"),
        (lambda t: t.replace('"csv:population.csv"', '"ftp://x"'), "csv: or sql:"),
        (lambda t: t + 'policy = "atlantis-2099"\n', "atlantis-2099"),
    ],
)
def test_build_engine_errors_name_the_entry_and_problem(tmp_path, change, needle):
    text = change(GOOD)
    if "policy =" in text:  # a top-level key must come before the first table
        text = 'policy = "atlantis-2099"\n' + text.replace('policy = "atlantis-2099"\n', "")
    with pytest.raises(ConfigError) as err:
        engine_for(tmp_path, text)
    assert needle in str(err.value)
