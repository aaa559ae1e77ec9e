"""The files under examples/ are accepted by the commands that read them."""

import csv
from pathlib import Path

from tongdao.commands.catalogue import load_entry_file
from tongdao.node.config import load_node_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_entry_is_a_valid_entry_file():
    entry = load_entry_file(str(EXAMPLES / "catalogue-entry.toml"))
    assert entry.code == "mzt.marriage-example"
    assert {item.name for item in entry.data_items} >= {"id_number", "marital_status"}
    assert entry.key_field in {item.name for item in entry.data_items}


def test_example_node_config_loads_and_matches_the_entry_and_the_data():
    config = load_node_config(EXAMPLES / "node.toml")
    entry = load_entry_file(str(EXAMPLES / "catalogue-entry.toml"))
    (served,) = config.entries
    assert served.code == entry.code
    assert served.grades == {item.name: item.sensitivity for item in entry.data_items}
    data = EXAMPLES / served.source.removeprefix("csv:")
    with data.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert set(header) == set(served.grades)
    assert served.key_field in header


def test_example_broker_config_is_accepted_by_broker_serve():
    from tongdao.commands._config import read_config
    from tongdao.commands.broker import SERVE_OPTIONS

    values = read_config(str(EXAMPLES / "broker.toml"), SERVE_OPTIONS)
    assert {option.dest for option in SERVE_OPTIONS} == set(values)  # every key documented
    assert values["metrics_listen"].startswith("127.0.0.1:")  # loopback unless told otherwise
