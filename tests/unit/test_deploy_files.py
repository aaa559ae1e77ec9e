"""deploy/: compose.yaml, trial-init.sh and the systemd units run real commands with real files.

Parsed, not run (no container engine or systemd needed): every tongdao command line must be
accepted by the ``tongdao`` parser, every configuration file it names by its loader, and each node
must see only its own department's home."""

from __future__ import annotations

import argparse
import configparser
import re
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
SCRIPT = DEPLOY / "trial-init.sh"
SCRIPT_IN_CONTAINER = "/etc/tongdao/deploy/trial-init.sh"
# where compose.yaml mounts the checkout's folders in the containers
MOUNTS = {"/etc/tongdao/deploy": DEPLOY, "/etc/tongdao/examples": ROOT / "examples"}


def _on_host(path: str) -> Path:
    for inside, outside in MOUNTS.items():
        if path.startswith(inside + "/"):
            return outside / path.removeprefix(inside + "/")
    raise AssertionError(f"{path} is not under a mounted folder")


def _tongdao_argv(service: dict) -> list[str]:
    """The tongdao arguments a service runs through the image's entry point."""
    assert "entrypoint" not in service
    return list(service["command"])


def _script_commands() -> list[list[str]]:
    """Every tongdao command line in trial-init.sh, its shell variables expanded."""
    text = SCRIPT.read_text(encoding="utf-8").replace("\\\n", " ")
    variables = dict(re.findall(r"^([A-Z_]+)=(\S+)$", text, flags=re.MULTILINE))
    commands = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("tongdao "):
            continue
        for name, value in variables.items():
            line = line.replace(f"${{{name}}}", value).replace(f"${name}", value)
        assert "$" not in line, f"an unknown variable in: {line}"
        commands.append(shlex.split(line)[1:])
    return commands


def _parsed(argv: list[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)  # SystemExit if a command or flag does not exist
    assert callable(args.handler)
    return args


def _script_runs(command: str, code: str | None = None) -> list[argparse.Namespace]:
    """The script's runs of a command, parsed; with code, those naming that party (as an argument
    or as a file of its)."""
    found = []
    for argv in _script_commands():
        line = " ".join(argv)
        party = code is None or re.search(rf"(^|[ /]){re.escape(code)}([ .]|$)", line)
        if line.startswith(command + " ") and party:
            found.append(build_parser().parse_args(argv))
    return found


def _named_volumes(service: dict) -> dict[str, str]:
    """Named volume → where the service mounts it."""
    pairs = (v.split(":")[:2] for v in service.get("volumes", []))
    return {source: target for source, target in pairs if not source.startswith(".")}


def test_compose_has_the_store_the_broker_two_nodes_the_console_and_the_enrolment_steps():
    assert set(SERVICES) == {
        "postgres",
        "init",
        "broker",
        "node-gat",
        "node-mzt",
        "console",
        "register",
    }
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", {}):
            assert needed in SERVICES, f"{name} depends on a missing service {needed}"
        for source in _named_volumes(service):
            assert source in COMPOSE["volumes"], f"{name}: undeclared volume {source}"
    # registration needs a broker that answers
    assert SERVICES["register"]["depends_on"]["broker"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["broker", "node-gat", "node-mzt", "console"])
def test_each_service_runs_a_real_command(name):
    _parsed(_tongdao_argv(SERVICES[name]))


@pytest.mark.parametrize("name", ["init", "register"])
def test_the_enrolment_services_run_a_step_of_the_shipped_script(name):
    service = SERVICES[name]
    assert service["entrypoint"] == ["/bin/sh", SCRIPT_IN_CONTAINER]
    assert _on_host(SCRIPT_IN_CONTAINER) == SCRIPT and SCRIPT.is_file()
    (step,) = service["command"]
    assert re.search(rf"^\s*{step}\) {step} ;;$", SCRIPT.read_text(encoding="utf-8"), re.MULTILINE)
    assert service["restart"] == "no"


def test_every_tongdao_command_in_the_script_is_real():
    commands = _script_commands()
    assert len(commands) >= 10
    for argv in commands:
        _parsed(argv)


def test_the_script_enrols_each_department_in_its_own_home_and_registers_it():
    (init,) = _script_runs("init")
    ca_home = init.ca_home
    (ca_crl,) = _script_runs("ca crl")
    assert ca_crl.home == ca_home
    for code in ("hlj.gat", "hlj.mzt"):
        (keygen,) = _script_runs("department keygen", code)
        (sign,) = _script_runs("ca sign", code)
        (install,) = _script_runs("department install", code)
        (register,) = _script_runs("authority register-department", code)
        assert sign.home == ca_home and sign.party == code
        assert sign.request == f"{keygen.home}/parties/{code}/request.csr"
        assert install.home == keygen.home and install.bundle == sign.out
        assert install.broker_certificate.startswith(init.home + "/")
        assert register.certificate == sign.out and register.home == init.home
        assert register.endpoint == sign.endpoint == keygen.endpoint
        # a department's keys are made in its own home, outside the CA's and the authority's
        assert not keygen.home.startswith((ca_home + "/", init.home + "/"))
        assert keygen.home not in (ca_home, init.home)


def test_the_brokers_config_file_is_valid_and_its_ports_are_published_on_loopback():
    broker = SERVICES["broker"]
    argv = _tongdao_argv(broker)
    config = _on_host(argv[argv.index("--config") + 1])
    values = read_config(str(config), SERVE_OPTIONS)
    (init,) = _script_runs("init")
    assert values["home"] == init.home  # the authority's home, with the broker's keys
    assert values["revocation_list"].startswith(init.home + "/")
    assert list(_named_volumes(broker).values()) == [init.home]  # never a department's home
    assert "postgres:5432" in broker["environment"]["TONGDAO_DATABASE_URL"]
    metrics_port = values["metrics_listen"].rsplit(":", 1)[1]
    published = {p.rsplit(":", 1)[1]: p for p in broker["ports"]}
    assert published[metrics_port].startswith("127.0.0.1:")  # plain HTTP: never on all addresses
    assert published[values["listen"].rsplit(":", 1)[1]]


def test_the_consoles_config_file_is_valid_and_it_is_published_on_loopback_only():
    from tongdao.commands.console import SERVE_OPTIONS as CONSOLE_OPTIONS

    console = SERVICES["console"]
    argv = _tongdao_argv(console)
    values = read_config(str(_on_host(argv[argv.index("--config") + 1])), CONSOLE_OPTIONS)
    (init,) = _script_runs("init")
    assert values["home"] == init.home and values["as"] == "authority"
    assert [v for v in console["volumes"] if v.startswith("tongdao-")] == [
        f"tongdao-home:{init.home}:ro"
    ]
    assert values["broker"] == "broker:7443" and "broker:9464" in values["broker_metrics"]
    port = values["listen"].rsplit(":", 1)[1]
    (published,) = console["ports"]
    assert published.startswith("127.0.0.1:") and published.endswith(f":{port}")
    assert values["allow_plain_http"] == 1  # plain HTTP only because it stays on loopback


@pytest.mark.parametrize("name", ["node-gat", "node-mzt"])
def test_each_nodes_config_loads_and_serves_a_real_entry_from_real_data(name):
    argv = _tongdao_argv(SERVICES[name])
    config = load_node_config(_on_host(argv[argv.index("--config") + 1]))
    (keygen,) = _script_runs("department keygen", config.department)
    assert str(config.home) == keygen.home  # the home where the department's keys were made
    assert keygen.endpoint.split(":")[0] == name  # the broker reaches the node by its service name
    assert config.listen.rsplit(":", 1)[1] == keygen.endpoint.rsplit(":", 1)[1]
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


@pytest.mark.parametrize("name", ["node-gat", "node-mzt"])
def test_each_node_mounts_only_its_own_departments_home(name):
    argv = _tongdao_argv(SERVICES[name])
    config = load_node_config(_on_host(argv[argv.index("--config") + 1]))
    (mounted,) = _named_volumes(SERVICES[name]).values()  # one volume: no other party's keys
    for path in (config.home, config.state_dir, config.revocation_list_path):
        assert str(path).startswith(mounted + "/"), f"{path} is outside {mounted}"
    (init,) = _script_runs("init")
    for other, service in SERVICES.items():
        if other != name:  # no other service mounts this department's home, but the enrolment
            assert mounted not in _named_volumes(service).values() or other == "init"
    # the CA's home is mounted by the enrolment step only
    ca_volumes = [s for s in SERVICES.values() if init.ca_home in _named_volumes(s).values()]
    assert ca_volumes == [SERVICES["init"]]


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
