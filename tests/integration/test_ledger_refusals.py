"""Every refusal at the broker is in the ledger; a flood of identical refusals is folded into one
entry and a count, so it cannot grow the log without bound."""

import datetime as dt

import grpc
import pytest
from sqlalchemy import select

from tongdao.broker.kernel.db import make_engine, session_factory
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.ledger.refusals import RefusalRecorder
from tongdao.local_stack import start_stack
from tongdao.v1 import query_pb2


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("refusals"), records=20)
    yield s
    s.stop()


def entries(stack, kind):
    engine = make_engine(stack.database_url)
    with session_factory(engine)() as s:
        rows = s.execute(select(LedgerEntry).where(LedgerEntry.kind.like(kind))).scalars().all()
        out = [(e.actor, e.subject, e.payload_json) for e in rows]
    engine.dispose()
    return out


def test_a_flood_of_forged_tokens_is_one_entry_and_a_count(stack):
    consumer = stack.stub("hrb.rsj").query
    query = query_pb2.QueryRequest(
        grant_token="forged.token.value",
        request_id="00000000-0000-4000-8000-000000000001",
        method="QUERY_METHOD_FETCH",
        purpose="x",
        fields=["name"],
        sealed_query=b"\x00" * 64,
    )
    for _ in range(25):
        with pytest.raises(grpc.RpcError) as caught:
            consumer.Query(query, timeout=10)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    refused = [e for e in entries(stack, "refusal") if e[1] == "Query"]
    assert len(refused) == 1
    actor, _, payload = refused[0]
    assert actor == "hrb.rsj" and "grant token was not issued by this broker" in payload
    assert '"field":"grant_token"' in payload
    # the round closes the fold: one more entry carries the 24 repeats
    recorder = stack.broker.ledger_rounds.refusals
    recorder.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert recorder.flush() == 1
    repeated = entries(stack, "refusal.repeated")
    assert len(repeated) == 1 and '"repeats":24' in repeated[0][2]


def test_recorder_counts_identical_refusals_per_period(tmp_path):
    from tongdao.broker.kernel.db import upgrade
    from tongdao.crypto.signing import SigningKey
    from tongdao.proto.errors import PermissionDenied

    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    now = [dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)]
    recorder = RefusalRecorder(
        sessions, Ledger(SigningKey.generate()), dt.timedelta(hours=1), clock=lambda: now[0]
    )
    denied = PermissionDenied("outside the grant", field="fields", articles=("Art.30",))
    for minute in range(0, 150, 10):  # 15 refusals over 2.5 hours
        now[0] = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        recorder("/tongdao.v1.Broker/Query", "hrb.rsj", denied)
    recorder("/tongdao.v1.Broker/Query", "hlj.mzt", denied)  # another caller: its own entry
    now[0] += dt.timedelta(hours=2)
    recorder.flush()
    with sessions() as s:
        rows = s.execute(select(LedgerEntry).order_by(LedgerEntry.sequence)).scalars().all()
        kinds = [(e.kind, e.actor) for e in rows]
        import json

        counted = sum(
            1 if e.kind == "refusal" else json.loads(e.payload_json)["repeats"] for e in rows
        )
    assert counted == 16  # every refusal is counted
    assert kinds.count(("refusal", "hrb.rsj")) == 3  # one per hour-long period
    assert len(kinds) <= 2 * 3 + 1
    assert '"Art.30"' in rows[0].payload_json
    engine.dispose()
