"""The node's domain: verify the grant itself, then run the query method and seal the answer.

Every check that needs no data happens *before* any data is touched, and each refusal names the
problem. The broker relays requests; the node trusts it for nothing but transport:

* every query is opened as an *authenticated* envelope from the consumer key the signed grant
  names (:func:`crypto.envelope.open_authenticated`), so a relay holding a grant token and the
  node's public key can run nothing, and a stream's result direction is keyed by a secret the node
  draws and seals to that consumer key, so nobody else reads it;
* nothing that depends on the data leaves in the clear: the receipt's count is the number of keys
  a fetch or verify asked about (zero for streams and aggregates: no set size), results are padded
  to a size bucket, an aggregate's count and suppression are inside the consumer's ciphertexts;
* no refusal depends on the data: the aggregate's use of the grant and its privacy budget are
  charged before the rows are read, and a group larger than ``max_rows`` is clamped, not refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tongdao.crypto.envelope import EncryptionKeyPair, open_authenticated, seal, seal_authenticated
from tongdao.crypto.errors import EnvelopeError, KeyFormatError
from tongdao.crypto.filter_shape import pseudonym_key
from tongdao.crypto.grant_status import GrantStatusError, verify_status_ticket
from tongdao.crypto.grant_token import GrantClaims, GrantTokenError, verify_grant_token
from tongdao.crypto.query_binding import (
    QUERY,
    RESULT,
    query_associated_data,
    receipt_signing_bytes,
    result_digest,
)
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.crypto.stream import (
    DOWNSTREAM,
    UPSTREAM,
    ChunkOpener,
    ChunkSealer,
    StreamDigest,
    new_stream_secret,
)
from tongdao.node import engines, streams
from tongdao.node.adapters import DataSource, normalise_key
from tongdao.node.catalogue_grades import under_catalogue
from tongdao.node.open_download import OPEN_DOWNLOAD, grade_method, open_download
from tongdao.node.receipt_journal import ReceiptJournal
from tongdao.node.regions import check_region_filter, within_regions
from tongdao.node.sealed_bodies import (  # noqa: F401  (PAD_BUCKET: part of this module's API)
    PAD_BUCKET,
    checked_key,
    fetch_keys,
    padded,
    verify_claims,
)
from tongdao.node.state import BudgetExhausted, NodeState, QuotaError, ReplayError
from tongdao.node.stream_padding import StreamPadding, policy_padding
from tongdao.node.verified import remembering
from tongdao.node.witness import Witness
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from tongdao.proto.query import QueryAnswer, Receipt, RelayedQuery, canonical_request_id

BROKER_IDENTITY = "broker"
ENGINE_METHODS = (
    "fetch",
    "verify",
    "intersection",
    "intersection_size",
    "intersection_sum",
    "aggregate",
    OPEN_DOWNLOAD,
)

ROLES = ("key", "filter", "summed", "returned")
"""What a data item does in a query: the key records are matched on, a filter (or a verify
claim: tested, answered with a match bit), a summed value, a returned field."""

Masker = Callable[[str, str, str], str]
"""``masker(grade, value, field_name) -> value as it may leave the node``."""
Journaled = tuple[str, Receipt] | None  # (method, signed receipt) to journal with a use


@dataclass(frozen=True)
class ServedEntry:
    """A catalogue entry this node serves.

    Attributes:
        code: the catalogue entry code.
        source: where the records live.
        key_field: the column queries look records up by.
        grades: data item → sensitivity grade (PRIV-6).
        casefold: keys compare case-insensitively.
        region_field: the column holding each record's region (SHR-1; empty: none).
        region_codes: that column's values → region codes (empty: the values are the codes).
    """

    code: str
    source: DataSource
    key_field: str
    grades: Mapping[str, str]
    casefold: bool = False
    region_field: str = ""
    region_codes: Mapping[str, str] = field(default_factory=dict)

    @property
    def served_fields(self) -> tuple[str, ...]:
        """Columns that have a sensitivity grade, in source order.

        A column without a grade is never served (fail closed): defaulting it to ``general``
        would let an unlisted personal column leave the node unmasked.
        """
        return tuple(c for c in self.source.columns if c in self.grades)


@dataclass
class NodeEngine:
    """Answers queries for one department."""

    department: str
    broker_key: VerifyKey
    signing_key: SigningKey
    encryption_keys: EncryptionKeyPair
    entries: Mapping[str, ServedEntry]
    state: NodeState
    masker: Masker
    grade_methods: Mapping[str, frozenset[str]] = field(default_factory=dict)
    grade_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    min_group_size: int = 10
    min_group_article: str = "Art.38"
    # size buckets of streamed sets (rule file [privacy] stream_padding_*)
    stream_padding: StreamPadding = field(default_factory=policy_padding)
    purpose_article: str = "Art.30"
    grade_articles: Mapping[str, str] = field(default_factory=dict)
    privacy_article: str = "Art.38"
    status_article: str = "Art.27"
    catalogue_article: str = "Art.14"
    region_article: str = "Art.22"
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    # the journal of signed receipts (read back by the broker) and the ledger witness; a node
    # built by node.server.build_engine has both
    journal: ReceiptJournal | None = None
    witness: Witness | None = None
    holdings_key: bytes = b""  # keys the daily reconciliation's digests (node.reconciliation)

    def __post_init__(self) -> None:
        # the same grant token and status ticket come with every query under a grant
        self.broker_key = remembering(self.broker_key)

    # ------------------------------------------------------------------ checks
    @staticmethod
    def check_caller(caller: str | None) -> None:
        """Only the broker may call a node (PLT-1: the broker is the single channel).

        Args:
            caller: the subject CN of the caller's verified client certificate, or None.

        Raises:
            Unauthenticated: no verified certificate.
            PermissionDenied: a certificate of anyone but the broker.
        """
        if not caller:
            raise Unauthenticated(msg("no verified client certificate"))
        if caller != BROKER_IDENTITY:
            raise PermissionDenied(
                msg("only the broker may call a node, not {caller!r}", caller=caller)
            )

    def authorise(self, caller: str | None, query: RelayedQuery) -> tuple[GrantClaims, ServedEntry]:
        """Every check that needs no data, in order; returns the verified claims and entry.

        Raises:
            Unauthenticated / PermissionDenied / InvalidArgument / NotFound: naming the problem.
        """
        self.check_caller(caller)
        if query.method not in ENGINE_METHODS:
            raise InvalidArgument(
                msg("this node does not run method {method!r}", method=query.method), field="method"
            )
        if not query.grant_token:
            raise PermissionDenied(msg("is required"), field="grant_token")
        now = self.clock()
        try:
            claims = verify_grant_token(
                query.grant_token, self.broker_key, now=int(now.timestamp())
            )
        except GrantTokenError as exc:
            raise PermissionDenied(str(exc), field="grant_token") from None
        try:
            # a suspended or terminated grant gets no new ticket, so it stops here within the
            # ticket's lifetime even when the token is replayed straight to this node
            verify_status_ticket(
                query.status_ticket,
                query.grant_token,
                claims.grant_id,
                self.broker_key,
                now=int(now.timestamp()),
            )
        except GrantStatusError as exc:
            raise PermissionDenied(
                str(exc), field="status_ticket", articles=(self.status_article,)
            ) from None
        if claims.provider != self.department:
            raise PermissionDenied(msg("grant names another provider"), field="grant_token")
        entry = self.entries.get(claims.entry_code)
        if entry is None:
            raise NotFound(
                msg("this node does not serve entry {entry_code!r}", entry_code=claims.entry_code),
                field="grant_token",
            )
        # PRIV-6: mask and refuse by the catalogue's grades, signed in the grant
        entry = under_catalogue(entry, claims, self.catalogue_article)
        # SHR-1: under a grant with regions, only the records inside them exist
        entry = within_regions(entry, claims, self.region_article)
        if query.method not in claims.methods:
            raise PermissionDenied(
                msg("method {method!r} is not in the grant", method=query.method), field="method"
            )
        if not query.fields:
            raise InvalidArgument(msg("must name at least one data item"), field="fields")
        for name in query.fields:
            if name not in claims.fields:
                raise PermissionDenied(
                    msg("data item {name!r} is outside the grant", name=name),
                    field="fields",
                    articles=(self.purpose_article,),
                )
            if name not in entry.served_fields:
                raise InvalidArgument(
                    msg("data item {name!r} is not served by this node", name=name), field="fields"
                )
            grade = entry.grades[name]
            allowed = self.grade_methods.get(grade)
            if allowed is not None and grade_method(query.method) not in allowed:
                raise PermissionDenied(
                    msg(
                        "data item {name!r} is graded {grade}; method {method!r} may not touch it",
                        name=name,
                        grade=grade,
                        method=query.method,
                    ),
                    field="fields",
                    articles=(self.grade_articles.get(grade, "Art.14"),),
                )
        if not query.purpose.strip():
            raise InvalidArgument(msg("must not be empty"), field="purpose")
        if query.purpose.strip() != claims.purpose:
            raise PermissionDenied(
                msg("wrong purpose: differs from the grant's purpose"),
                field="purpose",
                articles=(self.purpose_article,),
            )
        canonical_request_id(query.request_id)
        try:
            self.state.check(query.request_id, claims.grant_id, claims.quota)
        except ReplayError:
            raise PermissionDenied(
                msg("replayed request: this request id was answered before"), field="request_id"
            ) from None
        except QuotaError:
            raise PermissionDenied(
                msg("grant quota of {quota} queries is used up", quota=claims.quota),
                field="grant_token",
            ) from None
        return claims, entry

    def check_role(self, entry: ServedEntry, name: str, role: str, field_name: str) -> None:
        """A data item may play ``role`` in this query only if its grade's rule allows it.

        Raises:
            PermissionDenied: naming the item, its grade, the role and the grade's article.
        """
        grade = entry.grades.get(name)
        if grade is None:
            return  # not served: the field checks refuse it with their own message
        allowed = self.grade_roles.get(grade)
        if allowed is not None and role not in allowed:
            raise PermissionDenied(
                msg(
                    "data item {name!r} is graded {grade}; it may not be the {role} of a query",
                    name=name,
                    grade=grade,
                    role=role,
                ),
                field=field_name,
                articles=(self.grade_articles.get(grade, "Art.14"),),
            )

    def open_query(self, claims: GrantClaims, query: RelayedQuery, context: bytes) -> bytes:
        """Open the sealed query as an envelope from the consumer key the grant names.

        Raises:
            InvalidArgument: not sealed by that consumer to this node for this grant and request.
        """
        try:
            return open_authenticated(
                self.encryption_keys.private_key,
                claims.consumer_encryption_key_bytes,
                query.sealed_query,
                context,
            )
        except (EnvelopeError, KeyFormatError):
            raise InvalidArgument(
                msg(
                    "does not open: not sealed by the grant's consumer to this "
                    "node's key for this grant and request"
                ),
                field="sealed_query",
            ) from None

    # ------------------------------------------------------------------ answering
    def answer(self, caller: str | None, query: RelayedQuery) -> QueryAnswer:
        """Check, open, compute, seal, record, sign.

        Raises:
            DomainError subclasses naming the problem; nothing is recorded on refusal.
        """
        if query.method in streams.STREAM_METHODS:
            self.check_caller(caller)
            raise InvalidArgument(
                msg(
                    "method {method!r} runs as a streamed query (QueryStream)", method=query.method
                ),
                field="method",
            )
        claims, entry = self.authorise(caller, query)
        if query.method == OPEN_DOWNLOAD:
            return open_download(self, claims, entry, query)
        if query.method in ("fetch", "verify"):
            self.check_role(entry, entry.key_field, "key", "fields")
            role = "returned" if query.method == "fetch" else "filter"
            for name in query.fields:
                self.check_role(entry, name, role, "fields")
        plain = self.open_query(
            claims,
            query,
            query_associated_data(claims.grant_id, query.request_id, query.method, QUERY),
        )
        try:
            body = json.loads(plain)
        except (ValueError, UnicodeDecodeError):
            raise InvalidArgument(msg("is not JSON"), field="sealed_query") from None
        except RecursionError:
            # deeply nested arrays exhaust the parser's stack: malformed input, not a node fault
            raise InvalidArgument(msg("is nested too deeply"), field="sealed_query") from None
        if query.method == "aggregate":
            return self._aggregate(claims, entry, query, body)
        if query.method == "fetch":
            result, count = self._fetch(entry, query.fields, body)
        else:
            result, count = self._verify(entry, query.fields, body)
        sealed = seal(
            claims.consumer_encryption_key_bytes,
            padded(json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()),
            query_associated_data(claims.grant_id, query.request_id, query.method, RESULT),
        )
        return self._finish(claims, query, sealed, count)

    def _finish(
        self,
        claims: GrantClaims,
        query: RelayedQuery,
        sealed: bytes,
        count: int,
        ciphertexts: tuple[bytes, ...] = (),
        *,
        recorded: bool = False,
    ) -> QueryAnswer:
        """Sign the receipt; record the use with it (or, when the use was recorded already,
        journal the receipt alone). ``count`` is the number of keys a fetch or verify asked
        about (0 otherwise), never a number of the node's data; the answer's ``suppressed`` flag
        is always false (an aggregate's suppression travels inside the consumer's ciphertexts).
        """
        now = self.clock()
        receipt = self._receipt(
            claims, query.request_id, result_digest(sealed + b"".join(ciphertexts)), count, now
        )
        journaled = (query.method, receipt) if self.journal is not None else None
        if not recorded:  # the receipt is journaled in the use's own transaction
            self._record_use(claims, query.request_id, now, journaled)
        elif journaled is not None and self.journal is not None:
            self.journal.record(*journaled)
        return QueryAnswer(sealed, receipt, ciphertexts, False)

    def _record_use(
        self, claims: GrantClaims, request_id: str, now: dt.datetime, journaled: Journaled = None
    ) -> None:
        """Record one use of the grant under ``request_id`` in the node's own state (and, when
        given, journal its signed receipt with it); durable when this returns.

        Raises:
            PermissionDenied: the request id was answered before, or the quota is used up.
        """
        try:
            self.state.record(request_id, claims.grant_id, claims.quota, now, receipt=journaled)
        except ReplayError:
            raise PermissionDenied(
                msg("replayed request: this request id was answered before"), field="request_id"
            ) from None
        except QuotaError:
            raise PermissionDenied(
                msg("grant quota of {quota} queries is used up", quota=claims.quota),
                field="grant_token",
            ) from None

    def _receipt(
        self, claims: GrantClaims, request_id: str, digest: bytes, count: int, now: dt.datetime
    ) -> Receipt:
        answered_at = now.astimezone(dt.UTC).isoformat(timespec="seconds")
        signature = self.signing_key.sign(
            receipt_signing_bytes(
                request_id=request_id,
                grant_id=claims.grant_id,
                provider=self.department,
                result_digest=digest,
                record_count=count,
                answered_at=answered_at,
            )
        )
        return Receipt(
            request_id, claims.grant_id, self.department, digest, count, answered_at, signature
        )

    # ------------------------------------------------------------------ streamed engines
    def answer_stream(
        self, caller: str | None, query: RelayedQuery, incoming: Iterator[bytes]
    ) -> Iterator[bytes | Receipt]:
        """Run a streamed query: check everything, open, compute frame by frame, sign.

        Yields the sealed chunks for the consumer, then the signed :class:`Receipt` (its digest
        is the :class:`~crypto.stream.StreamDigest` of those chunks).

        A started stream counts as one use of the grant (recorded before anything is sent), so
        an abandoned stream cannot be retried under the same request id or past the quota.

        Raises:
            DomainError subclasses naming the problem (the field ``chunk`` for a bad frame).
        """
        self.check_caller(caller)
        if query.method not in streams.STREAM_METHODS:
            raise InvalidArgument(
                msg("method {method!r} is not a streamed query; use Query", method=query.method),
                field="method",
            )
        claims, entry = self.authorise(caller, query)
        context = query_associated_data(claims.grant_id, query.request_id, query.method, QUERY)
        plain = self.open_query(claims, query, context)
        body = streams.json_body(plain, "sealed_query")
        summing = query.method == "intersection_sum"
        expected = {"stream_secret", "points"} | ({"value_field"} if summing else set())
        if set(body) != expected:
            raise InvalidArgument(
                msg("must hold exactly {v1}", v1=sorted(expected)), field="sealed_query"
            )
        declared = body["points"]
        if not isinstance(declared, int) or isinstance(declared, bool):
            raise InvalidArgument(msg("must be an integer"), field="sealed_query.points")
        try:
            opener = ChunkOpener(bytes.fromhex(body["stream_secret"]), context, UPSTREAM)
        except (TypeError, ValueError, EnvelopeError):
            raise InvalidArgument(
                msg("must be 32 bytes in hex"), field="sealed_query.stream_secret"
            ) from None
        # the result direction is keyed by a secret of the node's, sealed to the grant's consumer
        # key (and authenticated by the node's key): whoever opened the stream, only that
        # consumer reads the answer
        result_secret = new_stream_secret()
        sealer = ChunkSealer(result_secret, context, DOWNSTREAM)
        secret_envelope = seal_authenticated(
            self.encryption_keys.private_key,
            claims.consumer_encryption_key_bytes,
            result_secret,
            query_associated_data(claims.grant_id, query.request_id, query.method, RESULT),
        )
        source, key_field = entry.source, entry.key_field
        if summing:
            value_field = body["value_field"]
            if value_field not in query.fields:
                raise InvalidArgument(
                    msg("must be a data item named in fields"), field="sealed_query.value_field"
                )
            self.check_role(entry, entry.key_field, "key", "fields")
            self.check_role(entry, value_field, "summed", "sealed_query.value_field")
            provider = streams.ProviderStream(
                query.method,
                rows=lambda: streams.summable_rows(
                    source.rows(), key_field, value_field, engines.psi_key, engines.scaled_value
                ),
                declared_points=declared,
                min_group=self.min_group_size,
                min_group_article=self.min_group_article,
                padding=self.stream_padding,
            )
        else:
            if entry.key_field not in query.fields:
                raise InvalidArgument(
                    msg("must name the key field {key_field!r}", key_field=entry.key_field),
                    field="fields",
                )
            self.check_role(entry, entry.key_field, "key", "fields")
            provider = streams.ProviderStream(
                query.method,
                keys=lambda: [
                    engines.psi_key(r[key_field]) for r in source.rows() if r.get(key_field)
                ],
                declared_points=declared,
                min_group=self.min_group_size,
                min_group_article=self.min_group_article,
                padding=self.stream_padding,
            )
        self._record_use(claims, query.request_id, self.clock())

        def opened() -> Iterator[bytes]:
            for chunk in incoming:
                try:
                    yield opener.open(chunk)
                except EnvelopeError as exc:
                    raise InvalidArgument(str(exc), field="chunk") from None

        digest = StreamDigest()
        digest.update(secret_envelope)
        yield secret_envelope
        for message, final in provider.messages(opened()):
            sealed = sealer.seal(message, final=final)
            digest.update(sealed)
            yield sealed
        # the receipt holds no set size, neither the node's rows nor the consumer's points
        yield self._receipt(claims, query.request_id, digest.digest(), 0, self.clock())

    def _aggregate(
        self, claims: GrantClaims, entry: ServedEntry, query: RelayedQuery, body: Any
    ) -> QueryAnswer:
        """Charge, then compute: nothing the consumer can learn here comes before the grant's
        use and its privacy budget are charged, and no refusal depends on the rows."""
        if not isinstance(body, dict):
            raise InvalidArgument(msg("must be an object"), field="sealed_query")
        q = engines.parse_aggregate_query(body, query.fields)
        engines.check_filter_shape(
            q,
            query.filter_shape,
            pseudonym_key(self.encryption_keys.private_key, claims.consumer_encryption_key_bytes),
        )
        self.check_role(entry, q.value_field, "summed", "sealed_query.value_field")
        if q.filter_field is not None:
            self.check_role(entry, q.filter_field, "filter", "sealed_query.filter")
        check_region_filter(entry, claims, q, self.region_article)
        scheme = engines.aggregate_scheme(q)
        if claims.dp_epsilon_milli:
            try:
                self.state.spend(claims.grant_id, claims.dp_epsilon_milli, claims.dp_budget_milli)
            except BudgetExhausted:
                raise PermissionDenied(
                    msg("the grant's differential-privacy budget is spent"),
                    field="grant_token",
                    articles=(self.privacy_article,),
                ) from None
        self._record_use(claims, query.request_id, self.clock())
        stats = engines.aggregate_statistics(entry.source, q)  # at most max_rows rows (clamped)
        if claims.dp_epsilon_milli:
            stats = engines.add_noise(stats, q, claims.dp_epsilon_milli, scheme.high)
        # suppression is decided on what is released (the noisy count under DP): post-processing
        suppressed = stats[0] < self.min_group_size
        if suppressed:
            stats = [0] * len(stats)
        stats.append(1 if suppressed else 0)  # how many nodes were suppressed: inside the sum
        ciphertexts = tuple(c.to_bytes() for c in scheme.encrypt(q.public_key, stats))
        return self._finish(claims, query, b"", 0, ciphertexts, recorded=True)

    def _fetch(
        self, entry: ServedEntry, fields: tuple[str, ...], body: Any
    ) -> tuple[dict[str, Any], int]:
        keys = fetch_keys(body)
        records = []
        for raw in keys:
            row = entry.source.lookup(checked_key(raw, "sealed_query.keys", entry.casefold))
            if row is None:
                records.append({"key": raw, "found": False, "fields": {}})
                continue
            values = {
                name: self.masker(entry.grades[name], row.get(name, ""), name) for name in fields
            }
            records.append({"key": raw, "found": True, "fields": values})
        return {"records": records}, len(keys)

    def _verify(
        self, entry: ServedEntry, fields: tuple[str, ...], body: Any
    ) -> tuple[dict[str, Any], int]:
        claims = verify_claims(body, fields)
        row = entry.source.lookup(checked_key(body["key"], "sealed_query.key", entry.casefold))
        if row is None:
            return {"found": False, "matches": {name: False for name in claims}}, 1
        matches = {
            name: normalise_key(row.get(name, "")) == normalise_key(value)
            for name, value in claims.items()
        }
        return {"found": True, "matches": matches}, 1
