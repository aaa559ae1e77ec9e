"""A broker's domain services on a real database, with a fake node gateway, for service tests."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from tongdao.broker.app import build_services
from tongdao.broker.catalogue.base import DataItemData, EntryData
from tongdao.broker.directory.service import DepartmentData
from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.service import ShareRequestData
from tongdao.crypto.enrolment import certify
from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed, seal
from tongdao.crypto.grant_token import read_grant_token_unverified
from tongdao.crypto.pki import Authority, create_authority
from tongdao.crypto.query_binding import query_associated_data, receipt_signing_bytes, result_digest
from tongdao.crypto.signing import SigningKey
from tongdao.policies.calendar import WorkingDayCalendar
from tongdao.policies.lifecycle import PolicySchedule
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import Unavailable
from tongdao.proto.query import QueryAnswer, Receipt, RelayedQuery


@dataclass
class Party:
    code: str
    region: str
    level: str
    enc: EncryptionKeyPair = field(default_factory=EncryptionKeyPair.generate)
    sig: SigningKey = field(default_factory=SigningKey.generate)


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


class FakeNode:
    """Answers like a node would (opens the query, seals the answer, signs a receipt)."""

    def __init__(self, party: Party, records: dict[str, dict[str, str]]) -> None:
        self.party = party
        self.records = records
        self.down = False
        self.seen: list[RelayedQuery] = []

    def query(self, endpoint: str, query: RelayedQuery) -> QueryAnswer:
        self.seen.append(query)
        if self.down:
            raise Unavailable(f"provider node at {endpoint} is unavailable")
        claims = read_grant_token_unverified(query.grant_token)
        plain = json.loads(
            open_sealed(
                self.party.enc.private_key,
                query.sealed_query,
                query_associated_data(claims.grant_id, query.request_id, query.method, "query"),
            )
        )
        out = [
            {
                "key": k,
                "found": k in self.records,
                "fields": {f: self.records.get(k, {}).get(f) for f in query.fields},
            }
            for k in plain["keys"]
        ]
        sealed = seal(
            claims.consumer_encryption_key_bytes,
            json.dumps({"records": out}).encode(),
            query_associated_data(claims.grant_id, query.request_id, query.method, "result"),
        )
        answered = dt.datetime.now(dt.UTC).isoformat()
        digest = result_digest(sealed)
        signature = self.party.sig.sign(
            receipt_signing_bytes(
                request_id=query.request_id,
                grant_id=claims.grant_id,
                provider=self.party.code,
                result_digest=digest,
                record_count=len(out),
                answered_at=answered,
            )
        )
        return QueryAnswer(
            sealed,
            Receipt(
                query.request_id,
                claims.grant_id,
                self.party.code,
                digest,
                len(out),
                answered,
                signature,
            ),
        )


GAT = Party("hlj.gat", "230000", "province")
MZT = Party("hlj.mzt", "230000", "province")
RSJ = Party("hrb.rsj", "230100", "city")
COUNTY = Party("dl.rsj", "230102", "county")

POPULATION = EntryData(
    code="gat.population",
    name="人口基本信息",
    description="公安厅常住人口基本信息",
    provider="hlj.gat",
    data_items=(
        DataItemData("id_number", "string", "公民身份号码", "sensitive_personal"),
        DataItemData("name", "string", "姓名", "personal"),
        DataItemData("birth_date", "date", "出生日期", "personal"),
        DataItemData("gender", "string", "性别", "general"),
    ),
    key_field="id_number",
    share_type="unconditional",
    data_format="structured",
    update_frequency="daily",
    classification="人口基础库",
    grade="important",
)
MARRIAGE = EntryData(
    code="mzt.marriage",
    name="婚姻登记信息",
    description="民政厅婚姻登记信息",
    provider="hlj.mzt",
    data_items=(
        DataItemData("id_number", "string", "公民身份号码", "sensitive_personal"),
        DataItemData("marital_status", "string", "婚姻状况", "personal"),
    ),
    key_field="id_number",
    share_type="conditional",
    share_scope_levels=("province", "city"),
    permitted_purposes=("最低生活保障资格审核",),
    data_format="structured",
    update_frequency="daily",
    classification="主题库",
    grade="important",
)
CASES = EntryData(
    code="gat.case-records",
    name="案件信息",
    description="公安机关案件信息",
    provider="hlj.gat",
    data_items=(DataItemData("case_number", "string", "案件编号", "general"),),
    key_field="case_number",
    share_type="not_shared",
    legal_basis="《中华人民共和国刑事诉讼法》第一百五十二条",
    open_conditions="涉及侦查秘密",
    data_format="structured",
    update_frequency="daily",
    classification="业务库",
    grade="core",
)


def request_for(entry: EntryData, fields, methods=("fetch",), purpose="最低生活保障资格审核"):
    return ShareRequestData(
        entry_code=entry.code,
        fields=tuple(fields),
        methods=tuple(methods),
        purpose=purpose,
        scenario="城乡低保资格复核",
        legal_basis="《社会救助暂行办法》第十一条",
    )


def local_ca(now: dt.datetime) -> Authority:
    """A CA for one test's world (valid from ``now``, the world's clock)."""
    made = create_authority(now=now)
    return Authority.load(made.certificate_pem, made.private_key_pem)


def certificate_of(ca: Authority, party: Party, now: dt.datetime, name: str = "") -> bytes:
    """``party`` enrolled through ``ca`` with its own keys: the client certificate the
    directory registers it from."""
    issued = certify(
        ca,
        party.code,
        role="department",
        signing_key=party.sig,
        encryption_public_key=party.enc.public_key,
        profile={"name": name or party.code, "region": party.region, "level": party.level},
        valid_days=3650,
        now=now,
    )
    return issued.client_pem


class World:
    """A migrated store, the services, three departments (enrolled through a local CA) and
    published entries."""

    def __init__(
        self,
        database_url: str,
        start: dt.datetime | None = None,
        policies: PolicySchedule | None = None,
    ) -> None:
        self.engine = make_engine(database_url)
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        self.broker_key = SigningKey.generate()
        self.clock = Clock(start or dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC))
        self.ca = local_ca(self.clock.now)
        self.services = build_services(
            policy=load_policy("heilongjiang-2025"),
            calendar=WorkingDayCalendar.default(),
            signing_key=self.broker_key,
            ledger=Ledger(self.broker_key, clock=self.clock),
            settings=BrokerSettings(locale="en"),
            clock=self.clock,
            policies=policies,
            authority_ca_pem=self.ca.certificate_pem,
        )
        self.gat_node = FakeNode(
            GAT, {"230102199001011234": {"name": "张三", "birth_date": "1990-01-01"}}
        )
        self.mzt_node = FakeNode(MZT, {"230102199001011234": {"marital_status": "已婚"}})

    def gateway(self, endpoint: str) -> FakeNode:
        return self.gat_node if endpoint.endswith("1") else self.mzt_node

    def register(
        self, party: Party, endpoint: str = "", *, name: str = "", is_authority: bool = False
    ):
        """Register ``party`` from its certificate, as the authority does."""
        pem = certificate_of(self.ca, party, self.clock.now, name)
        claimed = DepartmentData(
            party.code, "", "", "", endpoint, b"", b"", is_authority=is_authority
        )
        with self.sessions.begin() as s:
            return self.services.directory.register_certified_department(
                s, "authority", pem, claimed
            )

    def setup(self) -> World:
        for party, endpoint in (
            (GAT, "node-gat:1"),
            (MZT, "node-mzt:2"),
            (RSJ, ""),
            (COUNTY, ""),
        ):
            self.register(party, endpoint)
        for entry in (POPULATION, MARRIAGE, CASES):
            with self.sessions.begin() as s:
                self.services.catalogue.create_entry(s, entry.provider, entry)
                self.services.catalogue.submit_entry(s, entry.provider, entry.code)
                self.services.catalogue.publish_entry(s, "authority", entry.code, "ok")
        return self

    def file(self, consumer: Party, data: ShareRequestData):
        with self.sessions.begin() as s:
            return self.services.sharing.file_share_request(s, consumer.code, data)

    def grant(self, grant_id: str):
        with self.sessions.begin() as s:
            return self.services.sharing.get_grant(s, "authority", grant_id)

    def seal_query(
        self, provider: Party, token: str, method: str, payload: dict
    ) -> tuple[str, bytes]:
        claims = read_grant_token_unverified(token)
        request_id = str(uuid.uuid4())
        sealed = seal(
            provider.enc.public_key,
            json.dumps(payload).encode(),
            query_associated_data(claims.grant_id, request_id, method, "query"),
        )
        return request_id, sealed

    def relay(
        self,
        consumer: Party,
        provider: Party,
        token: str,
        fields,
        payload,
        *,
        method="fetch",
        purpose="最低生活保障资格审核",
        node=None,
    ):
        request_id, sealed = self.seal_query(provider, token, method, payload)
        query = RelayedQuery(token, request_id, method, purpose, tuple(fields), sealed)
        return query, self.services.relay.relay_query(
            self.sessions,
            consumer.code,
            query,
            node or (self.gat_node if provider is GAT else self.mzt_node),
        )
