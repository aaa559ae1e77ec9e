"""`broker serve` and `node serve` print the address they bound, on the host `--listen` named."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tongdao import synthetic
from tongdao.ca_home import enrol_all_locally
from tongdao.demo import GAT, _node_config, grades_of
from tongdao.demo_stack import await_listening, launch, stop
from tongdao.home import Home

HOST = "127.0.0.2"  # a loopback address other than 127.0.0.1 (Linux routes all of 127/8)


def _bindable(host: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return False
    return True


def _gat_node(tmp: Path, server_names: tuple[str, ...]) -> Home:
    """A home enrolled for GAT (its node certificate naming ``server_names``) and its node's
    configuration and data in ``tmp``."""
    home = Home(tmp / "home")
    enrol_all_locally(home, tmp / "ca", (GAT,), server_names=server_names)
    synthetic.write_csv(tmp / "population.csv", synthetic.population(10))
    (tmp / "node.toml").write_text(
        _node_config(home, GAT, "gat.population", "population.csv", grades_of("gat.population"))
    )
    return home


@contextmanager
def _running(specs: list[tuple[str, list[str]]], tmp: Path) -> Iterator[list[Any]]:
    """Launch each (name, args) in ``tmp``; the processes once each listens; all stopped after."""
    started = [launch(name, args, tmp) for name, args in specs]
    processes: list[Any] = []
    try:
        deadline = time.monotonic() + 90
        processes = [await_listening(s, deadline) for s in started]
        yield processes
    finally:
        stop(processes)
        for s in started:
            if s.popen.poll() is None:
                s.popen.kill()
                s.popen.wait()


@pytest.mark.skipif(not _bindable(HOST), reason=f"{HOST} is not a local address here")
def test_listen_on_another_loopback_address_prints_that_address(tmp_path):
    tmp = tmp_path.resolve()
    home = _gat_node(tmp, ("127.0.0.1", HOST))
    listen = ["--listen", f"{HOST}:0"]
    specs = [
        ("node", ["node", "serve", "--config", "node.toml", *listen]),
        (
            "broker",
            ["broker", "serve", "--home", str(home.root), *listen, "--metrics-listen", f"{HOST}:0"],
        ),
    ]
    with _running(specs, tmp) as processes:
        for proc in processes:
            host, _, port = proc.address.rpartition(":")
            assert host == HOST, proc.address
            with socket.create_connection((HOST, int(port)), timeout=5):
                pass  # something listens there
        out = (tmp / "logs" / "node.out").read_text()
        assert f"node {GAT.code} listening on {HOST}:" in out
        assert f"broker listening on {HOST}:" in (tmp / "logs" / "broker.out").read_text()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_broker_and_node_start_on_the_fixed_ports_they_are_given(tmp_path):
    """A deployment names its ports: start-up's check that a port is free must give it back."""
    tmp = tmp_path.resolve()
    home = _gat_node(tmp, ("127.0.0.1",))
    node_port, broker_port, public_port, metrics_port = (_free_port() for _ in range(4))
    specs = [
        ("node", ["node", "serve", "--config", "node.toml", "--listen", f"127.0.0.1:{node_port}"]),
        (
            "broker",
            [
                *("broker", "serve", "--home", str(home.root)),
                *("--listen", f"127.0.0.1:{broker_port}"),
                *("--public-listen", f"127.0.0.1:{public_port}"),
                # not the default 9464: another broker on this machine may hold it
                *("--metrics-listen", f"127.0.0.1:{metrics_port}"),
            ],
        ),
    ]
    with _running(specs, tmp) as processes:
        ports = [int(p.address.rpartition(":")[2]) for p in processes]
        assert ports == [node_port, broker_port]
        for port in (node_port, broker_port, public_port, metrics_port):
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
