"""The relay benchmark's stack: one or more brokers and the public-security bureau's node, started
as ``tongdao … serve`` processes on one store, the population entry published and grants issued;
and the seeding of a grown store (grants and ledger entries written in bulk, the log still one
verifiable chain).

Several brokers share the store and the home (the same keys): consumers reach them through one
round-robin target (:func:`round_robin_target`), as departments reach brokers behind one name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table

PURPOSE = "城乡最低生活保障资格审核"
SCENARIO = "低保复核（基准测试）"
BASIS = "《社会救助暂行办法》第十一条"
QUOTA = 1_000_000  # the most a grant may carry (broker settings): a 10-minute soak and the
# grown store's measurement after it, at several hundred queries per second, stay within it
METHODS = ("fetch", "verify")
BATCH = 10_000  # rows per seeding transaction: the head's lock is held for one batch at a time
RULES_FILE = "relay-bench-rules.toml"
BENCH_CALLS_PER_SECOND = 100_000.0
BENCH_BURST = 1_000_000
"""The brokers' ``[rate_limits]`` in the benchmark: the shipped rule file's 200 calls/s per
department (Art.38) would refuse the one consumer department's calls past a few seconds at the
rates measured, and the relay, not the limiter, is what is measured (each call still pays the
limiter's check)."""


@dataclass
class RelayStack:
    """What :func:`start_stack` started and issued."""

    home: Any  # tongdao.home.Home
    processes: list[Any]  # tongdao.demo_stack.Process: the node, then the brokers
    node: Any
    brokers: list[Any]
    tokens: dict[str, str]
    grant_ids: dict[str, str]
    person: dict[str, str]
    consumer: str
    url: str
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """Every broker, round-robin (one broker: its address)."""
        return round_robin_target([b.address for b in self.brokers])

    def pids(self) -> dict[str, int]:
        """Server processes by label: ``broker`` (or ``broker 1``, ``broker 2``, …), ``node``."""
        if len(self.brokers) == 1:
            out = {"broker": self.brokers[0].popen.pid}
        else:
            out = {f"broker {n}": b.popen.pid for n, b in enumerate(self.brokers, 1)}
        return {**out, "node": self.node.popen.pid}


def _table(model: Any) -> Table:
    """A model's table, for Core bulk inserts (no ORM unit of work)."""
    return cast(Table, model.__table__)


def round_robin_target(addresses: Sequence[str]) -> str:
    """A gRPC target naming every address (``ipv4:A,B``): the channel calls them in turn."""
    if len(addresses) == 1:
        return addresses[0]
    return "ipv4:" + ",".join(addresses)


def broker_args(home: Any, url: str) -> list[str]:
    """``tongdao broker serve`` on free ports, on the store at ``url``, with the benchmark's rule
    file (:func:`write_rules`, next to the home)."""
    return [
        "broker", "serve", "--home", str(home.root), "--listen", "127.0.0.1:0",
        "--metrics-listen", "127.0.0.1:0", "--database-url", url,
        "--policy", str(home.root.parent / RULES_FILE),
    ]  # fmt: skip


def write_rules(root: Path) -> Path:
    """Write the benchmark's rule file into ``root``: the shipped default policy with only its
    ``[rate_limits]`` raised to :data:`BENCH_CALLS_PER_SECOND` and :data:`BENCH_BURST`.

    Raises:
        RuntimeError: the shipped file has no such keys (they were renamed), or the result does
            not load.
    """
    from tongdao.policies.loader import DEFAULT_POLICY, load_policy, resolve_policy_path

    text = resolve_policy_path(DEFAULT_POLICY).read_text(encoding="utf-8")
    head, found, rest = text.partition("\n[rate_limits]\n")
    if not found:
        raise RuntimeError("the shipped rule file has no [rate_limits]")
    section, nxt, tail = rest.partition("\n[")
    values = {"calls_per_second": BENCH_CALLS_PER_SECOND, "burst": BENCH_BURST}
    lines = section.split("\n")
    for key, value in values.items():
        at = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
        if len(at) != 1:
            raise RuntimeError(f"the shipped rule file has no [rate_limits] {key}")
        lines[at[0]] = f"{key} = {value}"
    path = root / RULES_FILE
    path.write_text(head + found + "\n".join(lines) + nxt + tail, encoding="utf-8")
    limits = load_policy(path).rate_limits
    if limits is None or (limits.calls_per_second, limits.burst) != tuple(values.values()):
        raise RuntimeError(f"{path}: the benchmark's rate limits did not load")
    return path


def start_stack(
    root: Path,
    database_url: str,
    *,
    brokers: int = 1,
    quota: int = QUOTA,
    methods: Sequence[str] = METHODS,
    say: Callable[[str], None] = print,
) -> RelayStack:
    """Start the node and ``brokers`` brokers on one store, publish the population entry and
    issue one grant per method (quota ``quota``); the processes stop with :func:`stop_stack`."""
    from tongdao import synthetic
    from tongdao.ca_home import enrol_all_locally
    from tongdao.demo import _node_config, _start_all
    from tongdao.demo_world import GAT, RSJ, grades_of
    from tongdao.home import Home

    home = Home(root / "home")
    enrol_all_locally(home, root / "ca", (GAT, RSJ))
    people = synthetic.population(50)
    synthetic.write_csv(root / "population.csv", people)
    (root / "node-gat.toml").write_text(
        _node_config(home, GAT, "gat.population", "population.csv", grades_of("gat.population"))
    )
    url = database_url or f"sqlite:///{root / 'broker.db'}"
    write_rules(root)  # beside the home: broker_args names it
    processes: list[Any] = []
    specs = [("node", ["node", "serve", "--config", "node-gat.toml"])]
    specs += [(f"broker-{n}", broker_args(home, url)) for n in range(1, brokers + 1)]
    say(f"starting {brokers} broker(s) and the node")
    try:
        _start_all(specs, root, processes)  # several brokers migrate at once: one migrates
        return _set_up(home, processes, quota, methods, people, url)
    except BaseException:
        from tongdao.demo import _stop

        _stop(processes)  # nothing left running when the set-up fails
        raise


def _set_up(
    home: Any,
    processes: list[Any],
    quota: int,
    methods: Sequence[str],
    people: list[dict[str, str]],
    url: str,
) -> RelayStack:
    """Register the departments, publish the entry and issue the grants (see
    :func:`start_stack`)."""
    from tongdao.commands.catalogue import entry_from_dict
    from tongdao.demo_world import ENTRIES, GAT, RSJ
    from tongdao.home import AUTHORITY
    from tongdao.node.client import ConsumerClient
    from tongdao.proto.stubs import BrokerStubs
    from tongdao.proto.transport import secure_channel
    from tongdao.v1 import catalogue_pb2, directory_pb2

    node, first = processes[0], processes[1]
    authority = BrokerStubs.over(secure_channel(first.address, home.tls(AUTHORITY)))
    for profile, endpoint in ((GAT, node.address), (RSJ, "")):
        authority.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(code=profile.code, node_endpoint=endpoint),
                # the broker takes the profile and both keys from the CA-signed certificate
                certificate_pem=home.tls(profile.code).certificate_pem,
            ),
            timeout=30,
        )
    gat = BrokerStubs.over(secure_channel(first.address, home.tls(GAT.code)))
    gat.catalogue.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(ENTRIES["gat.population"])),
        timeout=30,
    )
    gat.catalogue.SubmitCatalogueEntry(
        catalogue_pb2.SubmitCatalogueEntryRequest(code="gat.population"), timeout=30
    )
    authority.catalogue.PublishCatalogueEntry(
        catalogue_pb2.PublishCatalogueEntryRequest(code="gat.population", comment="ok"), timeout=30
    )
    consumer = ConsumerClient(
        first.address, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code, timeout=60
    )
    tokens, grant_ids = {}, {}
    for method in methods:
        request = consumer.file_share_request(
            "gat.population", ["name"], [method], PURPOSE, SCENARIO, BASIS, quota=quota
        )
        grant_ids[method] = request.grant_id
        tokens[method] = consumer.get_grant(request.grant_id).token
    return RelayStack(
        home, processes, node, processes[1:], tokens, grant_ids, people[0], RSJ.code, url
    )


def with_one_broker(stack: RelayStack, measure: Callable[[], list[dict[str, Any]]]) -> list[Any]:
    """Stop every broker but the first, ``measure()`` on the same store, start them again;
    returns the measurements, each marked ``brokers: 1``."""
    from tongdao.demo import _start_all, _stop

    several = stack.brokers
    _stop(several[1:])
    stack.brokers = several[:1]
    try:
        rows = measure()
    finally:
        restarted: list[Any] = []
        specs = [
            (f"broker-{n}", broker_args(stack.home, stack.url)) for n in range(2, len(several) + 1)
        ]
        _start_all(specs, stack.home.root.parent, restarted)
        stack.processes = [stack.node, several[0], *restarted]
        stack.brokers = [several[0], *restarted]
    for row in rows:
        row["brokers"] = 1
    return rows


def stop_stack(stack: RelayStack) -> None:
    from tongdao.demo import _stop

    _stop(stack.processes)


def message_sizes(url: str) -> dict[str, int]:
    """The sealed query and result sizes of the last relayed fetch (the echo carries the same)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as db:
            payload = db.execute(
                text(
                    "select payload_json from ledger_entries where kind = 'query.relayed' "
                    "order by sequence desc limit 1"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    data = json.loads(payload)
    return {"request_bytes": data["sealed_query_bytes"], "reply_bytes": data["sealed_result_bytes"]}


# ---------------------------------------------------------------- a grown store


def seed_grants(url: str, template_id: str, count: int, signing_key: Any) -> list[str]:
    """Store ``count`` more grants like ``template_id`` (same request, each its own id and
    signed token), in bulk; returns their ids."""
    from sqlalchemy import insert, select

    import tongdao.broker.schema  # noqa: F401 (every table, for the grants' foreign keys)
    from tongdao.broker.kernel.db import make_engine, session_factory
    from tongdao.broker.sharing.models import Grant
    from tongdao.crypto.grant_token import issue_grant_token, read_grant_token_unverified

    engine = make_engine(url)
    ids: list[str] = []
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            template = session.execute(select(Grant).where(Grant.id == template_id)).scalar_one()
            columns = {c.key: getattr(template, c.key) for c in Grant.__table__.columns}
        claims = read_grant_token_unverified(columns["token"])
        while len(ids) < count:
            rows = []
            for _ in range(min(BATCH, count - len(ids))):
                grant_id = str(uuid.uuid4())
                token = issue_grant_token(
                    dataclasses.replace(claims, grant_id=grant_id), signing_key
                )
                rows.append({**columns, "id": grant_id, "token": token, "used": 0})
                ids.append(grant_id)
            with sessions.begin() as session:
                session.execute(insert(_table(Grant)), rows)
    finally:
        engine.dispose()
    return ids


def seed_log(
    url: str,
    count: int,
    signing_key: Any,
    subjects: Sequence[str],
    say: Callable[[str], None] = print,
) -> int:
    """Append ``count`` relayed-query entries to the stored log, in bulk: each batch continues
    the hash chain and the Merkle tree under the head's lock (brokers running on the store
    queue behind it, as behind any appender), indexes its request ids and re-signs the head.
    Returns the log's length afterwards."""
    from sqlalchemy import insert, select, update

    from tongdao.broker.kernel.db import make_engine, session_factory
    from tongdao.broker.ledger.audit import entry_body
    from tongdao.broker.ledger.chain import head_signing_bytes
    from tongdao.broker.ledger.models import (
        LedgerEntry,
        LedgerHead,
        LedgerRequestIndex,
        LedgerTree,
        LedgerTreeNode,
    )
    from tongdao.crypto.merkle import CompactRange, leaf_hash

    engine = make_engine(url)
    written = 0
    length = 0
    try:
        sessions = session_factory(engine)
        while written < count:
            with sessions.begin() as s:
                head = s.execute(
                    select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
                ).scalar_one()
                tree = s.execute(select(LedgerTree).where(LedgerTree.id == 1)).scalar_one()
                edge = CompactRange.from_bytes(tree.size, tree.compact_range)
                length, previous = head.length, head.head_hash
                when = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
                entries, nodes, requests = [], [], []
                for _ in range(min(BATCH, count - written)):
                    length += 1
                    request_id = str(uuid.uuid4())
                    payload = {
                        "grant_id": subjects[length % len(subjects)],
                        "method": "fetch",
                        "request_id": request_id,
                        "record_count": 1,
                        "responsible": {"department": "hlj.rsj", "identity": "service identity"},
                    }
                    fields: dict[str, Any] = {
                        "sequence": length,
                        "recorded_at": when,
                        "kind": "query.relayed",
                        "actor": "hlj.rsj",
                        "subject": payload["grant_id"],
                        "payload_json": json.dumps(
                            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                        ),
                    }
                    body = entry_body(**fields)
                    digest = hashlib.sha256(previous + body).digest()
                    entries.append({**fields, "previous_hash": previous, "entry_hash": digest})
                    requests.append({"request_id": request_id, "sequence": length})
                    previous = digest
                    for level, idx, h in edge.append(leaf_hash(body)):
                        nodes.append({"level": level, "idx": idx, "hash": h})
                s.execute(insert(_table(LedgerEntry)), entries)
                s.execute(insert(_table(LedgerTreeNode)), nodes)
                s.execute(insert(_table(LedgerRequestIndex)), requests)
                s.execute(
                    update(LedgerTree)
                    .where(LedgerTree.id == 1)
                    .values(size=edge.size, compact_range=edge.to_bytes())
                )
                s.execute(
                    update(LedgerHead)
                    .where(LedgerHead.id == 1)
                    .values(
                        length=length,
                        head_hash=previous,
                        signature=signing_key.sign(head_signing_bytes(length, previous)),
                    )
                )
                written += len(entries)
            if written % 100_000 < BATCH:
                say(f"seeded {written:,} of {count:,} log entries")
    finally:
        engine.dispose()
    return length


def verify_store(url: str, verify_key: Any) -> dict[str, Any]:
    """``verify_ledger`` over the store: whether the log is one valid chain, and its length."""
    from tongdao.broker.kernel.db import make_engine, session_factory
    from tongdao.broker.ledger.chain import read_head, verify_ledger

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            length = read_head(session).length
            result = verify_ledger(session, verify_key)
    finally:
        engine.dispose()
    return {
        "ok": result.ok,
        "entries": result.length,
        "head_length": length,
        "problem": result.problem,
    }
