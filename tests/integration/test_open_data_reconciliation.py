"""Public downloads in the daily reconciliation (Art.19): what 民政厅's node answered for the
public is what the ledger holds, so its day reconciles clean."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.stack import start_stack
from tests.integration.test_open_data_public import WHO
from tongdao.home import AUTHORITY
from tongdao.policies.loader import load_policy
from tongdao.public_client import PublicClient
from tongdao.v1 import supervision_pb2

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
RULES = load_policy().reconciliation
assert RULES is not None
DAY = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world(tmp_path):
    clock = Clock(dt.datetime.combine(DAY, dt.time(10), SHANGHAI))
    stack = start_stack(tmp_path, records=5, clock=clock, public=True, open_data=True)
    yield stack, clock
    stack.stop()


def test_a_day_of_public_downloads_reconciles_clean(world):
    stack, clock = world
    ca = (stack.home.ca_dir / "ca.crt").read_bytes()
    with PublicClient(f"127.0.0.1:{stack.broker.public_port}", ca, timeout=20) as client:
        ids = [client.download(WHO, "mzt.care-homes", limit=5).reply.download_id for _ in "ab"]
    clock.now = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(0), SHANGHAI)
    clock.now += dt.timedelta(minutes=RULES.settle_minutes + 1)
    reply = stack.stub(AUTHORITY).supervision.Reconcile(
        supervision_pb2.ReconcileRequest(day=DAY.isoformat(), run=True), timeout=60
    )
    (node,) = [n for n in reply.nodes if n.node == "hlj.mzt"]
    assert node.status == "clean" and not node.findings, node
    answered = {g.grant_id: g for g in node.grants}
    for download_id in ids:
        g = answered[download_id]
        assert (g.node_answered, g.ledger_relayed) == (1, 1)
        assert not g.answered_not_relayed and not g.relayed_not_answered
