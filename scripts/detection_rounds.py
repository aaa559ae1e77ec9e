"""Time misuse-detection rounds on a ledger of N answered calls (SQLite, one grant called): the
first round, a round after 100 more calls, and a round with nothing new; with ``--grants G``,
G more grants stored (issued the same day, never used) and the broker's scheduled round
(scan batches and the idle check, as ``broker.server`` runs it each minute) timed too, its wall
time and the CPU time of the process.

Run from the repository root:
    PYTHONPATH=$PWD .venv/bin/python scripts/detection_rounds.py 100000
    PYTHONPATH=$PWD .venv/bin/python scripts/detection_rounds.py 1000 --grants 100000
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from tests.integration.broker_fixtures import POPULATION, RSJ, World, request_for


def main(n: int, grants: int = 0) -> str:
    from tongdao.benchmarks.relay_stack import seed_grants
    from tongdao.broker.server import _detect_findings

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'broker.db'}"
    world = World(url).setup()
    request = world.file(RSJ, dataclasses.replace(request_for(POPULATION, ("name",)), quota=10**6))
    grant = world.grant(request.grant_id)
    if grants:
        seed_grants(url, grant.id, grants, world.broker_key)

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

    def scheduled() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        _detect_findings(world.services, world.sessions)
        return time.perf_counter() - wall, time.process_time() - cpu

    calls(n)
    first = detect()
    calls(100)
    after = detect()
    idle = detect()
    line = f"N={n} first={first:.3f}s after+100={after:.3f}s nothing-new={idle:.3f}s"
    if grants:
        calls(100)
        rounds = [scheduled() for _ in range(3)]  # 100 new calls, then nothing new twice
        line += f" grants={grants + 1}" + "".join(
            f" scheduled-round{i}={w:.3f}s(cpu {c:.3f}s)" for i, (w, c) in enumerate(rounds, 1)
        )
    world.engine.dispose()
    return line


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("calls", type=int, nargs="?", default=100_000)
    parser.add_argument("--grants", type=int, default=0, help="more grants stored (default 0)")
    args = parser.parse_args()
    print(main(args.calls, args.grants))
