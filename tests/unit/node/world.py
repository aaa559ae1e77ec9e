"""A node engine over a small CSV, with keys, a clock and helpers to build relayed queries.

No server and no broker: the tests call :class:`node.engine.NodeEngine` directly, acting as the
broker with the broker's signing key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed, seal, seal_authenticated
from tongdao.crypto.filter_shape import filter_shape, pseudonym_key
from tongdao.crypto.grant_token import GrantClaims, b64url_encode, issue_grant_token
from tongdao.crypto.query_binding import QUERY, RESULT, query_associated_data
from tongdao.crypto.signing import SigningKey
from tongdao.node.adapters import CsvSource
from tongdao.node.engine import NodeEngine, ServedEntry
from tongdao.node.state import NodeState
from tongdao.policies.loader import load_policy
from tongdao.proto.query import QueryAnswer, RelayedQuery

DEPARTMENT = "hlj.gat"
ENTRY = "gat.population"
PURPOSE = "核验社会保险待遇领取资格"
NOW = dt.datetime(2025, 6, 3, 9, 0, tzinfo=dt.UTC)

HEADER = ("id_number", "name", "gender", "birth_date", "household_address")
PEOPLE = (
    ("23010219900101123X", "张三", "男", "1990-01-01", "哈尔滨市南岗区学府路1号"),
    ("230102198505052345", "李四", "女", "1985-05-05", "哈尔滨市道里区中央大街2号"),
    ("230103197012129876", "王五", "男", "1970-12-12", "齐齐哈尔市龙沙区3号"),
)
GRADES = {
    "id_number": "sensitive_personal",
    "name": "personal",
    "gender": "general",
    "birth_date": "personal",
    "household_address": "sensitive_personal",
}
# sensitive personal data may be tested (verify) but never fetched, as in the Heilongjiang policy
GRADE_METHODS = {
    "general": frozenset({"fetch", "verify", "intersection", "aggregate"}),
    "personal": frozenset({"fetch", "verify"}),
    "sensitive_personal": frozenset({"verify"}),
}


def simple_masker(grade: str, value: str, field_name: str) -> str:
    """Masks everything but ``general`` data: first character, then ``*`` per character."""
    if grade == "general":
        return value
    return value[:1] + "*" * (len(value) - 1)


def write_csv(path: Path, rows: tuple[tuple[str, ...], ...] = PEOPLE) -> Path:
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class World:
    """The node under test and every key the other parties hold."""

    directory: Path
    broker_key: SigningKey = field(default_factory=SigningKey.generate)
    node_signing: SigningKey = field(default_factory=SigningKey.generate)
    node_keys: EncryptionKeyPair = field(default_factory=EncryptionKeyPair.generate)
    consumer_keys: EncryptionKeyPair = field(default_factory=EncryptionKeyPair.generate)
    now: dt.datetime = NOW
    engine: NodeEngine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = self.open_engine()

    def open_engine(self) -> NodeEngine:
        """A fresh engine over the same CSV and state directory (a node restart)."""
        csv_path = self.directory / "population.csv"
        if not csv_path.exists():
            write_csv(csv_path)
        source = CsvSource(csv_path, "id_number", casefold=True)
        return NodeEngine(
            department=DEPARTMENT,
            broker_key=self.broker_key.verify_key,
            signing_key=self.node_signing,
            encryption_keys=self.node_keys,
            entries={ENTRY: ServedEntry(ENTRY, source, "id_number", GRADES, casefold=True)},
            state=NodeState(self.directory / "state"),
            masker=simple_masker,
            grade_methods=GRADE_METHODS,
            clock=lambda: self.now,
        )

    def claims(self, **changes: Any) -> GrantClaims:
        base = GrantClaims(
            grant_id="g-" + uuid.uuid4().hex[:12],
            issuer="broker",
            consumer="hrb.rsj",
            provider=DEPARTMENT,
            entry_code=ENTRY,
            entry_version=1,
            fields=("name", "gender", "birth_date", "household_address"),
            methods=("fetch", "verify"),
            purpose=PURPOSE,
            regions=(),
            issued_at=int(self.now.timestamp()) - 60,
            expires_at=int(self.now.timestamp()) + 86_400,
            quota=5,
            consumer_encryption_key=b64url_encode(self.consumer_keys.public_key),
            grades=GRADES,
        )
        return dataclasses.replace(base, **changes)

    def token(self, claims: GrantClaims | None = None, key: SigningKey | None = None) -> str:
        return issue_grant_token(claims or self.claims(), key or self.broker_key)

    def query(
        self,
        token: str,
        body: Any = None,
        *,
        method: str = "fetch",
        fields: tuple[str, ...] = ("name", "gender"),
        purpose: str = PURPOSE,
        request_id: str | None = None,
        raw_body: bytes | None = None,
        seal_to: bytes | None = None,
        aad_request_id: str | None = None,
        sender: EncryptionKeyPair | None = None,
        authenticated: bool = True,
    ) -> RelayedQuery:
        """A query as the consumer SDK builds it; the keyword arguments break it on purpose."""
        from tongdao.crypto.grant_token import read_grant_token_unverified

        request_id = request_id if request_id is not None else uuid.uuid4().hex
        if body is None:
            body = {"keys": [PEOPLE[0][0]]}
        plain = raw_body if raw_body is not None else json.dumps(body).encode()
        try:
            grant_id = read_grant_token_unverified(token).grant_id
        except Exception:
            grant_id = "unknown"
        ad = query_associated_data(grant_id, aad_request_id or request_id, method, QUERY)
        recipient = seal_to or self.node_keys.public_key
        if authenticated:
            key = (sender or self.consumer_keys).private_key
            sealed = seal_authenticated(key, recipient, plain, ad)
        else:  # what anyone with the node's public key can make
            sealed = seal(recipient, plain, ad)
        shape = ""
        if (
            method == "aggregate"
            and isinstance(body, dict)
            and isinstance(body.get("filter"), dict | None)
        ):
            # the filter's shape the consumer SDK declares to the broker (crypto.filter_shape)
            flt = body.get("filter") or {}
            shape = filter_shape(
                pseudonym_key(self.consumer_keys.private_key, self.node_keys.public_key),
                flt.get("field"),
                flt.get("op", "eq"),
                flt.get("value"),
            )
        return RelayedQuery(
            token, request_id, method, purpose, fields, sealed, self.ticket(token, grant_id), shape
        )

    def ticket(self, token: str, grant_id: str | None = None, *, age: int = 0) -> str:
        """The broker's status ticket for ``token`` as the relay attaches it, issued ``age``
        seconds ago (the rule file's lifetime)."""
        from tongdao.crypto.grant_status import issue_status_ticket
        from tongdao.crypto.grant_token import read_grant_token_unverified

        if grant_id is None:
            try:
                grant_id = read_grant_token_unverified(token).grant_id
            except Exception:
                grant_id = "unknown"
        lifetime = load_policy().grant_status.ticket_seconds
        now = int(self.now.timestamp()) - age
        return issue_status_ticket(grant_id, token, self.broker_key, now=now, lifetime=lifetime)

    def open_result(self, answer: QueryAnswer, query: RelayedQuery, grant_id: str) -> Any:
        plain = open_sealed(
            self.consumer_keys.private_key,
            answer.sealed_result,
            query_associated_data(grant_id, query.request_id, query.method, RESULT),
        )
        return json.loads(plain)
