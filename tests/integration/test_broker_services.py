"""Broker domain services on SQLite and PostgreSQL: directory, catalogue, sharing, relay, ledger."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from tests.integration.broker_fixtures import (
    CASES,
    COUNTY,
    GAT,
    MARRIAGE,
    MZT,
    POPULATION,
    RSJ,
    Party,
    World,
    certificate_of,
    request_for,
)
from tongdao.broker.catalogue.base import EntryData
from tongdao.broker.directory.service import DepartmentData
from tongdao.broker.ledger.chain import verify_ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.crypto.enrolment import certify
from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed
from tongdao.crypto.grant_token import verify_grant_token
from tongdao.crypto.query_binding import query_associated_data
from tongdao.proto.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)

KEY = "230102199001011234"


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


X25519_KEY = EncryptionKeyPair.generate().public_key


def test_only_the_authority_registers_departments_and_only_from_a_certificate(world):
    newcomer = Party("new.dept", "230000", "city")
    pem = certificate_of(world.ca, newcomer, world.clock.now)
    blank = DepartmentData("new.dept", "", "", "", "", b"", b"")
    with world.sessions.begin() as s, pytest.raises(PermissionDenied):
        world.services.directory.register_certified_department(s, "hlj.gat", pem, blank)
    # raw keys without a certificate are refused, naming the field that is missing
    raw = DepartmentData("new.dept", "x", "230000", "city", "", X25519_KEY, bytes(32))
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as missing:
        world.services.directory.register_certified_department(s, "authority", b"", raw)
    assert missing.value.field == "certificate_pem" and "required" in missing.value.message
    with world.sessions.begin() as s, pytest.raises(AlreadyExists) as err:
        world.services.directory.register_certified_department(
            s,
            "authority",
            certificate_of(world.ca, GAT, world.clock.now),
            DepartmentData(GAT.code, "", "", "", "", b"", b""),
        )
    assert err.value.field == "department.code"
    low_order = certify(
        world.ca,
        "new.dept",
        role="department",
        signing_key=newcomer.sig,
        encryption_public_key=bytes(32),
        profile={"name": "x", "region": "230000", "level": "city"},
        now=world.clock.now,
    ).client_pem
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as bad:
        world.services.directory.register_certified_department(s, "authority", low_order, blank)
    assert bad.value.field == "department.encryption_public_key"  # a low-order point
    with world.sessions.begin() as s:
        assert (
            world.services.directory.register_certified_department(
                s, "authority", pem, blank
            ).signing_public_key
            == newcomer.sig.verify_key.public_key
        )
    with world.sessions.begin() as s, pytest.raises(NotFound):
        world.services.directory.get_department(s, "no.such")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "Bad Code!"}, "entry.code"),
        ({"name": " "}, "entry.name"),
        ({"key_field": "nope"}, "entry.key_field"),
        ({"share_type": "sometimes"}, "entry.share_type"),
        ({"data_items": ()}, "entry.data_items"),
    ],
)
def test_malformed_entries_are_refused_naming_the_field(world, change, field):
    bad = EntryData(**{**POPULATION.__dict__, "code": "gat.other", **change})
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as err:
        world.services.catalogue.create_entry(s, "hlj.gat", bad)
    assert err.value.field == field


def test_not_shared_without_legal_basis_is_refused(world):
    bad = EntryData(**{**CASES.__dict__, "code": "gat.cases2", "legal_basis": ""})
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as err:
        world.services.catalogue.create_entry(s, "hlj.gat", bad)
    assert "Art.21(3)" in err.value.articles


def test_conditional_without_conditions_is_treated_as_unconditional(world):
    loose = EntryData(
        **{
            **MARRIAGE.__dict__,
            "code": "mzt.loose",
            "share_scope_levels": (),
            "permitted_purposes": (),
        }
    )
    with world.sessions.begin() as s:
        entry = world.services.catalogue.create_entry(s, "hlj.mzt", loose)
        assert entry.content["effective_share_type"] == "unconditional"
        assert "Art.21(2)" in entry.content["validation"]["articles"]


def test_unconditional_request_is_approved_with_a_signed_grant(world):
    req = world.file(RSJ, request_for(POPULATION, ["name", "birth_date"], ["fetch", "verify"]))
    assert req.status == "approved"
    assert req.decision["articles"]
    grant = world.grant(req.grant_id)
    claims = verify_grant_token(
        grant.token, world.broker_key.verify_key, now=int(world.clock().timestamp())
    )
    assert claims.consumer == "hrb.rsj" and claims.entry_version == 1
    assert claims.fields == ("name", "birth_date") and claims.methods == ("fetch", "verify")


def test_conditional_request_goes_to_the_provider_with_a_working_day_clock(world):
    req = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    assert req.status == "pending_provider_review"
    # filed Mon 2026-09-28 (Beijing): 1 working day -> Tue 2026-09-29
    assert req.due_date == dt.date(2026, 9, 29)
    with world.sessions.begin() as s:
        inbox = world.services.sharing.list_share_requests(
            s, "hlj.mzt", "provider", "pending_provider_review"
        )
        assert [r.id for r in inbox] == [req.id]
        with pytest.raises(PermissionDenied):
            world.services.sharing.decide_share_request(s, "hlj.gat", req.id, True, "")
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as err:
        world.services.sharing.decide_share_request(s, "hlj.mzt", req.id, False, "")
    assert err.value.field == "reason"
    with world.sessions.begin() as s:
        decided = world.services.sharing.decide_share_request(
            s, "hlj.mzt", req.id, True, "用途符合"
        )
        assert decided.status == "approved" and decided.grant_id
    with world.sessions.begin() as s, pytest.raises(FailedPrecondition):
        world.services.sharing.decide_share_request(s, "hlj.mzt", req.id, True, "again")


def test_provider_refusal_states_its_reason(world):
    req = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    with world.sessions.begin() as s:
        decided = world.services.sharing.decide_share_request(
            s, "hlj.mzt", req.id, False, "数据尚在核验"
        )
    assert decided.status == "refused" and decided.grant_id is None
    assert decided.decision["articles"]


def test_not_shared_request_is_refused_citing_the_legal_basis(world):
    req = world.file(RSJ, request_for(CASES, ["case_number"]))
    assert req.status == "refused" and req.grant_id is None
    assert "Art.21(3)" in req.decision["articles"]
    assert "刑事诉讼法" in req.decision["reason"]


def test_out_of_scope_requests_are_refused(world):
    unknown_field = world.file(RSJ, request_for(POPULATION, ["salary"]))
    assert unknown_field.status == "refused" and "salary" in unknown_field.decision["reason"]
    county = world.file(COUNTY, request_for(MARRIAGE, ["marital_status"]))
    assert county.status == "refused"  # county level is outside the entry's scope
    purpose = world.file(RSJ, request_for(MARRIAGE, ["marital_status"], purpose="商业营销"))
    assert purpose.status == "refused"


def test_request_edge_validation(world):
    with pytest.raises(NotFound):
        world.file(
            RSJ, request_for(EntryData(**{**POPULATION.__dict__, "code": "no.entry"}), ["name"])
        )
    with pytest.raises(InvalidArgument) as err:
        world.file(RSJ, request_for(POPULATION, ["name"], purpose="  "))
    assert err.value.field == "request.purpose"
    with pytest.raises(InvalidArgument) as err:
        world.file(RSJ, request_for(POPULATION, ["name"], methods=["teleport"]))
    assert err.value.field == "request.methods"


def _approved_population_grant(world):
    req = world.file(RSJ, request_for(POPULATION, ["name", "birth_date"], ["fetch", "verify"]))
    return world.grant(req.grant_id)


def test_relay_records_only_ciphertext_and_counts_the_use(world):
    grant = _approved_population_grant(world)
    query, (answer, sequence) = world.relay(
        RSJ, GAT, grant.token, ["name", "birth_date"], {"keys": [KEY]}
    )
    result = json.loads(
        open_sealed(
            RSJ.enc.private_key,
            answer.sealed_result,
            query_associated_data(grant.id, query.request_id, "fetch", "result"),
        )
    )
    assert result["records"][0]["fields"]["name"] == "张三"
    assert world.grant(grant.id).used == 1
    with world.sessions.begin() as s:
        rows = s.execute(select(LedgerEntry)).scalars().all()
        dump = "\n".join(f"{r.kind} {r.subject} {r.payload_json}" for r in rows)
        last = s.get(LedgerEntry, sequence)
        assert last.kind == "query.relayed"
        assert json.loads(last.payload_json)["receipt_verified"] is True
    for plaintext in (KEY, "张三", "1990-01-01"):
        assert plaintext not in dump


def test_relay_refuses_wrong_consumer_purpose_field_and_method(world):
    grant = _approved_population_grant(world)
    with pytest.raises(PermissionDenied):
        world.relay(MZT, GAT, grant.token, ["name"], {"keys": [KEY]})
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]}, purpose="别的用途")
    assert err.value.field == "purpose"
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, grant.token, ["name", "gender"], {"keys": [KEY]})
    assert err.value.field == "fields" and "Art.30" in err.value.articles
    with pytest.raises(InvalidArgument) as err:  # PSI is a streamed query, not a unary one
        world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]}, method="intersection")
    assert err.value.field == "method" and "QueryStream" in err.value.message
    with pytest.raises(PermissionDenied):
        world.relay(RSJ, GAT, grant.token[:-4] + "AAAA", ["name"], {"keys": [KEY]})
    assert world.gat_node.seen == []  # nothing reached the node


def test_expired_grant_is_refused(world):
    grant = _approved_population_grant(world)
    world.clock.now = world.clock.now + dt.timedelta(days=400)
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]})
    assert "expired" in err.value.message


def test_node_down_is_unavailable_and_recorded_once_without_counting(world):
    grant = _approved_population_grant(world)
    world.gat_node.down = True
    with world.sessions.begin() as s:
        before = s.execute(text("select count(*) from ledger_entries")).scalar_one()
    with pytest.raises(Unavailable):
        world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]})
    with world.sessions.begin() as s:
        rows = s.execute(select(LedgerEntry).where(LedgerEntry.sequence > before)).scalars().all()
        assert [r.kind for r in rows] == ["query.failed"]
        assert json.loads(rows[0].payload_json)["status"] == "UNAVAILABLE"
        assert verify_ledger(s, world.broker_key.verify_key).ok
    assert world.grant(grant.id).used == 0


def test_ledger_verifies_and_detects_any_single_alteration(world):
    grant = _approved_population_grant(world)
    world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]})
    with world.sessions.begin() as s:
        result = verify_ledger(s, world.broker_key.verify_key)
        assert result.ok, result.problem
        length = result.length
    assert length >= 10
    tampering = [
        ("payload_json", "'{}'"),
        ("kind", "'tampered'"),
        ("actor", "'someone'"),
        ("subject", "'other'"),
        ("recorded_at", "'2000-01-01T00:00:00+00:00'"),
    ]
    for sequence in (1, length // 2, length):
        for column, value in tampering:
            with world.engine.connect() as conn:
                trans = conn.begin()
                conn.execute(
                    text(
                        f"update ledger_entries set {column} = {value} where sequence = {sequence}"
                    )
                )
                with world.sessions(bind=conn) as s:
                    broken = verify_ledger(s, world.broker_key.verify_key)
                trans.rollback()
            assert not broken.ok, (sequence, column)
    # deleting the last entry is caught by the signed head
    with world.engine.connect() as conn:
        trans = conn.begin()
        conn.execute(text(f"delete from ledger_entries where sequence = {length}"))
        with world.sessions(bind=conn) as s:
            assert not verify_ledger(s, world.broker_key.verify_key).ok
        trans.rollback()


def test_overdue_report_and_late_closure(world):
    req = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    with world.sessions.begin() as s:
        items = world.services.supervision.list_deadlines(s, "authority")
        assert [(d.subject, remaining) for d, remaining in items] == [(req.id, 1)]
        assert world.services.supervision.list_deadlines(s, "authority", overdue_only=True) == []
    # National Day holiday: 2026-10-01..07 off; due 09-29, so on 10-08 it is overdue
    world.clock.now = dt.datetime(2026, 10, 8, 2, 0, tzinfo=dt.UTC)
    with world.sessions.begin() as s:
        overdue = world.services.supervision.list_deadlines(s, "authority", overdue_only=True)
        assert [d.subject for d, _ in overdue] == [req.id]
        assert overdue[0][1] < 0
        assert world.services.supervision.list_deadlines(s, "hlj.gat") == []  # not gat's item
        world.services.sharing.decide_share_request(s, "hlj.mzt", req.id, True, "ok")
    with world.sessions.begin() as s:
        closed = world.services.supervision.list_deadlines(
            s, "authority", overdue_only=True, include_closed=True
        )
        assert closed[0][0].closed_late is True


def _submitted(world, entry):
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, entry.provider, entry)
        world.services.catalogue.submit_entry(s, entry.provider, entry.code)


def test_return_with_comments_starts_the_revision_clock(world):
    draft = EntryData(**{**POPULATION.__dict__, "code": "gat.households"})
    _submitted(world, draft)
    with world.sessions.begin() as s, pytest.raises(InvalidArgument):
        world.services.catalogue.return_entry(s, "authority", draft.code, " ")
    with world.sessions.begin() as s:
        entry = world.services.catalogue.return_entry(
            s, "authority", draft.code, "请补充数据项说明"
        )
        assert entry.status == "returned"
        [(deadline, remaining)] = [
            (d, r)
            for d, r in world.services.supervision.list_deadlines(s, "authority")
            if d.subject == draft.code
        ]
    # returned Mon 2026-09-28; 5 working days: 09-29, 09-30, (holidays), 10-08, 10-09, Sat 10-10
    assert (deadline.kind, deadline.working_days, deadline.article) == (
        "catalogue_revision",
        5,
        "Art.12",
    )
    assert deadline.due_on == dt.date(2026, 10, 10) and remaining == 5
    revised = EntryData(**{**draft.__dict__, "description": "补充后的说明"})
    with world.sessions.begin() as s:
        world.services.catalogue.revise_entry(s, "hlj.gat", revised)
        world.services.catalogue.submit_entry(s, "hlj.gat", draft.code)
        closed = [
            d
            for d, _ in world.services.supervision.list_deadlines(
                s, "authority", include_closed=True
            )
            if d.subject == draft.code
        ]
        assert closed[0].closed_on is not None and closed[0].closed_late is False


def test_update_clock_with_one_extension(world):
    with world.sessions.begin() as s:
        with pytest.raises(PermissionDenied):
            world.services.catalogue.require_update(s, "hlj.gat", POPULATION.code, "法律修改")
        world.services.catalogue.require_update(
            s, "authority", POPULATION.code, "《居民身份证法》修改"
        )
        [deadline] = [
            d
            for d, _ in world.services.supervision.list_deadlines(s, "authority")
            if d.kind == "catalogue_update"
        ]
        assert deadline.due_on == dt.date(2026, 10, 8)  # 3 working days after Mon 09-28
        deadline_id = deadline.id
    with world.sessions.begin() as s, pytest.raises(FailedPrecondition):
        world.services.supervision.extend_deadline(
            s, "authority", deadline_id, " "
        )  # no stated basis
    with world.sessions.begin() as s:
        extended = world.services.supervision.extend_deadline(
            s, "authority", deadline_id, "省政策文件要求同步调整"
        )
        # 5 more after Thu 10-08: 10-09, Sat 10-10 (make-up day), 10-12, 10-13, 10-14
        assert extended.extensions == 1 and extended.due_on == dt.date(2026, 10, 14)
    with world.sessions.begin() as s, pytest.raises(FailedPrecondition) as err:
        world.services.supervision.extend_deadline(s, "authority", deadline_id, "again")
    assert "Art.15" in err.value.articles


def test_revision_keeps_the_published_version_in_force_and_withdrawn_fields_are_not_served(world):
    grant = _approved_population_grant(world)  # on version 1, fields name and birth_date
    smaller = EntryData(
        **{
            **POPULATION.__dict__,
            "data_items": tuple(i for i in POPULATION.data_items if i.name != "birth_date"),
        }
    )
    with world.sessions.begin() as s:
        world.services.catalogue.revise_entry(s, "hlj.gat", smaller)
    # while version 2 is drafted, requests still see version 1 (birth_date exists)
    assert world.file(RSJ, request_for(POPULATION, ["birth_date"])).status == "approved"
    with world.sessions.begin() as s:
        world.services.catalogue.submit_entry(s, "hlj.gat", POPULATION.code)
        world.services.catalogue.publish_entry(s, "authority", POPULATION.code, "v2")
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, grant.token, ["birth_date"], {"keys": [KEY]})
    assert "withdrawn in version 2" in err.value.message
    _, (answer, _) = world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]})
    assert answer.receipt.record_count == 1
