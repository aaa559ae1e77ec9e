"""Separated roles and people's accounts over real gRPC on SQLite and PostgreSQL: the role table
enforced for every RPC, unregistered certificates, login, lockout, password policy, TOTP,
session expiry, and the person named in the ledger and in decisions."""

from __future__ import annotations

import json

import grpc
import pyotp
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.integration.accounts_fixtures import (
    CHIEF,
    INITIAL,
    PASSWORD,
    ROGUE,
    RSJ,
    make_home,
    start,
)
from tongdao.home import AUTHORITY
from tongdao.policies.access import MARKERS
from tongdao.policies.loader import load_policy
from tongdao.proto.stubs import BROKER_SERVICES
from tongdao.v1 import accounts_pb2, directory_pb2, ledger_pb2, sharing_pb2

RULES = load_policy().access_rules
ACCOUNTS = load_policy().account_rules


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return make_home(tmp_path_factory.mktemp("home"))


@pytest.fixture
def broker(home, database_url):
    b = start(home, database_url)
    yield b
    b.running.stop(0)


def refusal(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def ledger(broker):
    reply = broker.auditor().ledger.GetLedger(
        ledger_pb2.GetLedgerRequest(from_sequence=1, limit=10_000), timeout=10
    )
    return [(e.kind, e.actor, e.subject, json.loads(e.payload_json)) for e in reply.entries]


def call_raw(channel, method, *, client_streaming, server_streaming):
    """Call ``method`` with an empty request, whatever its shape; raise its RpcError."""
    ident = (lambda b: b, lambda b: b)
    if client_streaming and server_streaming:
        list(channel.stream_stream(method, *ident)(iter([b""]), timeout=10))
    elif server_streaming:
        list(channel.unary_stream(method, *ident)(b"", timeout=10))
    else:
        channel.unary_unary(method, *ident)(b"", timeout=10)


def broker_rpcs():
    """(full method name, client streaming, server streaming) of every broker-served RPC."""
    from tongdao.v1 import (
        accounts_pb2,
        catalogue_pb2,
        directory_pb2,
        ledger_pb2,
        query_pb2,
        sharing_pb2,
        supervision_pb2,
    )

    modules = (
        accounts_pb2,
        catalogue_pb2,
        directory_pb2,
        ledger_pb2,
        query_pb2,
        sharing_pb2,
        supervision_pb2,
    )
    for module in modules:
        for service in module.DESCRIPTOR.services_by_name.values():
            if service.full_name not in BROKER_SERVICES:
                continue
            for m in service.methods:
                yield f"/{service.full_name}/{m.name}", m.client_streaming, m.server_streaming


# ---------------------------------------------------------------- certificates and roles


def test_unregistered_certificate_reaches_nothing_but_health(broker):
    channel = broker.channel(ROGUE.code)
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service="tongdao.v1.Ledger"), timeout=10)
    assert status.status == health_pb2.HealthCheckResponse.SERVING
    code, msg = refusal(
        lambda: broker.stub(ROGUE.code).ledger.VerifyLedger(
            ledger_pb2.VerifyLedgerRequest(), timeout=10
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED and "rogue.dept" in msg
    for method, cs, ss in broker_rpcs():
        with pytest.raises(grpc.RpcError) as err:
            call_raw(channel, method, client_streaming=cs, server_streaming=ss)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, method
        assert "names no registered department" in err.value.details(), method


@pytest.mark.parametrize(
    ("party", "role"),
    [
        (AUTHORITY, "administrator"),
        (AUTHORITY, "operator"),
        (AUTHORITY, "auditor"),
        (RSJ.code, "operator"),
        (RSJ.code, "auditor"),
    ],
)
def test_each_role_is_refused_every_rpc_outside_its_table_naming_the_role(broker, party, role):
    username = f"{role}.{party.replace('.', '-')}"
    broker.create_person(username, party, role)
    token = broker.login(username, party)
    channel = broker.channel(party, token)
    refused = 0
    for method, cs, ss in broker_rpcs():
        needed = RULES.required(method)
        assert needed is not None, method
        if role in needed or any(r in MARKERS for r in needed):
            continue
        with pytest.raises(grpc.RpcError) as err:
            call_raw(channel, method, client_streaming=cs, server_streaming=ss)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, method
        details = err.value.details()
        roles = needed[-1] if len(needed) == 1 else f"{', '.join(needed[:-1])} or {needed[-1]}"
        assert f"needs the role {roles}" in details, (method, details)
        assert f"{username} ({party}) holds {role}" in details
        refused += 1
    assert refused > 0
    # inside its table the role gets past the check (the handler answers, whatever it says)
    allowed = next(m for m, cs, ss in broker_rpcs() if role in (RULES.required(m) or ()))
    method = next((m, cs, ss) for m, cs, ss in broker_rpcs() if m == allowed)
    try:
        call_raw(channel, method[0], client_streaming=method[1], server_streaming=method[2])
    except grpc.RpcError as exc:
        assert "needs the role" not in (exc.details() or "")


def test_auditor_reads_the_ledger_and_changes_nothing(broker):
    broker.create_person("shen.ji", AUTHORITY, "auditor")
    auditor = broker.stub(AUTHORITY, broker.login("shen.ji", AUTHORITY))
    page = auditor.ledger.GetLedger(ledger_pb2.GetLedgerRequest(limit=10), timeout=10)
    assert page.length > 0
    assert auditor.ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest(), timeout=10).ok
    code, msg = refusal(
        lambda: auditor.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(department=directory_pb2.Department()),
            timeout=10,
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "RegisterDepartment needs the role administrator" in msg and "GB/T 39477" in msg


def test_bare_authority_certificate_holds_no_role_once_an_administrator_exists(broker):
    bare = broker.stub(AUTHORITY)
    me = bare.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10)
    assert (me.person, list(me.roles)) == ("", [])
    calls = {
        "administrator": lambda: bare.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(code=ROGUE.code),
                certificate_pem=broker.home.tls(ROGUE.code).certificate_pem,
            ),
            timeout=10,
        ),
        "operator": lambda: bare.sharing.DecideShareRequest(
            sharing_pb2.DecideShareRequestRequest(id="x", approve=True), timeout=10
        ),
        "auditor": lambda: bare.ledger.GetLedger(ledger_pb2.GetLedgerRequest(), timeout=10),
    }
    for role, call in calls.items():
        code, msg = refusal(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED, role
        assert f"needs the role {role}" in msg and "authority's service identity" in msg, msg
        assert "holds no role" in msg and "tongdao login --as authority" in msg
    assert broker.admin().accounts.WhoAmI(accounts_pb2.WhoAmIRequest()).roles == ["administrator"]


def test_bootstrap_ends_for_good_with_the_first_administrator(home, database_url):
    broker = start(home, database_url, founded=False)
    try:
        bare = broker.stub(AUTHORITY)
        roles = bare.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10).roles
        assert sorted(roles) == sorted(RULES.bootstrap["authority"])
        broker.found()  # the bare certificate creates the first administrator, and no more
        assert list(bare.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10).roles) == []
        admin = broker.admin()
        admin.accounts.DisableAccount(accounts_pb2.DisableAccountRequest(username=CHIEF))
        assert list(bare.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10).roles) == []
        code, msg = refusal(
            lambda: bare.accounts.CreateAccount(
                accounts_pb2.CreateAccountRequest(
                    username="second.admin",
                    party=AUTHORITY,
                    role="administrator",
                    display_name="x",
                    initial_password=INITIAL,
                ),
                timeout=10,
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED and "needs the role administrator" in msg
    finally:
        broker.running.stop(0)


def test_administrator_cannot_decide_and_the_refusal_names_the_person(broker):
    admin = broker.admin()
    code, msg = refusal(
        lambda: admin.sharing.DecideShareRequest(
            sharing_pb2.DecideShareRequestRequest(id="x", approve=True), timeout=10
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    needed = "DecideShareRequest needs the role operator"
    assert f"{needed}; {CHIEF} (authority) holds administrator" in msg
    refused = [p for k, _, s, p in ledger(broker) if k == "refusal" and s == "DecideShareRequest"]
    assert refused[-1]["responsible"] == {
        "department": AUTHORITY,
        "person": CHIEF,
        "identity": "person",
    }
    # the auditor reads and verifies, and changes nothing
    auditor = broker.auditor()
    assert auditor.ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest(), timeout=10).ok
    for call in (
        lambda: auditor.sharing.DecideShareRequest(
            sharing_pb2.DecideShareRequestRequest(id="x", approve=True), timeout=10
        ),
        lambda: auditor.accounts.DisableAccount(
            accounts_pb2.DisableAccountRequest(username=CHIEF), timeout=10
        ),
    ):
        code, msg = refusal(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED and "holds auditor" in msg


def test_department_person_cannot_hold_an_authority_role(broker):
    code, msg = refusal(
        lambda: broker.admin().accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                username="wang.wu",
                party=RSJ.code,
                role="administrator",
                display_name="王五",
                initial_password=INITIAL,
            ),
            timeout=10,
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("account.role")


# ---------------------------------------------------------------- login and lockout


def test_lockout_after_failures_then_unlock_after_the_period(broker):
    broker.create_person("li.si", RSJ.code, "operator")
    stub = broker.stub(RSJ.code)

    def login(password):
        return stub.accounts.Login(
            accounts_pb2.LoginRequest(username="li.si", password=password), timeout=10
        )

    for attempt in range(1, ACCOUNTS.max_failures):
        code, msg = refusal(lambda: login("Wrong#Guess-0001"))
        assert code == grpc.StatusCode.UNAUTHENTICATED, attempt
        assert msg == "password: wrong username or password"
    code, msg = refusal(lambda: login("Wrong#Guess-0001"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "locked until" in msg
    code, msg = refusal(lambda: login(PASSWORD))  # the right password does not help now
    assert code == grpc.StatusCode.PERMISSION_DENIED and "locked until" in msg
    kinds = [k for k, _, subject, _ in ledger(broker) if subject == "li.si"]
    assert kinds.count("account.login_failed") == ACCOUNTS.max_failures
    assert kinds.count("account.locked") == 1 and "account.login_refused" in kinds
    broker.clock.advance(minutes=ACCOUNTS.lockout_minutes - 1)
    assert refusal(lambda: login(PASSWORD))[0] == grpc.StatusCode.PERMISSION_DENIED
    broker.clock.advance(minutes=1, seconds=1)
    assert login(PASSWORD).session_token.startswith("tds1.")


def test_login_with_another_partys_certificate_or_unknown_name_is_a_plain_refusal(broker):
    broker.create_person("zhao.liu", RSJ.code, "auditor")
    for party, username in ((AUTHORITY, "zhao.liu"), (RSJ.code, "nobody.here")):
        code, msg = refusal(lambda p=party, u=username: broker.login(u, p))
        assert (code, msg) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "password: wrong username or password",
        )
    code, msg = refusal(lambda: broker.login("BAD NAME", RSJ.code))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("username")


def test_initial_password_and_expired_password_must_be_changed(broker):
    admin = broker.admin()
    admin.accounts.CreateAccount(
        accounts_pb2.CreateAccountRequest(
            username="chen.qi",
            party=RSJ.code,
            role="operator",
            display_name="陈七",
            initial_password=INITIAL,
        ),
        timeout=10,
    )
    code, msg = refusal(lambda: broker.login("chen.qi", RSJ.code, INITIAL))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "initial password" in msg
    broker.stub(RSJ.code).accounts.SetPassword(
        accounts_pb2.SetPasswordRequest(
            username="chen.qi", current_password=INITIAL, new_password=PASSWORD
        ),
        timeout=10,
    )
    assert broker.login("chen.qi", RSJ.code)
    broker.clock.advance(days=ACCOUNTS.max_age_days, seconds=1)
    code, msg = refusal(lambda: broker.login("chen.qi", RSJ.code))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert f"older than {ACCOUNTS.max_age_days} days" in msg and "[Art.38]" in msg


def test_password_policy_refusals_name_the_rule(broker):
    broker.create_person("sun.ba", RSJ.code, "operator")
    stub = broker.stub(RSJ.code)
    current = PASSWORD

    def change(new):
        stub.accounts.SetPassword(
            accounts_pb2.SetPasswordRequest(
                username="sun.ba", current_password=current, new_password=new
            ),
            timeout=10,
        )

    cases = [
        ("Sh0rt!", f"at least {ACCOUNTS.min_length} characters"),
        ("alllowercaseletters", "must mix at least"),
        ("P@ssw0rd123", f"at least {ACCOUNTS.min_length} characters"),
        ("Password@2026", "list of common passwords"),
        ("Sun.ba#Harbin-2026", "must not contain the account name"),
        (PASSWORD, f"last {ACCOUNTS.history} passwords"),
    ]
    for new, problem in cases:
        code, msg = refusal(lambda n=new: change(n))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, new
        assert msg.startswith("new_password: ") and problem in msg, (new, msg)
        assert new not in msg
    used = [PASSWORD]
    for n in range(1, ACCOUNTS.history + 1):
        new = f"Rotate#{n:02d}-Songhua"
        change(new)
        current = new
        used.append(new)
    # the last `history` passwords (the current one included) are refused; older ones return
    for old in used[-ACCOUNTS.history :]:
        code, msg = refusal(lambda o=old: change(o))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "last" in msg, old
    change(used[0])


def test_totp_second_factor(broker):
    broker.create_person("zhou.jiu", RSJ.code, "operator")
    person = broker.stub(RSJ.code, broker.login("zhou.jiu", RSJ.code))
    enrolment = person.accounts.EnrolTotp(accounts_pb2.EnrolTotpRequest(), timeout=10)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrolment.secret)
    # a code from an hour away is not current
    stale = totp.at(broker.clock.now.timestamp() - 3600)
    code, msg = refusal(
        lambda: person.accounts.ConfirmTotp(accounts_pb2.ConfirmTotpRequest(code=stale))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("code")
    confirmed = person.accounts.ConfirmTotp(
        accounts_pb2.ConfirmTotpRequest(code=totp.at(broker.clock.now)), timeout=10
    )
    assert confirmed.totp_enabled
    code, msg = refusal(lambda: broker.login("zhou.jiu", RSJ.code))
    assert code == grpc.StatusCode.UNAUTHENTICATED and msg.startswith("totp_code")
    code, msg = refusal(lambda: broker.login("zhou.jiu", RSJ.code, totp=stale))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    # the code that confirmed the factor is used up: the next one logs in
    confirming = totp.at(broker.clock.now)
    code, msg = refusal(lambda: broker.login("zhou.jiu", RSJ.code, totp=confirming))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "already used" in msg
    broker.clock.advance(seconds=totp.interval)
    assert broker.login("zhou.jiu", RSJ.code, totp=totp.at(broker.clock.now))


def test_totp_secret_is_sealed_at_rest_and_a_code_is_good_once(broker, database_url):
    from sqlalchemy import select

    from tongdao.broker.directory.models import Account
    from tongdao.broker.kernel.db import make_engine, session_factory

    broker.create_person("lu.shi", RSJ.code, "operator")
    person = broker.stub(RSJ.code, broker.login("lu.shi", RSJ.code))
    secret = person.accounts.EnrolTotp(accounts_pb2.EnrolTotpRequest(), timeout=10).secret
    totp = pyotp.TOTP(secret)
    person.accounts.ConfirmTotp(
        accounts_pb2.ConfirmTotpRequest(code=totp.at(broker.clock.now)), timeout=10
    )
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as s:
            stored, step = s.execute(
                select(Account.totp_secret, Account.totp_last_step).where(
                    Account.username == "lu.shi"
                )
            ).one()
    finally:
        engine.dispose()
    assert stored.startswith("v1:") and secret not in stored and secret.lower() not in stored
    assert step == totp.timecode(broker.clock.now)
    broker.clock.advance(seconds=totp.interval)
    code = totp.at(broker.clock.now)
    assert broker.login("lu.shi", RSJ.code, totp=code)
    # the same code again, within its window: refused and on the record
    code_, msg = refusal(lambda: broker.login("lu.shi", RSJ.code, totp=code))
    assert code_ == grpc.StatusCode.UNAUTHENTICATED
    assert msg.startswith("totp_code: this code was already used")
    failed = [p for k, _, s, p in ledger(broker) if k == "account.login_failed" and s == "lu.shi"]
    assert failed[-1]["reason"] == "TOTP code already used"
    assert all(secret not in json.dumps(p) for *_, p in ledger(broker))
    # an earlier step than the last accepted is refused too; the next step is accepted
    broker.clock.advance(seconds=totp.interval)
    assert (
        refusal(
            lambda: broker.login(
                "lu.shi", RSJ.code, totp=totp.at(broker.clock.now, counter_offset=-1)
            )
        )[0]
        == grpc.StatusCode.UNAUTHENTICATED
    )
    assert broker.login("lu.shi", RSJ.code, totp=totp.at(broker.clock.now))
    # a secret stored in the clear (before sealing) still works once, and is sealed by that use
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as s:
            s.get(Account, "lu.shi").totp_secret = secret
        broker.clock.advance(seconds=totp.interval)
        assert broker.login("lu.shi", RSJ.code, totp=totp.at(broker.clock.now))
        with session_factory(engine).begin() as s:
            assert s.get(Account, "lu.shi").totp_secret.startswith("v1:")
    finally:
        engine.dispose()


def test_session_expires_and_logout_ends_it(broker):
    broker.create_person("wu.shi", AUTHORITY, "operator")
    token = broker.login("wu.shi", AUTHORITY)
    person = broker.stub(AUTHORITY, token)
    me = person.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10)
    assert (me.party, me.person, list(me.roles)) == (AUTHORITY, "wu.shi", ["operator"])
    # the session belongs to the authority's certificate, not to a department's
    code, _ = refusal(
        lambda: broker.stub(RSJ.code, token).accounts.WhoAmI(accounts_pb2.WhoAmIRequest())
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    broker.clock.advance(minutes=ACCOUNTS.session_minutes, seconds=1)
    code, msg = refusal(lambda: person.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "expired" in msg
    assert "wu.shi (authority)" in msg  # the refusal names the person and the party
    expired = [p for k, _, s, p in ledger(broker) if k == "refusal" and s == "WhoAmI"]
    assert expired[-1]["responsible"]["person"] == "wu.shi"
    token = broker.login("wu.shi", AUTHORITY)
    person = broker.stub(AUTHORITY, token)
    assert person.accounts.Logout(accounts_pb2.LogoutRequest(), timeout=10).ended
    code, msg = refusal(lambda: person.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=10))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "ended" in msg


def test_disabled_account_loses_its_sessions(broker):
    broker.create_person("qian.yi", RSJ.code, "auditor")
    person = broker.stub(RSJ.code, broker.login("qian.yi", RSJ.code))
    broker.admin().accounts.DisableAccount(
        accounts_pb2.DisableAccountRequest(username="qian.yi"), timeout=10
    )
    assert refusal(lambda: person.accounts.WhoAmI(accounts_pb2.WhoAmIRequest()))[0] == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    code, msg = refusal(lambda: broker.login("qian.yi", RSJ.code))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "disabled" in msg


# ---------------------------------------------------------------- responsibility in records


def test_every_ledger_entry_names_the_department_and_the_person(broker):
    broker.create_person("admin.li", AUTHORITY, "administrator")
    admin = broker.stub(AUTHORITY, broker.login("admin.li", AUTHORITY))
    admin.directory.RegisterDepartment(
        directory_pb2.RegisterDepartmentRequest(
            department=directory_pb2.Department(code=ROGUE.code),
            certificate_pem=broker.home.tls(ROGUE.code).certificate_pem,
        ),
        timeout=10,
    )
    entries = ledger(broker)
    assert all("responsible" in payload for *_, payload in entries)
    by_person = next(
        p for k, _, s, p in entries if k == "department.registered" and s == ROGUE.code
    )
    assert by_person["responsible"] == {
        "department": AUTHORITY,
        "person": "admin.li",
        "identity": "person",
    }
    # the fixture registered hrb.rsj with the certificate alone: the service identity
    by_service = next(p for k, _, s, p in entries if k == "department.registered" and s == RSJ.code)
    assert by_service["responsible"] == {
        "department": AUTHORITY,
        "person": "",
        "identity": "service identity",
    }


def test_decisions_name_the_department_and_the_person(broker):
    from tongdao.commands.catalogue import entry_from_dict
    from tongdao.demo import ENTRIES
    from tongdao.node.client import ConsumerClient
    from tongdao.v1 import catalogue_pb2, sharing_pb2

    provider = broker.stub("hlj.gat")  # the provider's service identity (no login)
    provider.catalogue.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(ENTRIES["gat.population"])),
        timeout=10,
    )
    provider.catalogue.SubmitCatalogueEntry(
        catalogue_pb2.SubmitCatalogueEntryRequest(code="gat.population"), timeout=10
    )
    broker.create_person("op.zhang", AUTHORITY, "operator")
    operator = broker.stub(AUTHORITY, broker.login("op.zhang", AUTHORITY))
    operator.catalogue.PublishCatalogueEntry(
        catalogue_pb2.PublishCatalogueEntryRequest(code="gat.population"), timeout=10
    )
    broker.create_person("xu.ming", RSJ.code, "operator")
    token = broker.login("xu.ming", RSJ.code)
    with ConsumerClient(
        broker.running.target,
        broker.home.tls(RSJ.code),
        broker.home.encryption_keys(RSJ.code),
        RSJ.code,
        session_token=token,
    ) as client:
        filed = client.file_share_request(
            "gat.population",
            ["name"],
            ["verify"],
            "低保资格复核",
            "低保复核",
            "《社会救助暂行办法》",
        )
        request = client.broker.sharing.GetShareRequest(
            sharing_pb2.GetShareRequestRequest(id=filed.id), timeout=10
        )
    assert request.status == "approved"
    assert (request.decision.department, request.decision.person) == (RSJ.code, "xu.ming")
    entries = ledger(broker)
    published = next(p for k, _, s, p in entries if k == "catalogue_entry.published")
    assert published["responsible"]["person"] == "op.zhang"
    created = next(p for k, _, s, p in entries if k == "catalogue_entry.drafted")
    assert created["responsible"] == {
        "department": "hlj.gat",
        "person": "",
        "identity": "service identity",
    }
    decided = [p for k, _, s, p in entries if k.startswith("share_request")]
    assert decided and all(p["responsible"]["person"] == "xu.ming" for p in decided)


def test_a_refusal_by_the_handler_is_recorded_naming_the_person(broker):
    broker.create_person("he.shen", RSJ.code, "auditor")
    person = broker.stub(RSJ.code, broker.login("he.shen", RSJ.code))
    # the role table lets an auditor read the ledger; the ledger serves only the authority
    code, msg = refusal(lambda: person.ledger.GetLedger(ledger_pb2.GetLedgerRequest(), timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "authority" in msg
    refused = [p for k, a, s, p in ledger(broker) if k == "refusal" and s == "GetLedger"]
    assert refused and refused[-1]["responsible"] == {
        "department": RSJ.code,
        "person": "he.shen",
        "identity": "person",
    }
