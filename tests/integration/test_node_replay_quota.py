"""The node's replay and quota state over real mutual TLS, under concurrency and across kill -9.

A `tongdao node serve` process on port 0, called by a stand-in broker from many threads at
once: one request id sent concurrently is answered exactly once, N queries against a quota of
N − k are answered exactly N − k times, and after a kill -9 mid-traffic and a restart every
answered request id is still refused as a replay, still counted against the quota and still in
the node's receipt journal.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.integration.test_node_serve import (
    CONFIG,
    CONSUMER,
    LOOPBACK,
    PEOPLE,
    PROVIDER,
    claims_for,
    request,
    start,
)
from tongdao.ca_home import CaHome
from tongdao.crypto.pki import node_server_name
from tongdao.home import DepartmentProfile, Home
from tongdao.node.state import STATE_FILE
from tongdao.proto.query import canonical_request_id
from tongdao.proto.transport import secure_channel
from tongdao.v1 import node_pb2_grpc

KEY = {"keys": [PEOPLE[0]["id_number"]]}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("node-replay")
    home = Home(tmp / "home")
    ca = CaHome(tmp / "ca")
    ca.init()
    ca.enrol_locally(home, "broker", role="broker", server_names=("127.0.0.1",))
    provider = DepartmentProfile(PROVIDER, "黑龙江省公安厅", "230000", "province")
    ca.enrol_locally(home, PROVIDER, role="department", profile=provider, server_names=LOOPBACK)
    consumer = DepartmentProfile(CONSUMER, "哈尔滨市人社局", "230100", "city")
    ca.enrol_locally(home, CONSUMER, role="department", profile=consumer)
    ca.publish_to(home)
    with (tmp / "population.csv").open("w", encoding="utf-8") as fh:
        fh.write(",".join(PEOPLE[0]) + "\n")
        for p in PEOPLE:
            fh.write(",".join(p.values()) + "\n")
    config = tmp / "node.toml"
    config.write_text(CONFIG.format(provider=PROVIDER, home=home.root), encoding="utf-8")
    return home, config


class Served:
    """A running node and a broker's channel to it."""

    def __init__(self, home: Home, config) -> None:
        self.node = start(config)
        self.channel = secure_channel(
            self.node.target, home.tls("broker"), server_name=node_server_name(PROVIDER)
        )
        self.stub = node_pb2_grpc.NodeStub(self.channel)

    def outcome(self, req) -> str:
        try:
            self.stub.Query(req, timeout=30)
        except grpc.RpcError as exc:
            details = exc.details() or ""
            if "replayed request" in details:
                return "replay"
            if "quota of" in details:
                return "quota"
            return f"{exc.code().name}: {details}"
        return "answered"

    def stop(self) -> None:
        self.channel.close()
        if self.node.process.poll() is None:
            self.node.process.kill()
        self.node.process.wait(20)


@pytest.fixture
def served(setup):
    home, config = setup
    s = Served(home, config)
    yield home, s
    s.stop()


def _all_at_once(served: Served, requests: list) -> list[str]:
    """Send every request from its own thread, released together."""
    barrier = threading.Barrier(len(requests))

    def send(req) -> str:
        barrier.wait(timeout=30)
        return served.outcome(req)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests, timeout=120))


def test_one_request_id_sent_concurrently_is_answered_exactly_once(served):
    home, s = served
    claims = claims_for(home, quota=3)
    for _ in range(3):
        req = request(home, claims, KEY)
        outcomes = _all_at_once(s, [req] * 8)
        assert sorted(outcomes) == ["answered"] + ["replay"] * 7, outcomes
    # the three ids counted three uses, not more and not less
    assert s.outcome(request(home, claims, KEY)) == "quota"


def test_n_concurrent_queries_against_a_quota_of_n_minus_k_answer_exactly_n_minus_k(served):
    home, s = served
    n, k = 16, 5
    claims = claims_for(home, quota=n - k)
    outcomes = _all_at_once(s, [request(home, claims, KEY) for _ in range(n)])
    assert outcomes.count("answered") == n - k, outcomes
    assert outcomes.count("quota") == k, outcomes
    assert s.outcome(request(home, claims, KEY)) == "quota"


def test_after_kill_9_answered_ids_stay_refused_and_counted(setup):
    home, config = setup
    quota = 150
    claims = claims_for(home, quota=quota)
    requests = [request(home, claims, KEY) for _ in range(quota)]
    first = Served(home, config)
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def traffic(part: list) -> None:
        for req in part:
            if stop.is_set():
                return
            if first.outcome(req) == "answered":
                with lock:
                    answered.append(req.request_id)

    threads = [threading.Thread(target=traffic, args=(requests[n::6],)) for n in range(6)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(answered) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.node.process.kill()  # SIGKILL, mid-traffic
        first.node.process.wait(20)
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        first.stop()
    with lock:
        before = list(answered)
    assert len(before) >= 30, "the node answered too little before the kill to test anything"
    assert len(before) < quota, "the traffic ended before the kill: nothing was cut short"

    again = Served(home, config)
    try:
        # every answer that left the node is a replay now, however the kill fell
        replays = [r for r in requests if r.request_id in set(before)]
        assert {again.outcome(r) for r in replays} == {"replay"}
        # and it still counts: at most quota − answered fresh queries are answered now
        fresh = 0
        while again.outcome(request(home, claims, KEY)) == "answered":
            fresh += 1
            assert fresh <= quota
        assert len(before) + fresh <= quota
    finally:
        again.stop()
    # each answer's signed receipt was journaled before it left
    journal = sqlite3.connect(config.parent / "node-state" / STATE_FILE)
    journaled = {
        canonical_request_id(r) for (r,) in journal.execute("SELECT request_id FROM receipts")
    }
    journal.close()
    assert {canonical_request_id(r) for r in before} <= journaled
