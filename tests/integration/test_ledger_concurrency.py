"""Several broker replicas appending at once still write one linear, verifiable chain."""

import threading

from sqlalchemy import func, select

from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
from tongdao.broker.ledger.chain import Ledger, verify_ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.crypto.signing import SigningKey

REPLICAS = 3
THREADS_PER_REPLICA = 3
APPENDS_PER_THREAD = 15


def test_concurrent_appends_from_several_replicas(database_url):
    key = SigningKey.generate()
    engines = [make_engine(database_url) for _ in range(REPLICAS)]
    upgrade(engines[0])
    errors: list[BaseException] = []

    def worker(replica: int, thread: int) -> None:
        sessions = session_factory(engines[replica])
        ledger = Ledger(key)
        try:
            for n in range(APPENDS_PER_THREAD):
                with sessions.begin() as session:
                    ledger.append(
                        session,
                        kind="test.append",
                        actor=f"replica-{replica}",
                        subject=f"t{thread}-{n}",
                        payload={"n": n},
                    )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(r, t))
        for r in range(REPLICAS)
        for t in range(THREADS_PER_REPLICA)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    total = REPLICAS * THREADS_PER_REPLICA * APPENDS_PER_THREAD
    with session_factory(engines[0]).begin() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == total
        result = verify_ledger(session, key.verify_key)
    assert result.ok, result.problem
    assert result.length == total
    for engine in engines:
        engine.dispose()
