"""Time misuse-detection rounds on a ledger of N answered calls (SQLite, one grant): the first
round, a round after 100 more calls, and a round with nothing new.

Run from the repository root:  PYTHONPATH=$PWD .venv/bin/python scripts/detection_rounds.py 100000
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from tests.integration.broker_fixtures import POPULATION, RSJ, World, request_for


def main(n: int) -> str:
    tmp = Path(tempfile.mkdtemp())
    world = World(f"sqlite:///{tmp / 'broker.db'}").setup()
    request = world.file(RSJ, dataclasses.replace(request_for(POPULATION, ("name",)), quota=10**6))
    grant = world.grant(request.grant_id)

    def calls(count: int) -> None:
        with world.sessions.begin() as s:
            for _ in range(count):
                world.services.ledger.chain.append(
                    s,
                    kind="query.relayed",
                    actor=RSJ.code,
                    subject=grant.id,
                    payload={"grant_id": grant.id, "method": "fetch", "fields": ["name"]},
                )

    def detect() -> float:
        start = time.perf_counter()
        with world.sessions.begin() as s:
            world.services.findings.detect(s)
        return time.perf_counter() - start

    calls(n)
    first = detect()
    calls(100)
    after = detect()
    idle = detect()
    world.engine.dispose()
    return f"N={n} first={first:.3f}s after+100={after:.3f}s nothing-new={idle:.3f}s"


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
