"""Query relay context: the broker relays ciphertext it cannot read.

It checks the grant (through the sharing service) and the entry (through the catalogue
service), forwards the sealed query to the provider's node, verifies the node's signed
receipt and records exactly one ledger entry per call. Plain Python; no gRPC."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import ContextService
from tongdao.broker.kernel.db import read_only
from tongdao.broker.ledger.appending import NewEntry, new_entry
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.writer import LedgerWriter
from tongdao.broker.relay.gateway import NodeGateway, NodeRefused
from tongdao.broker.sharing.service import METHODS, SharingService
from tongdao.crypto.errors import CryptoError, SignatureError
from tongdao.crypto.filter_shape import FilterShapeError, parse_shape
from tongdao.crypto.query_binding import receipt_signing_bytes, result_digest
from tongdao.crypto.signing import verify_key_of
from tongdao.crypto.stream import StreamDigest
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Unavailable,
)
from tongdao.proto.query import (
    STREAM_METHODS,
    QueryAnswer,
    Receipt,
    RelayedQuery,
    canonical_request_id,
)
from tongdao.proto.turns import NO_TURNS, Turns

log = logging.getLogger("tongdao.broker.relay")
T = TypeVar("T")
V = TypeVar("V")
MAX_SEALED_QUERY_BYTES = 24 * 1024 * 1024  # under the 32 MiB transport limit


@dataclass(frozen=True, slots=True)
class _Answered:
    """An answered call waiting for its ledger entry: what the entry says and how it counts."""

    grant_id: str
    request_id: str
    receipt_signature: str  # hex
    verified: bool
    entry: NewEntry


@dataclass(kw_only=True)
class RelayService(ContextService):
    """Relaying queries under grants, with receipts checked and every call in the ledger."""

    ledger: Ledger
    directory: DirectoryService
    catalogue: CatalogueService
    sharing: SharingService
    # group commit of the entries of relayed calls (set by the server); None: one transaction
    # per call, as in service tests
    writer: LedgerWriter | None = None
    # the turns the server runs Query calls in: the node's answer is awaited without one
    turns: Turns = NO_TURNS

    def _commit(self, sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
        """Run ``work`` in a committed transaction and return its result only once committed:
        in the writer's next batch when the writer serves this store, else alone."""
        if self.writer is not None and self.writer.sessions is sessions:
            return self.writer.run(work)
        with sessions.begin() as session:
            return work(session)

    def _commit_batched(
        self,
        sessions: sessionmaker[Session],
        batched: Callable[[Session, list[V]], list[T]],
        value: V,
    ) -> T:
        """:meth:`_commit` for one item of a batched work (see
        :meth:`~tongdao.broker.ledger.writer.LedgerWriter.run_batched`)."""
        if self.writer is not None and self.writer.sessions is sessions:
            return self.writer.run_batched(batched, value)
        with sessions.begin() as session:
            return batched(session, [value])[0]

    def _validate_query(self, query: RelayedQuery) -> None:
        if not query.grant_token:
            raise InvalidArgument(msg("is required"), field="grant_token")
        canonical_request_id(query.request_id)
        if query.method not in METHODS:
            raise InvalidArgument(msg("is not a known query method"), field="method")
        v.text(query.purpose, "purpose", max_len=500)
        v.field_names(query.fields, "fields")
        if not query.sealed_query:
            raise InvalidArgument(msg("is required"), field="sealed_query")
        if len(query.sealed_query) > MAX_SEALED_QUERY_BYTES:
            raise InvalidArgument(
                msg(
                    "is larger than {MAX_SEALED_QUERY_BYTES} bytes",
                    MAX_SEALED_QUERY_BYTES=MAX_SEALED_QUERY_BYTES,
                ),
                field="sealed_query",
            )
        if query.method != "aggregate":
            if query.filter_shape:
                raise InvalidArgument(msg("only an aggregate declares one"), field="filter_shape")
            return
        try:
            parse_shape(query.filter_shape)
        except FilterShapeError as exc:
            raise InvalidArgument(str(exc), field="filter_shape") from None

    def _prepare_relay(
        self, sessions: sessionmaker[Session], caller: str, query: RelayedQuery
    ) -> tuple[str, str, bytes, RelayedQuery]:
        """Check the grant is the caller's and live; return (grant id, endpoint, provider key,
        the query carrying the broker's fresh grant status ticket for the node)."""
        self._validate_query(query)
        with read_only(sessions) as session:
            grant = self.sharing.grant_by_token(session, query.grant_token)
            if grant is None:
                stale = self.sharing.superseded(session, query.grant_token)
                if stale is not None and stale.consumer == caller:
                    raise PermissionDenied(
                        msg(
                            "this token was replaced by a newer one for the same grant; "
                            "fetch it with GetGrant"
                        ),
                        field="grant_token",
                    )
                # The broker only relays tokens it issued; a forged or altered token is also
                # refused by the node itself (it never trusts the relay).
                raise PermissionDenied(
                    msg("grant token was not issued by this broker"), field="grant_token"
                )
            if grant.consumer != caller:
                raise PermissionDenied(
                    msg("the grant was issued to another department"), field="grant_token"
                )
            try:
                self.sharing.check_live(grant, query)
            except DomainError as exc:
                exc.grant_id = grant.id  # type: ignore[attr-defined]  # named in the refusal entry
                raise
            entry = self.catalogue.entry_state(session, grant.entry_code)
            if entry is not None:
                self.catalogue.check_in_force(entry)
            if entry is not None and entry.current_version > grant.entry_version:
                # CAT-7: a data item removed in a later version is never served to an old grant
                current = {
                    i["name"]
                    for i in self.catalogue.published_content(session, entry)["data_items"]
                }
                withdrawn = [f for f in query.fields if f not in current]
                if withdrawn:
                    raise PermissionDenied(
                        msg(
                            "data item {v1!r} was withdrawn in version {current_version} "
                            "of the entry",
                            v1=withdrawn[0],
                            current_version=entry.current_version,
                        ),
                        field="fields",
                        articles=(self.policy.deadline("catalogue_update").article,),
                    )
            endpoint, provider_key = self.directory.node_of(session, grant.provider)
            if not endpoint:
                raise FailedPrecondition(
                    msg("provider {code!r} has no node endpoint registered", code=grant.provider)
                )
            ticketed = dataclasses.replace(query, status_ticket=self.sharing.status_ticket(grant))
            return grant.id, endpoint, provider_key, ticketed

    @staticmethod
    def _base_payload(grant_id: str, query: RelayedQuery) -> dict[str, Any]:
        return {
            "grant_id": grant_id,
            "request_id": canonical_request_id(query.request_id),
            "method": query.method,
            "fields": list(query.fields),
            "purpose": query.purpose,
            "sealed_query_bytes": len(query.sealed_query),
            "sealed_query_sha256": hashlib.sha256(query.sealed_query).hexdigest(),
            "token_sha256": hashlib.sha256(query.grant_token.encode()).hexdigest(),
            # an aggregate's filter shape (values pseudonymised), for differencing supervision
            **({"filter_shape": json.loads(query.filter_shape)} if query.filter_shape else {}),
        }

    def _call_node(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        query: RelayedQuery,
        gateway: NodeGateway,
        grant_id: str,
        endpoint: str,
        provider_key: bytes,
    ) -> tuple[QueryAnswer, int]:
        """Relay one prepared query and record exactly one complete ledger entry for it."""
        base_payload = self._base_payload(grant_id, query)
        try:
            with self.turns.waiting():
                answer = gateway.query(endpoint, query)
        except (Unavailable, NodeRefused) as exc:
            code_name = exc.code_name if isinstance(exc, NodeRefused) else "UNAVAILABLE"
            self._record_failed(sessions, caller, grant_id, base_payload, code_name, str(exc))
            raise
        receipt_ok = self._receipt_valid(answer, query, grant_id, provider_key)
        sequence = self._record_answered(
            sessions,
            caller,
            grant_id,
            answer.receipt,
            receipt_ok,
            {
                **base_payload,
                "sealed_result_bytes": len(answer.sealed_result),
                "ciphertexts": len(answer.ciphertexts),
            },
        )
        return answer, sequence

    def _record_failed(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        grant_id: str,
        payload: dict[str, Any],
        status: str,
        message: str,
    ) -> None:
        """The one ledger entry of a relayed call that did not answer (no use is counted)."""
        self._commit(
            sessions,
            lambda session: self.ledger.append(
                session,
                kind="query.failed",
                actor=caller,
                subject=grant_id,
                payload={**payload, "status": status, "message": message},
            ),
        )

    def _record_answered(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        grant_id: str,
        receipt: Receipt,
        receipt_ok: bool,
        payload: dict[str, Any],
    ) -> int:
        """The one ledger entry of an answered call, with the node's receipt; a verified
        receipt counts one use of the grant. Idempotent on the request id: an answer the log
        already holds (recorded late from the node's journal) is neither recorded nor counted
        again.

        Returns:
            The entry's ledger sequence.

        Raises:
            Unavailable: the receipt does not verify (recorded as ``query.bad_receipt`` first).
        """

        answered = _Answered(
            grant_id=grant_id,
            request_id=payload["request_id"],
            receipt_signature=receipt.signature.hex(),
            verified=receipt_ok,
            entry=new_entry(
                kind="query.relayed" if receipt_ok else "query.bad_receipt",
                actor=caller,
                subject=grant_id,
                payload={
                    **payload,
                    "result_sha256": receipt.result_digest.hex(),
                    "record_count": receipt.record_count,
                    "answered_at": receipt.answered_at,
                    "receipt_signature": receipt.signature.hex(),
                    "receipt_verified": receipt_ok,
                },
            ),
        )
        # acknowledged only once the transaction holding the entry has committed
        sequence = self._commit_batched(sessions, self._record_answers, answered)
        if not receipt_ok:
            raise Unavailable(msg("the provider's node returned a receipt that does not verify"))
        return sequence

    def _record_answers(self, session: Session, answers: list[_Answered]) -> list[int]:
        """Record a group commit's answered calls in order, one statement per table for all;
        returns each answer's ledger sequence.

        An answer the log already holds — recorded late from the node's journal while the relay
        was slower than the reconciliation's margin; the node journals one receipt per request
        id — is neither recorded nor counted again. One whose earlier record did not verify, when
        this one does, is recorded and counted."""
        known = self.ledger.recorded_answers(session, [a.request_id for a in answers])
        sequences: list[int | None] = []
        fresh: list[NewEntry] = []
        # per request id, the answer of this batch now recorded for it: its index in ``fresh``
        # and whether its receipt verified
        pending: dict[str, tuple[int, bool]] = {}
        recorded_as: dict[int, int] = {}  # an answer's position -> the index in ``fresh``
        uses: Counter[str] = Counter()
        locked: set[str] = set()
        for position, answer in enumerate(answers):
            recorded = known.get(answer.request_id)
            if recorded is not None and (recorded[2] or not answer.verified):
                sequence, signature, _ = recorded
                if signature and signature != answer.receipt_signature:
                    log.error(
                        "request %s: receipt differs from the one recorded in entry %d",
                        answer.request_id,
                        sequence,
                    )
                sequences.append(sequence)
                continue
            sequences.append(None)
            earlier = pending.get(answer.request_id)
            if earlier is not None and (earlier[1] or not answer.verified):
                recorded_as[position] = earlier[0]
                continue
            if answer.verified:
                uses[answer.grant_id] += 1
            else:
                locked.add(answer.grant_id)
            pending[answer.request_id] = (len(fresh), answer.verified)
            recorded_as[position] = len(fresh)
            fresh.append(answer.entry)
        self.sharing.count_uses(session, uses, locked)
        rows = self.ledger.append_new(session, fresh, indexed=known.keys())
        return [
            s if s is not None else int(rows[recorded_as[i]]["sequence"])
            for i, s in enumerate(sequences)
        ]

    def relay_query(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        query: RelayedQuery,
        gateway: NodeGateway,
    ) -> tuple[QueryAnswer, int]:
        """Check the grant's live status, relay the sealed query to the node, record the call.

        Two short transactions surround the node call, so no database lock is held while the
        node works. The ledger gets exactly one complete entry per relayed call: the receipt on
        success, the node's refusal or unavailability otherwise; the grant's use count moves only
        on success.

        Returns:
            The node's answer and the ledger sequence number of the call.
        """
        if query.method == "aggregate":
            raise InvalidArgument(
                msg("aggregates go through Aggregate, which adds the nodes' answers"),
                field="method",
            )
        if query.method in STREAM_METHODS:
            raise InvalidArgument(
                msg(
                    "method {method!r} runs as a streamed query (QueryStream)", method=query.method
                ),
                field="method",
            )
        grant_id, endpoint, provider_key, query = self._prepare_relay(sessions, caller, query)
        return self._call_node(sessions, caller, query, gateway, grant_id, endpoint, provider_key)

    def relay_stream(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        query: RelayedQuery,
        chunks: Iterator[bytes],
        gateway: NodeGateway,
        *,
        consumer_gone: Callable[[], bool] = lambda: False,
    ) -> Iterator[bytes | tuple[Receipt, int]]:
        """Relay a streamed query (PSI, intersection-sum): chunks both ways, then the receipt.

        The broker checks the grant exactly as for :meth:`relay_query`, passes sealed chunks
        through without reading them, keeps a digest of what the node sent, and records one
        complete ledger entry when the stream ends — relayed (the node's receipt names the digest
        the broker computed), refused, unavailable or abandoned by the consumer.

        Args:
            consumer_gone: says whether the consumer has left (a node error that follows is
                recorded as the consumer's cancellation, not as the node's refusal).

        Yields:
            The node's sealed chunks, then ``(receipt, ledger sequence)``.

        Raises:
            InvalidArgument: not a streamed method.
            PermissionDenied / NotFound / FailedPrecondition: as :meth:`relay_query`.
            Unavailable: the node is down, or its receipt does not verify.
            NodeRefused: the node's own refusal, with its status.
        """
        if query.method not in STREAM_METHODS:
            raise InvalidArgument(
                msg("method {method!r} is not a streamed query; use Query", method=query.method),
                field="method",
            )
        grant_id, endpoint, provider_key, query = self._prepare_relay(sessions, caller, query)
        up, down = StreamDigest(), StreamDigest()

        def counted() -> Iterator[bytes]:
            for chunk in chunks:
                up.update(chunk)
                yield chunk

        def stats() -> dict[str, Any]:
            # no size of the stream: chunk counts and bytes would give both set sizes
            payload = self._base_payload(grant_id, query)
            del payload["sealed_query_bytes"]
            return {**payload, "stream": True}

        def failed(status: str, message: str) -> None:
            self._record_failed(sessions, caller, grant_id, stats(), status, message)

        receipt: Receipt | None = None
        relay = gateway.query_stream(endpoint, query, counted())
        try:
            for item in relay:
                if isinstance(item, Receipt):
                    receipt = item
                    break
                down.update(item)
                yield item
        except (Unavailable, NodeRefused) as exc:
            if consumer_gone():
                failed("CANCELLED", "the consumer left before the stream ended")
            else:
                failed(exc.code_name if isinstance(exc, NodeRefused) else "UNAVAILABLE", str(exc))
            raise
        except GeneratorExit:
            failed("CANCELLED", "the consumer left before the stream ended")
            raise
        finally:
            relay.close()
        if receipt is None:
            failed("UNAVAILABLE", "the node ended the stream without a receipt")
            raise Unavailable(msg("the provider's node ended the stream without a receipt"))
        receipt_ok = self._receipt_signature_valid(
            receipt, query.request_id, grant_id, down.digest(), provider_key
        )
        sequence = self._record_answered(sessions, caller, grant_id, receipt, receipt_ok, stats())
        yield receipt, sequence

    def relay_aggregate(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        parts: Sequence[RelayedQuery],
        public_key_bytes: bytes,
        gateway: NodeGateway,
    ) -> tuple[list[bytes], list[tuple[QueryAnswer, str]], int]:
        """Fan an aggregate out to every part's node and add their ciphertexts (PRIV-5).

        The broker holds only the consumer's Paillier public key; it validates every ciphertext
        (range and gcd) before adding, and records one ledger entry per node plus the total.

        Returns:
            (encrypted totals, [(answer, provider)], ledger sequence of the aggregate entry).
        """
        from concurrent.futures import ThreadPoolExecutor

        from tongdao.crypto.paillier import Evaluator, InvalidCiphertext, PaillierPublicKey

        if not 1 <= len(parts) <= 64:
            raise InvalidArgument(msg("must hold 1 to 64 parts"), field="parts")
        try:
            public_key = PaillierPublicKey.from_bytes(public_key_bytes)
        except CryptoError as exc:
            raise InvalidArgument(
                msg("is not an acceptable Paillier public key: {exc}", exc=exc),
                field="paillier_public_key",
            ) from None
        for q in parts:
            if q.method != "aggregate":
                raise InvalidArgument(
                    msg("every part must use the aggregate method"), field="parts.method"
                )
        prepared = [self._prepare_relay(sessions, caller, q) for q in parts]
        providers = set()
        with sessions.begin() as session:
            for grant_id, _, _, _ in prepared:
                grant = self.sharing.grant(session, grant_id)
                if grant.provider in providers:
                    raise InvalidArgument(
                        msg("provider {provider!r} appears twice", provider=grant.provider),
                        field="parts",
                    )
                providers.add(grant.provider)
        with ThreadPoolExecutor(max_workers=min(8, len(parts))) as pool:
            futures = [
                pool.submit(self._call_node, sessions, caller, q, gateway, *prep[:3])
                for q, prep in ((p[3], p) for p in prepared)
            ]
            answers = [f.result()[0] for f in futures]
        widths = {len(a.ciphertexts) for a in answers}
        if len(widths) != 1 or 0 in widths:
            raise FailedPrecondition(msg("nodes returned different numbers of ciphertexts"))
        evaluator = Evaluator(public_key)
        try:
            columns = [
                [public_key.ciphertext(a.ciphertexts[i]) for a in answers]
                for i in range(widths.pop())
            ]
        except InvalidCiphertext as exc:
            raise FailedPrecondition(
                msg("a node returned an invalid ciphertext: {exc}", exc=exc)
            ) from None
        totals = [evaluator.sum(col).to_bytes() for col in columns]
        with sessions.begin() as session:
            entry = self.ledger.append(
                session,
                kind="aggregate.combined",
                actor=caller,
                subject=canonical_request_id(parts[0].request_id),
                payload={
                    "grants": [p[0] for p in prepared],
                    "nodes": len(parts),
                    "total_sha256": hashlib.sha256(b"".join(totals)).hexdigest(),
                },
            )
            sequence = entry.sequence
        return totals, [(a, a.receipt.provider) for a in answers], sequence

    @staticmethod
    def _receipt_valid(
        answer: QueryAnswer, query: RelayedQuery, grant_id: str, provider_key: bytes
    ) -> bool:
        return RelayService._receipt_signature_valid(
            answer.receipt,
            query.request_id,
            grant_id,
            result_digest(answer.sealed_result + b"".join(answer.ciphertexts)),
            provider_key,
        )

    @staticmethod
    def _receipt_signature_valid(
        r: Receipt, request_id: str, grant_id: str, digest: bytes, provider_key: bytes
    ) -> bool:
        if r.request_id != request_id or r.grant_id != grant_id or r.result_digest != digest:
            return False
        try:
            verify_key_of(provider_key).verify(
                r.signature,
                receipt_signing_bytes(
                    request_id=r.request_id,
                    grant_id=r.grant_id,
                    provider=r.provider,
                    result_digest=r.result_digest,
                    record_count=r.record_count,
                    answered_at=r.answered_at,
                ),
            )
        except SignatureError:
            return False
        return True
