"""Two ``tongdao broker serve`` processes on one PostgreSQL database, one node, and a consumer on
a round-robin channel over both: both brokers answer, the ledger is one log that verifies, the
quota holds across both, and a grant suspended through one broker is refused by the other.

PostgreSQL only: brokers share a store only there (a SQLite file belongs to one broker process).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import postgres_unavailable_reason, private_pg_schema
from tongdao.benchmarks.relay_stack import PURPOSE, start_stack, stop_stack, verify_store
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.crypto.signing import VerifyKey
from tongdao.home import BROKER
from tongdao.node.client import ClientError, ConsumerClient
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel
from tongdao.v1 import sharing_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]
QUOTA = 12
CALLS = QUOTA + 8  # more than the quota, from four threads at once


@pytest.fixture
def pg_url():
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(f"several brokers share a PostgreSQL store: {reason}")
    with private_pg_schema() as url:
        yield url


def _answered_by(log_path) -> int:
    """The Query calls a broker answered OK, from its call log (one JSON line per call)."""
    count = 0
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("method") == "Query" and record.get("code") == "OK":
            count += 1
    return count


def _ledger(url: str) -> tuple[int, list[tuple[int, str, str]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            length = db.execute(text("select length from ledger_head where id = 1")).scalar_one()
            rows = db.execute(
                text("select sequence, kind, payload_json from ledger_entries order by sequence")
            ).all()
    finally:
        engine.dispose()
    return length, [(r.sequence, r.kind, r.payload_json) for r in rows]


def test_two_brokers_on_one_store_serve_one_log_one_quota_one_grant_status(tmp_path, pg_url):
    stack = start_stack(tmp_path, pg_url, brokers=2, quota=QUOTA, say=lambda _: None)
    try:
        home, person = stack.home, stack.person
        a, b = (broker.address for broker in stack.brokers)

        def client(target: str) -> ConsumerClient:
            return ConsumerClient(
                target,
                home.tls(stack.consumer),
                home.encryption_keys(stack.consumer),
                stack.consumer,
                timeout=30,
            )

        both = client(stack.target)  # ipv4:A,B — calls go to each broker in turn
        setup_length, _ = _ledger(stack.url)

        def fetch(_: int) -> str:
            try:
                both.fetch(stack.tokens["fetch"], [person["id_number"]], ["name"], PURPOSE)
                return "OK"
            except ClientError as exc:
                return exc.code

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(fetch, range(CALLS)))
        answered = outcomes.count("OK")
        # the quota is one count across both brokers: exactly QUOTA answers, the rest refused
        assert answered == QUOTA, outcomes
        assert all(o in {"OK", "RESOURCE_EXHAUSTED", "PERMISSION_DENIED"} for o in outcomes)

        # both brokers answered some of them
        per_broker = [_answered_by(broker.log_path) for broker in stack.brokers]
        assert all(n > 0 for n in per_broker) and sum(per_broker) == QUOTA, per_broker

        # the grant's use count is the answered queries, whichever broker relayed them
        grant = client(b).get_grant(stack.grant_ids["fetch"])
        assert grant.used == QUOTA

        # a grant suspended through broker A is refused by broker B on the next query
        only_b = client(b)
        token = stack.tokens["verify"]
        assert only_b.verify(token, person["id_number"], {"name": person["name"]}, PURPOSE)
        only_a = BrokerStubs.over(
            secure_channel(a, home.tls("hlj.gat"), server_name=BROKER_SERVER_NAME)
        )
        only_a.sharing.ChangeGrantStatus(
            sharing_pb2.ChangeGrantStatusRequest(
                grant_id=stack.grant_ids["verify"],
                change="suspend",
                ground="security_risk",
                reason="bulk reads at night",
            ),
            timeout=30,
        )
        with pytest.raises(ClientError) as refused:
            only_b.verify(token, person["id_number"], {"name": person["name"]}, PURPOSE)
        assert refused.value.code == "PERMISSION_DENIED" and "suspended" in refused.value.message
    finally:
        stop_stack(stack)

    # one log: every entry once, in one chain that verifies against the broker's key
    length, entries = _ledger(stack.url)
    assert [seq for seq, _, _ in entries] == list(range(1, length + 1))
    check = verify_store(stack.url, VerifyKey(home.signing_key(BROKER).verify_key.public_key))
    assert check["ok"], check
    assert check["entries"] == length
    # the scheduled reconciliation of the nodes' journals (Art.19) may record its round for the
    # previous day at any time after a broker starts: not a call's entry
    later = [k for _, k, _ in entries[setup_length:] if k != "reconciliation.recorded"]
    relayed = [json.loads(p) for _, kind, p in entries[setup_length:] if kind == "query.relayed"]
    # each answer (the quota's fetches and the one verify) recorded once, whichever broker
    # relayed it; the suspension once; the refused calls as refusals (identical ones folded)
    assert len(relayed) == QUOTA + 1
    assert len({r["request_id"] for r in relayed}) == len(relayed)
    assert later.count("grant.suspended") == 1
    refusals = {"query.failed", "refusal", "refusal.repeated"}  # a node's, the broker's, folded
    assert set(later) <= {"query.relayed", "grant.suspended", *refusals}
    # one entry per call at most (identical refusals fold into their first), and the suspension
    assert len([k for k in later if k != "refusal.repeated"]) <= CALLS + 1 + 1
