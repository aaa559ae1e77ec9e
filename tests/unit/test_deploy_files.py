"""deploy/: compose.yaml and the systemd units run real commands with real configuration files.

Parsed, not run (no container engine or systemd needed): every command line must be accepted by
the ``tongdao`` parser, every configuration file it names by its loader."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
import yaml

from tongdao.cli import build_parser
from tongdao.commands._config import read_config
from tongdao.commands.broker import SERVE_OPTIONS
from tongdao.commands.catalogue import load_entry_file
from tongdao.node.config import load_node_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
# where compose.yaml mounts the checkout's folders in the containers
MOUNTS = {"/etc/tongdao/deploy": DEPLOY, "/etc/tongdao/examples": ROOT / "examples"}


def _on_host(path: str) -> Path:
    for inside, outside in MOUNTS.items():
        if path.startswith(inside + "/"):
            return outside / path.removeprefix(inside + "/")
    raise AssertionError(f"{path} is not under a mounted folder")


def _tongdao_argv(service: dict) -> list[str]:
    """The tongdao arguments a service runs (through the image's entry point or sh -c exec)."""
    command = service["command"]
    if service.get("entrypoint") == ["/bin/sh", "-c"]:
        words = shlex.split(command[0])
        return words[words.index("exec") + 2 :]  # after "exec tongdao"
    assert "entrypoint" not in service
    return list(command)


def test_compose_has_the_store_the_broker_and_two_nodes_and_no_console():
    assert set(SERVICES) == {"postgres", "init", "broker", "node-gat", "node-mzt"}
    assert not any("console" in name for name in SERVICES)
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", {}):
            assert needed in SERVICES, f"{name} depends on a missing service {needed}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith("."):
                assert source in COMPOSE["volumes"], f"{name}: undeclared volume {source}"


@pytest.mark.parametrize("name", ["init", "broker", "node-gat", "node-mzt"])
def test_each_service_runs_a_real_command(name):
    argv = _tongdao_argv(SERVICES[name])
    args = build_parser().parse_args(argv)  # SystemExit if a command or flag does not exist
    assert callable(args.handler)


def test_the_brokers_config_file_is_valid_and_its_ports_are_published_on_loopback():
    broker = SERVICES["broker"]
    argv = _tongdao_argv(broker)
    config = _on_host(argv[argv.index("--config") + 1])
    values = read_config(str(config), SERVE_OPTIONS)
    assert values["home"].startswith("/var/lib/tongdao")
    assert "postgres:5432" in broker["environment"]["TONGDAO_DATABASE_URL"]
    metrics_port = values["metrics_listen"].rsplit(":", 1)[1]
    published = {p.rsplit(":", 1)[1]: p for p in broker["ports"]}
    assert published[metrics_port].startswith("127.0.0.1:")  # plain HTTP: never on all addresses
    assert published[values["listen"].rsplit(":", 1)[1]]


@pytest.mark.parametrize("name", ["node-gat", "node-mzt"])
def test_each_nodes_config_loads_and_serves_a_real_entry_from_real_data(name):
    argv = _tongdao_argv(SERVICES[name])
    config = load_node_config(_on_host(argv[argv.index("--config") + 1]))
    init = build_parser().parse_args(_tongdao_argv(SERVICES["init"]))
    assert config.department in [profile.code for profile in init.department]
    assert name in init.san  # the broker reaches the node by its service name
    assert str(config.home).startswith(init.home)
    (entry,) = config.entries
    entry_files = [ROOT / "examples" / "catalogue-entry.toml"]
    entry_files += list((ROOT / "tongdao" / "demo_entries").glob("*.toml"))
    catalogue = {e.code: e for e in (load_entry_file(str(p)) for p in entry_files)}
    published = catalogue[entry.code]
    assert entry.grades == {item.name: item.sensitivity for item in published.data_items}
    data = config.base_dir / entry.source.removeprefix("csv:")
    assert data.is_file()
    header = data.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert set(entry.grades) <= set(header) and entry.key_field in header


UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_starts_a_real_command_as_an_unprivileged_user(unit):
    service = _unit(unit)["Service"]
    assert service["User"] == "tongdao" and service["NoNewPrivileges"] == "yes"
    words = shlex.split(service["ExecStart"])
    if words[:2] == ["/bin/sh", "-c"]:
        words = shlex.split(words[2])
        words = words[words.index("exec") + 1 :]
    assert words[0].endswith("/tongdao")
    argv = [w.replace("%i", "hlj.gat").replace("%%", "%") for w in words[1:]]
    args = build_parser().parse_args(argv)
    assert callable(args.handler)


def test_the_backup_timer_starts_the_backup_service():
    timer = _unit(DEPLOY / "systemd" / "tongdao-backup.timer")
    assert timer["Timer"]["OnCalendar"]
    assert (DEPLOY / "systemd" / "tongdao-backup.service").exists()
