"""kill -9 of the broker mid-traffic: after a restart, every query a node answered is in the
ledger (recorded late, marked so, from the node's receipt journal). Processes, loopback, bounded."""

import signal
import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tongdao import synthetic
from tongdao.ca_home import enrol_all_locally
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES, GAT, RSJ, _await, _launch, _node_config, grades_of
from tongdao.home import AUTHORITY, Home
from tongdao.local_stack import BASIS, PURPOSE, SCENARIO
from tongdao.node.client import ConsumerClient
from tongdao.node.state import STATE_FILE
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel
from tongdao.v1 import catalogue_pb2, directory_pb2

CLIENTS = 6
FREEZES = 5  # tries at freezing the broker while a query is at the node


def broker_process(tmp, home, name, url):
    launch = _launch(
        name,
        [
            "broker",
            "serve",
            "--home",
            str(home.root),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--database-url",
            url,
        ],
        tmp,
    )
    return _await(launch, time.monotonic() + 60)


@pytest.mark.slow
def test_no_answered_query_is_missing_after_kill_9(tmp_path, database_url):
    tmp = tmp_path.resolve()
    home = Home(tmp / "home")
    enrol_all_locally(home, tmp / "ca", (GAT, RSJ))
    people = synthetic.population(80)
    synthetic.write_csv(tmp / "population.csv", people)
    (tmp / "node-gat.toml").write_text(
        _node_config(home, GAT, "gat.population", "population.csv", grades_of("gat.population"))
    )
    node = _await(
        _launch("node", ["node", "serve", "--config", "node-gat.toml"], tmp), time.monotonic() + 60
    )
    broker = broker_process(tmp, home, "broker-1", database_url)
    processes = [node, broker]
    try:
        authority = BrokerStubs.over(secure_channel(broker.address, home.tls(AUTHORITY)))
        for profile, endpoint in ((GAT, node.address), (RSJ, "")):
            authority.directory.RegisterDepartment(
                directory_pb2.RegisterDepartmentRequest(
                    department=directory_pb2.Department(code=profile.code, node_endpoint=endpoint),
                    # the broker takes the profile and both keys from the CA-signed certificate
                    certificate_pem=home.tls(profile.code).certificate_pem,
                ),
                timeout=10,
            )
        gat = BrokerStubs.over(secure_channel(broker.address, home.tls(GAT.code)))
        data = ENTRIES["gat.population"]
        gat.catalogue.CreateCatalogueEntry(
            catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)), timeout=10
        )
        gat.catalogue.SubmitCatalogueEntry(
            catalogue_pb2.SubmitCatalogueEntryRequest(code="gat.population"), timeout=10
        )
        authority.catalogue.PublishCatalogueEntry(
            catalogue_pb2.PublishCatalogueEntryRequest(code="gat.population", comment="ok"),
            timeout=10,
        )
        consumer = ConsumerClient(
            broker.address, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code
        )
        request = consumer.file_share_request(
            "gat.population", ["name"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=100_000
        )
        token = consumer.get_grant(request.grant_id).token
        keys = [p["id_number"] for p in people[:3]]

        stop = threading.Event()
        answered = [0] * CLIENTS
        errors: list[str] = []

        def traffic(n: int) -> None:
            client = ConsumerClient(
                broker.address, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code
            )
            while not stop.is_set():
                try:
                    client.fetch(token, keys, ["name"], PURPOSE)
                    answered[n] += 1
                except Exception as exc:  # the broker is gone: this client is done
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    return

        threads = [threading.Thread(target=traffic, args=(n,), daemon=True) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 90  # generous: a loaded machine answers slowly
        while sum(answered) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(answered) >= 30, f"traffic did not start: {errors[:3]}"

        def journaled_at_node() -> set[str]:
            journal = sqlite3.connect(tmp / "state-hlj.gat" / STATE_FILE)
            try:
                return {row[0] for row in journal.execute("select request_id from receipts")}
            finally:
                journal.close()

        def recorded() -> tuple[set[str], int]:
            engine = create_engine(database_url)
            try:
                with engine.connect() as db:
                    ids = {
                        r[0]
                        for r in db.execute(text("select request_id from ledger_request_index"))
                    }
                    late = db.execute(
                        text(
                            "select count(*) from ledger_entries where kind = 'query.relayed_late'"
                        )
                    ).scalar_one()
            finally:
                engine.dispose()
            return ids, late

        # freeze the broker mid-traffic (queries at the node keep being answered), then kill -9;
        # on a loaded machine a freeze may catch no query at the node: let traffic flow and
        # freeze again, so the kill always leaves answered queries unrecorded
        for _ in range(FREEZES):
            broker.popen.send_signal(signal.SIGSTOP)
            time.sleep(1.0)
            if journaled_at_node() - recorded()[0]:
                break
            broker.popen.send_signal(signal.SIGCONT)
            time.sleep(0.5)
        broker.popen.kill()
        broker.popen.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        journaled = journaled_at_node()

        before, _ = recorded()
        gap = journaled - before
        assert gap, "the kill left no answered query unrecorded: the test did not test anything"

        broker = broker_process(tmp, home, "broker-2", database_url)  # restart: reconciles at once
        processes.append(broker)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ids, late = recorded()
            if journaled <= ids:
                break
            time.sleep(0.5)
        ids, late = recorded()
        assert journaled - ids == set(), f"{len(journaled - ids)} answered queries missing"
        assert late == len(gap)
        # the late entries count against the grant as the node counted them
        consumer = ConsumerClient(
            broker.address, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code
        )
        grant = consumer.get_grant(request.grant_id)
        assert grant.used == len(journaled)
    finally:
        for proc in processes:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in processes:
            try:
                proc.popen.wait(timeout=10)
            except Exception:
                proc.popen.kill()
