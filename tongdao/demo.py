"""``tongdao demo``: the whole path, real at every layer.

Starts a broker and a node for each providing department as separate processes on loopback,
with mutual TLS from a fresh authority CA; publishes the catalogue entries (unconditional,
conditional, not-shared); a consumer department requests, a provider approves, the consumer
fetches and verifies; refusals cite their article; the ledger is verified offline with the
broker's public key. Every answer is checked against the generated plaintext, and the demo exits
non-zero if any check fails.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from tongdao import synthetic
from tongdao.broker.kernel.db import make_engine, session_factory
from tongdao.broker.ledger.chain import verify_ledger
from tongdao.commands.catalogue import entry_from_dict
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.demo_report import Report, _tour
from tongdao.demo_stack import (
    STATE_FILE,
    Launch,
    Process,
    StackError,
    await_listening,
    launch,
    save_state,
    start_all,
    stop,
)
from tongdao.demo_trust import (
    bare_certificate_refused,
    enrol_all,
    refuses_misnamed_registration,
    revocation_scenario,
    staff_logins,
)
from tongdao.demo_world import (
    BASIS,
    CITY_MZJ,
    ENTRIES,
    GAT,
    MZT,
    PURPOSE,
    RSJ,
    SCENARIO,
    SW,
    city_entry,
    grades_of,
)
from tongdao.demo_world import node_config as _node_config
from tongdao.home import AUTHORITY, HomeSet
from tongdao.i18n import current, said, tr
from tongdao.node.client import ClientError, ConsumerClient
from tongdao.policies.i18n import msg
from tongdao.policies.loader import load_policy
from tongdao.policies.masking import mask_value
from tongdao.proto.pages import every_page
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel, with_locale
from tongdao.v1 import catalogue_pb2, directory_pb2, ledger_pb2, sharing_pb2, supervision_pb2

MARKER = ".tongdao-demo"
STARTUP_SECONDS = 120.0  # every process imports the crypto core; generous for a loaded machine


class DemoFailure(Exception):
    """A step of the demo did not behave as it must."""


class DemoDirectoryError(DemoFailure):
    """The demo's directory cannot be used (not the demo's own, or a kept stack runs in it)."""


def _prepare_directory(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise DemoDirectoryError(
                msg(
                    "{directory} is not empty and was not made by `tongdao demo`; "
                    "choose another --dir",
                    directory=directory,
                )
            )
        if (directory / STATE_FILE).exists():
            raise DemoDirectoryError(
                msg(
                    "a demo started with --keep may still be running in "
                    "{directory}; stop it first: `tongdao demo --stop --dir "
                    "{directory}`",
                    directory=directory,
                )
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by tongdao demo; safe to delete\n")


def _launch(name: str, args: list[str], cwd: Path) -> Launch:
    return launch(name, args, cwd)


def _await(started: Launch, deadline: float) -> Process:
    try:
        return await_listening(started, deadline)
    except StackError as exc:
        raise DemoFailure(said(exc)) from None


def _start_all(
    specs: list[tuple[str, list[str]]], cwd: Path, started: list[Process], *, detach: bool = False
) -> None:
    """Start every process at once (they import in parallel), then wait for each to listen."""
    try:
        start_all(specs, cwd, started, timeout=STARTUP_SECONDS, detach=detach)
    except StackError as exc:
        raise DemoFailure(said(exc)) from None


_stop = stop


def run_demo(
    directory: Path,
    *,
    records: int = 300,
    out: Callable[[str], None] = print,
    keep: bool = False,
) -> Report:
    """Run the whole demo in ``directory``; return the report (``.ok`` says if every check passed).

    With ``keep`` the broker and nodes stay running after the checks (in sessions of their own,
    recorded in ``demo-stack.json``) and the report ends with the commands to try against them;
    :func:`tongdao.demo_stack.stop_kept` stops them.

    Raises:
        DemoFailure: a process did not start or a step broke outright.
    """
    started = time.monotonic()
    report = Report(out)
    directory = directory.resolve()  # child processes run inside it: every path must be absolute
    _prepare_directory(directory)
    departments = (GAT, MZT, SW, RSJ, *CITY_MZJ)
    report.section(tr("Set-up: enrolment (each party makes its own keys)"))
    trust = enrol_all(directory, departments, report.check, report.line)
    home = trust.homes

    people = synthetic.population(records)
    marriages = synthetic.marriages(people)
    incomes = synthetic.incomes(people)
    households = {
        p.code: synthetic.subsistence_households(p.region, 60 + 15 * n, seed=n)
        for n, p in enumerate(CITY_MZJ)
    }
    served = [
        (GAT, "gat.population", "population.csv", people),
        (MZT, "mzt.marriage", "marriage.csv", marriages),
        (SW, "sw.income", "income.csv", incomes),
        *[(p, city_entry(p)["code"], f"{p.code}.csv", households[p.code]) for p in CITY_MZJ],
    ]
    for profile, entry, csv_name, rows in served:
        synthetic.write_csv(directory / csv_name, rows)
        (directory / f"node-{profile.code}.toml").write_text(
            _node_config(
                trust.departments[profile.code],
                profile,
                entry,
                csv_name,
                grades_of(entry),
                revocation_list=trust.crl_path,
            )
        )
    report.line(
        tr(
            "synthetic registries: {n_people} residents (公安), {n_marriages} marriages (民政), "
            "{n_incomes} tax records (税务), {households} 低保 households in {n_city_mzj} cities",
            n_people=len(people),
            n_marriages=len(marriages),
            n_incomes=len(incomes),
            households=sum(map(len, households.values())),
            n_city_mzj=len(CITY_MZJ),
        )
    )

    processes: list[Process] = []
    kept = False
    try:
        specs = [
            (
                "broker",
                [
                    *("broker", "serve", "--home", str(trust.authority.root)),
                    *("--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"),
                    *("--revocation-list", str(trust.crl_path)),
                ],
            )
        ]
        specs += [
            (f"node-{p.code}", ["node", "serve", "--config", f"node-{p.code}.toml"])
            for p, *_ in served
        ]
        _start_all(specs, directory, processes, detach=keep)
        broker = processes[0].address
        nodes = {p.name.removeprefix("node-"): p.address for p in processes[1:]}
        report.line(
            tr(
                "started {count} processes: broker on {broker}, nodes {nodes}",
                count=len(processes),
                broker=broker,
                nodes=", ".join(f"{code}@{addr.rsplit(':', 1)[1]}" for code, addr in nodes.items()),
            )
        )
        from tongdao.demo_privacy import privacy_scenario  # it reads this module's cast

        try:
            kept_home = trust.authority.root if keep else None
            _scenario(report, home, broker, nodes, people, marriages, kept_home)
            privacy_scenario(report, home, broker, people, incomes, households)
            report.section(tr("Revocation (a department reports a lost key)"))
            revocation_scenario(trust, broker, CITY_MZJ[-1].code, report.check, report.line)
        except (ClientError, grpc.RpcError) as exc:
            detail = f"{exc.code()}: {exc.details()}" if isinstance(exc, grpc.RpcError) else exc
            raise DemoFailure(
                msg(
                    "a step failed unexpectedly: {detail} (logs in {logs})",
                    detail=detail,
                    logs=directory / "logs",
                )
            ) from None
        kept = keep and report.ok
    finally:
        if not kept:
            _stop(processes)
    report.section(tr("Ledger"))
    engine = make_engine(f"sqlite:///{directory / 'tongdao-broker.db'}")
    with session_factory(engine).begin() as session:
        verification = verify_ledger(session, home.broker_verify_key())
    engine.dispose()
    report.check(
        tr(
            "ledger verifies offline with the broker's public key: {length} entries, head {head}…",
            length=verification.length,
            head=verification.head_hash.hex()[:16],
        ),
        verification.ok,
    )
    report.section(tr("Result"))
    passed = sum(ok for _, ok in report.checks)
    if kept:
        tail = tr("{count} processes still running", count=len(processes))
    else:
        tail = tr("processes stopped")
    seconds = time.monotonic() - started
    total = len(report.checks)
    report.line(
        tr(
            "{passed}/{total} checks passed in {seconds:.1f} s; ",
            passed=passed,
            total=total,
            seconds=seconds,
        )
        + tail
    )
    report.line(
        tr("files, logs and the broker's SQLite store are in {directory}", directory=directory)
    )
    if kept:
        save_state(directory, processes)
        _tour(report, directory, broker, len(processes))
    return report


def _scenario(
    report: Report,
    home: HomeSet,
    broker: str,
    nodes: dict[str, str],
    people: list[dict[str, str]],
    marriages: list[dict[str, str]],
    keep_passwords_in: Path | None = None,
) -> None:
    policy = load_policy("heilongjiang-2025")

    def show_key(key: str) -> str:
        # the report never prints a whole ID number, even a synthetic one
        return mask_value(policy, "personal", key, field_kind="id_number")

    def channel(party: str) -> grpc.Channel:
        # answers in the reader's language; the checks read the English kept in each refusal
        return with_locale(
            secure_channel(broker, home.tls(party), server_name=BROKER_SERVER_NAME), current()
        )

    def stub(party: str) -> BrokerStubs:
        return BrokerStubs.over(channel(party))

    mzt = stub(MZT.code)

    report.section(tr("People at the authority: administrator, operator, auditor (等保 三权分立)"))
    staff = staff_logins(lambda: channel(AUTHORITY), keep_passwords_in)
    logged_in = ", ".join(f"{u}: {r}" for r, (u, _) in staff.items())
    report.line(tr("{people}; each logged in", people=logged_in))
    admin, operator, auditor = (staff[r][1] for r in ("administrator", "operator", "auditor"))
    refused = bare_certificate_refused(stub(AUTHORITY), home, GAT.code)
    report.line(
        tr(
            "the authority's certificate without a login → {refusal}",
            refusal=refused.split(" [")[0],
        )
    )
    report.check(
        tr("once the first administrator exists the certificate holds no role"), bool(refused)
    )

    report.section(tr("Directory (authority's administrator)"))
    for profile in (GAT, MZT, SW, RSJ, *CITY_MZJ):
        # the broker checks the certificate and takes the profile and keys from it
        admin.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(
                    code=profile.code, node_endpoint=nodes.get(profile.code, "")
                ),
                certificate_pem=home.tls(profile.code).certificate_pem,
            ),
            timeout=10,
        )
        if profile not in CITY_MZJ:
            report.line(
                tr(
                    "registered {code} {name} ({level}, {region})",
                    code=profile.code,
                    name=profile.name,
                    level=profile.level,
                    region=profile.region,
                )
            )
    report.line(
        tr(
            "registered {count} city civil-affairs bureaus: {codes}",
            count=len(CITY_MZJ),
            codes=", ".join(p.code for p in CITY_MZJ),
        )
    )
    report.check(
        tr("each from its CA-signed certificate; one naming another department is refused"),
        refuses_misnamed_registration(admin, home, GAT.code, MZT.code),
    )

    report.section(tr("Catalogue: draft → submit → authority review → published (Art.12)"))
    for code, data in ENTRIES.items():
        provider = stub(data["provider"])
        provider.catalogue.CreateCatalogueEntry(
            catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)), timeout=10
        )
        provider.catalogue.SubmitCatalogueEntry(
            catalogue_pb2.SubmitCatalogueEntryRequest(code=code), timeout=10
        )
        entry = operator.catalogue.PublishCatalogueEntry(
            catalogue_pb2.PublishCatalogueEntryRequest(code=code, comment="审核通过"), timeout=10
        )
        if not code.startswith("mzj."):
            report.line(
                f"{code:<18} v{entry.version} {entry.status:<9} {data['share_type']:<13} "
                f"{data['name']}"
            )
    report.line(
        tr(
            "mzj.<city>.dibao   v1 published unconditional 城乡低保保障对象信息 × {n_city_mzj}",
            n_city_mzj=len(CITY_MZJ),
        )
    )

    consumer = ConsumerClient(
        broker, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code, locale=current()
    )
    by_id = {p["id_number"]: p for p in people}
    marriage_by_id = {m["id_number"]: m for m in marriages}
    sample = [p["id_number"] for p in people[:3]] + ["230102199901019999"]

    report.section(tr("Unconditional share: population registry (Art.22)"))
    req = consumer.file_share_request(
        "gat.population",
        ["name", "gender", "birth_date"],
        ["fetch", "verify"],
        PURPOSE,
        SCENARIO,
        BASIS,
    )
    report.line(
        tr(
            "request {id}… → {status} [{articles}] {reason}",
            id=req.id[:8],
            status=req.status,
            articles=", ".join(req.decision.articles),
            reason=req.decision.reason,
        )
    )
    report.check(
        tr("unconditional request approved by the automatic compliance check"),
        req.status == "approved",
    )
    grant = consumer.get_grant(req.grant_id)
    rows = consumer.fetch(grant.token, sample, ["name", "gender", "birth_date"], PURPOSE)
    ok = True
    for row in rows:
        person = by_id.get(row["key"])
        if person is None:
            ok &= not row["found"]
            report.line(tr("{key}: not found", key=show_key(row["key"])))
            continue
        expected = {
            f: mask_value(policy, grades_of("gat.population")[f], person[f], field_kind=f)
            for f in ("name", "gender", "birth_date")
        }
        ok &= row["found"] and row["fields"] == expected
        report.line(f"{show_key(row['key'])}: {row['fields']}")
    report.check(
        tr("fetched fields equal the registry's values, masked per grade (PRIV-1, PRIV-6)"), ok
    )
    who = by_id[sample[0]]
    match = consumer.verify(
        grant.token, sample[0], {"name": who["name"], "birth_date": who["birth_date"]}, PURPOSE
    )
    wrong = consumer.verify(
        grant.token, sample[0], {"name": who["name"], "birth_date": "1901-01-01"}, PURPOSE
    )
    report.line(
        tr(
            "verify true claim → {matches}; verify altered birth date → {wrong}",
            matches=match["matches"],
            wrong=wrong["matches"],
        )
    )
    report.check(
        tr("verification answers match / no-match without returning values (PRIV-2)"),
        match["found"]
        and all(match["matches"].values())
        and wrong["matches"] == {"name": True, "birth_date": False},
    )

    report.section(tr("Conditional share: marriage registry, provider review (Art.22)"))
    marriage_fields = ["marital_status", "registration_date", "registration_office"]
    req = consumer.file_share_request(
        "mzt.marriage", marriage_fields, ["fetch", "verify"], PURPOSE, SCENARIO, BASIS
    )
    report.line(
        tr(
            "request {id}… → {status}, provider must decide by the end of {due_date} [{articles}]",
            id=req.id[:8],
            status=req.status,
            due_date=req.due_date,
            articles=", ".join(req.decision.articles),
        )
    )
    report.check(
        tr("conditional request waits in the provider's inbox with a working-day due date"),
        req.status == "pending_provider_review" and bool(req.due_date),
    )
    inbox = every_page(
        mzt.sharing.ListShareRequests,
        sharing_pb2.ListShareRequestsRequest(role="provider"),
        "requests",
        timeout=10,
    )
    decided = mzt.sharing.DecideShareRequest(
        sharing_pb2.DecideShareRequestRequest(
            id=inbox.requests[0].id, approve=True, reason="用途与共享条件相符"
        ),
        timeout=10,
    )
    report.line(
        tr(
            "民政厅 approves → {status} [{articles}]",
            status=decided.status,
            articles=", ".join(decided.decision.articles),
        )
    )
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
    report.check(tr("approved conditional data fetched end to end and equal to the registry"), ok)
    # marital status is personal: ask "is this applicant married?" instead of reading it
    ok = True
    for m in sample_marriages:
        answer = consumer.verify(grant.token, m["id_number"], {"marital_status": "已婚"}, PURPOSE)
        ok &= answer["matches"]["marital_status"] == (m["marital_status"] == "已婚")
        report.line(f"{show_key(m['id_number'])}: 已婚? → {answer['matches']['marital_status']}")
    report.check(tr("marital status verified without disclosing it (PRIV-2)"), ok)

    report.section(tr("Refusals cite their article"))
    req = consumer.file_share_request(
        "gat.case-records", ["case_number"], ["fetch"], PURPOSE, SCENARIO, BASIS
    )
    report.line(
        tr(
            "not-shared entry → {status} [{articles}] {reason}",
            status=req.status,
            articles=", ".join(req.decision.articles),
            reason=req.decision.reason,
        )
    )
    report.check(
        tr("not-shared request refused citing the entry's legal basis"),
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
        report.check(tr("a field outside the grant is refused"), False)
    except ClientError as exc:
        report.line(
            tr(
                "fetch household_address outside the grant → {code}: {message}",
                code=exc.code,
                message=exc.message,
            )
        )
        report.check(
            tr("a field outside the grant is refused with the article (Art.30)"),
            exc.code == grpc.StatusCode.PERMISSION_DENIED.name and "Art." in exc.english,
        )
    try:
        consumer.fetch(grant.token, sample[:1], ["name"], "商业营销")
        report.check(tr("a different purpose is refused"), False)
    except ClientError as exc:
        report.line(
            tr("fetch for another purpose → {code}: {message}", code=exc.code, message=exc.message)
        )
        report.check(
            tr("a purpose other than the grant's is refused"), exc.code == "PERMISSION_DENIED"
        )

    report.section(tr("Deadlines (working days, PRC calendar)"))
    deadlines = every_page(
        operator.supervision.ListDeadlines,
        supervision_pb2.ListDeadlinesRequest(include_closed=True),
        "deadlines",
        timeout=10,
    )
    for d in deadlines.deadlines:
        state = (
            f"closed {d.closed_on}{' LATE' if d.closed_late else ''}"
            if d.closed_on
            else f"{d.remaining_working_days} working day(s) left"
        )
        report.line(
            tr(
                "{kind} {subject}… started {started_on}, due {due_on} [{article}]: {state}",
                kind=d.kind,
                subject=d.subject[:8],
                started_on=d.started_on,
                due_on=d.due_on,
                article=d.article,
                state=state,
            )
        )
    report.check(
        tr("the conditional review was tracked on a working-day clock"),
        len(deadlines.deadlines) >= 1,
    )
    remote = auditor.ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest(), timeout=30)
    report.check(
        tr("broker reports its ledger intact ({length} entries)", length=remote.length), remote.ok
    )
