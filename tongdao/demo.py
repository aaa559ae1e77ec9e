"""``tongdao demo``: the whole path, real at every layer, in under a minute.

Starts a broker and two provider nodes as separate processes on loopback, with mutual TLS from a
fresh authority CA; publishes three catalogue entries (unconditional, conditional, not-shared);
a consumer department requests, a provider approves, the consumer fetches and verifies; refusals
cite their article; the ledger is verified offline with the broker's public key. Every answer is
checked against the generated plaintext, and the demo exits non-zero if any check fails.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from broker.db import make_engine, session_factory
from broker.ledger import verify_ledger
from node.client import ClientError, ConsumerClient
from policies.loader import load_policy
from policies.masking import mask_value
from proto.tongdao.v1 import broker_pb2, broker_pb2_grpc
from proto.transport import secure_channel
from tongdao import synthetic
from tongdao.commands.catalogue import entry_from_dict
from tongdao.home import AUTHORITY, DepartmentProfile, Home

MARKER = ".tongdao-demo"
STARTUP_SECONDS = 30.0

GAT = DepartmentProfile("hlj.gat", "黑龙江省公安厅", "230000", "province")
MZT = DepartmentProfile("hlj.mzt", "黑龙江省民政厅", "230000", "province")
RSJ = DepartmentProfile("hrb.rsj", "哈尔滨市人力资源和社会保障局", "230100", "city")

PURPOSE = "城乡最低生活保障资格审核"
SCENARIO = "哈尔滨市低保申请人身份与婚姻状况核验"
BASIS = "《社会救助暂行办法》第十一条"

ENTRY_DIR = Path(__file__).resolve().parent / "demo_entries"
ENTRIES: dict[str, dict[str, Any]] = {
    path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
    for path in sorted(ENTRY_DIR.glob("*.toml"))
}


class DemoFailure(Exception):
    """A step of the demo did not behave as it must."""


@dataclass
class Process:
    """A child process whose first ``listening on HOST:PORT`` line gives its address."""

    name: str
    popen: subprocess.Popen[str]
    address: str
    log_path: Path


@dataclass
class Report:
    """What the demo checked; printed as it goes."""

    out: Callable[[str], None]
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.out(f"\n== {title}")

    def line(self, text: str) -> None:
        self.out(f"   {text}")

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))
        self.out(f"   [{'ok' if ok else 'FAILED'}] {what}")

    @property
    def ok(self) -> bool:
        return all(ok for _, ok in self.checks)


def _prepare_directory(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise DemoFailure(
                f"{directory} is not empty and was not made by `tongdao demo`; choose another --dir"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by tongdao demo; safe to delete\n")


def _start(name: str, args: list[str], cwd: Path) -> Process:
    log_path = cwd / "logs" / f"{name}.log"
    log_path.parent.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = log_path.open("w")
    popen = subprocess.Popen(
        [sys.executable, "-m", "tongdao", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert popen.stdout is not None
        for text in popen.stdout:
            lines.put(text)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            text = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if "listening on" in text:
            return Process(name, popen, text.rsplit(" ", 1)[-1].strip(), log_path)
        if text == "":
            break
    popen.kill()
    raise DemoFailure(f"{name} did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


def _stop(processes: list[Process]) -> None:
    for proc in processes:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait()


def _node_config(
    home: Home, profile: DepartmentProfile, entry: str, csv_name: str, grades: dict[str, str]
) -> str:
    key = ENTRIES[entry]["key_field"]
    lines = [
        f'department = "{profile.code}"',
        f'home = "{home.root.resolve()}"',
        'listen = "127.0.0.1:0"',
        f'state_dir = "state-{profile.code}"',
        "",
        "[[entries]]",
        f'code = "{entry}"',
        f'source = "csv:{csv_name}"',
        f'key_field = "{key}"',
        "",
        "[entries.grades]",
        *[f'{name} = "{grade}"' for name, grade in grades.items()],
    ]
    return "\n".join(lines) + "\n"


def run_demo(directory: Path, *, records: int = 300, out: Callable[[str], None] = print) -> Report:
    """Run the whole demo in ``directory``; return the report (``.ok`` says if every check passed).

    Raises:
        DemoFailure: a process did not start or a step broke outright.
    """
    started = time.monotonic()
    report = Report(out)
    _prepare_directory(directory)
    home = Home(directory / "home")
    home.create_authority()
    for profile in (GAT, MZT, RSJ):
        home.add_department(profile)
    report.section("Set-up")
    report.line(f"authority CA, broker and 3 departments in {home.root} (mutual TLS everywhere)")

    people = synthetic.population(records)
    marriages = synthetic.marriages(people)
    synthetic.write_csv(directory / "population.csv", people)
    synthetic.write_csv(directory / "marriage.csv", marriages)
    report.line(
        f"synthetic registries: {len(people)} residents (公安), "
        f"{len(marriages)} marriage records (民政)"
    )

    grades = {
        code: {i["name"]: i["sensitivity"] for i in entry["data_items"]}
        for code, entry in ENTRIES.items()
    }
    (directory / "node-gat.toml").write_text(
        _node_config(home, GAT, "gat.population", "population.csv", grades["gat.population"])
    )
    (directory / "node-mzt.toml").write_text(
        _node_config(home, MZT, "mzt.marriage", "marriage.csv", grades["mzt.marriage"])
    )

    processes: list[Process] = []
    try:
        processes.append(
            _start(
                "broker",
                ["broker", "serve", "--home", str(home.root), "--listen", "127.0.0.1:0"],
                directory,
            )
        )
        processes.append(
            _start("node-gat", ["node", "serve", "--config", "node-gat.toml"], directory)
        )
        processes.append(
            _start("node-mzt", ["node", "serve", "--config", "node-mzt.toml"], directory)
        )
        broker = processes[0].address
        report.line(
            "started: "
            + ", ".join(f"{p.name} on {p.address} (pid {p.popen.pid})" for p in processes)
        )
        try:
            _scenario(
                report,
                home,
                broker,
                {GAT.code: processes[1].address, MZT.code: processes[2].address},
                people,
                marriages,
            )
        except (ClientError, grpc.RpcError) as exc:
            detail = f"{exc.code()}: {exc.details()}" if isinstance(exc, grpc.RpcError) else exc
            raise DemoFailure(
                f"a step failed unexpectedly: {detail} (logs in {directory / 'logs'})"
            ) from None
    finally:
        _stop(processes)
    report.section("Ledger")
    engine = make_engine(f"sqlite:///{directory / 'tongdao-broker.db'}")
    with session_factory(engine).begin() as session:
        verification = verify_ledger(session, home.broker_verify_key())
    engine.dispose()
    report.check(
        f"ledger verifies offline with the broker's public key: {verification.length} entries, "
        f"head {verification.head_hash.hex()[:16]}…",
        verification.ok,
    )
    report.section("Result")
    passed = sum(ok for _, ok in report.checks)
    report.line(
        f"{passed}/{len(report.checks)} checks passed in {time.monotonic() - started:.1f} s; "
        "processes stopped"
    )
    report.line(f"files, logs and the broker's SQLite store are in {directory}")
    return report


def _scenario(
    report: Report,
    home: Home,
    broker: str,
    nodes: dict[str, str],
    people: list[dict[str, str]],
    marriages: list[dict[str, str]],
) -> None:
    policy = load_policy("heilongjiang-2025")

    def show_key(key: str) -> str:
        # the report never prints a whole ID number, even a synthetic one
        return mask_value(policy, "personal", key, field_kind="id_number")

    def stub(party: str) -> broker_pb2_grpc.BrokerStub:
        return broker_pb2_grpc.BrokerStub(secure_channel(broker, home.tls(party)))

    authority, gat, mzt = stub(AUTHORITY), stub(GAT.code), stub(MZT.code)

    report.section("Directory (authority)")
    for profile in (GAT, MZT, RSJ):
        authority.RegisterDepartment(
            broker_pb2.RegisterDepartmentRequest(
                department=broker_pb2.Department(
                    code=profile.code,
                    name=profile.name,
                    region=profile.region,
                    level=profile.level,
                    node_endpoint=nodes.get(profile.code, ""),
                    encryption_public_key=home.encryption_keys(profile.code).public_key,
                    signing_public_key=home.signing_key(profile.code).verify_key.public_key,
                )
            ),
            timeout=10,
        )
        report.line(f"registered {profile.code} {profile.name} ({profile.level}, {profile.region})")

    report.section("Catalogue: draft → submit → authority review → published (Art.12)")
    for code, data in ENTRIES.items():
        provider = gat if data["provider"] == GAT.code else mzt
        provider.CreateCatalogueEntry(
            broker_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)), timeout=10
        )
        provider.SubmitCatalogueEntry(broker_pb2.SubmitCatalogueEntryRequest(code=code), timeout=10)
        entry = authority.PublishCatalogueEntry(
            broker_pb2.PublishCatalogueEntryRequest(code=code, comment="审核通过"), timeout=10
        )
        report.line(
            f"{code:<18} v{entry.version} {entry.status:<9} {data['share_type']:<13} {data['name']}"
        )

    consumer = ConsumerClient(broker, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code)
    by_id = {p["id_number"]: p for p in people}
    marriage_by_id = {m["id_number"]: m for m in marriages}
    sample = [p["id_number"] for p in people[:3]] + ["230102199901019999"]

    report.section("Unconditional share: population registry (Art.22)")
    req = consumer.file_share_request(
        "gat.population",
        ["name", "gender", "birth_date"],
        ["fetch", "verify"],
        PURPOSE,
        SCENARIO,
        BASIS,
    )
    report.line(
        f"request {req.id[:8]}… → {req.status} "
        f"[{', '.join(req.decision.articles)}] {req.decision.reason}"
    )
    report.check(
        "unconditional request approved by the automatic compliance check", req.status == "approved"
    )
    grant = consumer.get_grant(req.grant_id)
    rows = consumer.fetch(grant.token, sample, ["name", "gender", "birth_date"], PURPOSE)
    ok = True
    for row in rows:
        person = by_id.get(row["key"])
        if person is None:
            ok &= not row["found"]
            report.line(f"{show_key(row['key'])}: not found")
            continue
        expected = {
            f: mask_value(policy, grades_of("gat.population")[f], person[f], field_kind=f)
            for f in ("name", "gender", "birth_date")
        }
        ok &= row["found"] and row["fields"] == expected
        report.line(f"{show_key(row['key'])}: {row['fields']}")
    report.check(
        "fetched fields equal the registry's values, masked per grade (PRIV-1, PRIV-6)", ok
    )
    who = by_id[sample[0]]
    match = consumer.verify(
        grant.token, sample[0], {"name": who["name"], "birth_date": who["birth_date"]}, PURPOSE
    )
    wrong = consumer.verify(
        grant.token, sample[0], {"name": who["name"], "birth_date": "1901-01-01"}, PURPOSE
    )
    report.line(
        f"verify true claim → {match['matches']}; verify altered birth date → {wrong['matches']}"
    )
    report.check(
        "verification answers match / no-match without returning values (PRIV-2)",
        match["found"]
        and all(match["matches"].values())
        and wrong["matches"] == {"name": True, "birth_date": False},
    )

    report.section("Conditional share: marriage registry, provider review (Art.22)")
    marriage_fields = ["marital_status", "registration_date", "registration_office"]
    req = consumer.file_share_request(
        "mzt.marriage", marriage_fields, ["fetch", "verify"], PURPOSE, SCENARIO, BASIS
    )
    report.line(
        f"request {req.id[:8]}… → {req.status}, "
        f"provider must decide by the end of {req.due_date} [{', '.join(req.decision.articles)}]"
    )
    report.check(
        "conditional request waits in the provider's inbox with a working-day due date",
        req.status == "pending_provider_review" and bool(req.due_date),
    )
    inbox = mzt.ListShareRequests(broker_pb2.ListShareRequestsRequest(role="provider"), timeout=10)
    decided = mzt.DecideShareRequest(
        broker_pb2.DecideShareRequestRequest(
            id=inbox.requests[0].id, approve=True, reason="用途与共享条件相符"
        ),
        timeout=10,
    )
    report.line(f"民政厅 approves → {decided.status} [{', '.join(decided.decision.articles)}]")
    grant = consumer.get_grant(decided.grant_id)
    sample_marriages = marriages[:3]
    fetched = ["registration_office", "registration_date"]
    rows = consumer.fetch(grant.token, [m["id_number"] for m in sample_marriages], fetched, PURPOSE)
    grades = grades_of("mzt.marriage")
    ok = all(
        r["found"]
        and r["fields"]
        == {
            f: mask_value(policy, grades[f], marriage_by_id[r["key"]][f], field_kind=f)
            for f in fetched
        }
        for r in rows
    )
    for r in rows:
        report.line(f"{show_key(r['key'])}: {r['fields']}")
    report.check("approved conditional data fetched end to end and equal to the registry", ok)
    # marital status is personal: ask "is this applicant married?" instead of reading it
    ok = True
    for m in sample_marriages:
        answer = consumer.verify(grant.token, m["id_number"], {"marital_status": "已婚"}, PURPOSE)
        ok &= answer["matches"]["marital_status"] == (m["marital_status"] == "已婚")
        report.line(f"{show_key(m['id_number'])}: 已婚? → {answer['matches']['marital_status']}")
    report.check("marital status verified without disclosing it (PRIV-2)", ok)

    report.section("Refusals cite their article")
    req = consumer.file_share_request(
        "gat.case-records", ["case_number"], ["fetch"], PURPOSE, SCENARIO, BASIS
    )
    report.line(
        f"not-shared entry → {req.status} "
        f"[{', '.join(req.decision.articles)}] {req.decision.reason}"
    )
    report.check(
        "not-shared request refused citing the entry's legal basis",
        req.status == "refused"
        and bool(req.decision.articles)
        and "刑事诉讼法" in req.decision.reason,
    )
    req = consumer.file_share_request(
        "gat.population", ["name", "gender", "birth_date"], ["fetch"], PURPOSE, SCENARIO, BASIS
    )
    grant = consumer.get_grant(req.grant_id)
    try:
        consumer.fetch(grant.token, sample[:1], ["name", "household_address"], PURPOSE)
        report.check("a field outside the grant is refused", False)
    except ClientError as exc:
        report.line(f"fetch household_address outside the grant → {exc.code}: {exc.message}")
        report.check(
            "a field outside the grant is refused with the article (Art.30)",
            exc.code == grpc.StatusCode.PERMISSION_DENIED.name and "Art." in exc.message,
        )
    try:
        consumer.fetch(grant.token, sample[:1], ["name"], "商业营销")
        report.check("a different purpose is refused", False)
    except ClientError as exc:
        report.line(f"fetch for another purpose → {exc.code}: {exc.message}")
        report.check("a purpose other than the grant's is refused", exc.code == "PERMISSION_DENIED")

    report.section("Deadlines (working days, PRC calendar)")
    deadlines = authority.ListDeadlines(
        broker_pb2.ListDeadlinesRequest(include_closed=True), timeout=10
    )
    for d in deadlines.deadlines:
        state = (
            f"closed {d.closed_on}{' LATE' if d.closed_late else ''}"
            if d.closed_on
            else f"{d.remaining_working_days} working day(s) left"
        )
        report.line(
            f"{d.kind} {d.subject[:8]}… started {d.started_on}, "
            f"due {d.due_on} [{d.article}]: {state}"
        )
    report.check(
        "the conditional review was tracked on a working-day clock", len(deadlines.deadlines) >= 1
    )
    remote = authority.VerifyLedger(broker_pb2.VerifyLedgerRequest(), timeout=30)
    report.check(f"broker reports its ledger intact ({remote.length} entries)", remote.ok)


def grades_of(code: str) -> dict[str, str]:
    """Data item → sensitivity grade of a demo entry."""
    return {i["name"]: i["sensitivity"] for i in ENTRIES[code]["data_items"]}
