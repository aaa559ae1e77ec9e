"""The node's gRPC server: a thin servicer over :class:`node.engine.NodeEngine`, with mTLS."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2

from tongdao.crypto.checkpoint import LOG_KEY_NAME, MAX_NOTE_BYTES, NoteVerifier
from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.merkle import MAX_PROOF_HASHES
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.node.adapters import SourceError, open_source
from tongdao.node.config import ConfigError, NodeConfig
from tongdao.node.corrections import apply_correction
from tongdao.node.cross_check import check_digests
from tongdao.node.engine import NodeEngine, ServedEntry
from tongdao.node.receipt_journal import MAX_PAGE, ReceiptJournal
from tongdao.node.reconciliation import build_report, holdings_key
from tongdao.node.state import NodeState
from tongdao.node.stream_padding import StreamPadding
from tongdao.node.witness import Witness, WitnessRefusal
from tongdao.policies.i18n import msg
from tongdao.policies.loader import load_policy
from tongdao.policies.masking import mask_value
from tongdao.policies.model import PolicyError
from tongdao.proto.edge import ServerLimits
from tongdao.proto.errors import FailedPrecondition, InvalidArgument
from tongdao.proto.query import Receipt, RelayedQuery
from tongdao.proto.transport import (
    TlsMaterial,
    TlsSource,
    add_health_and_reflection,
    bind,
    new_server,
    peer_common_name,
    server_credentials,
)
from tongdao.v1 import common_pb2, node_pb2, node_pb2_grpc, query_pb2

log = logging.getLogger("tongdao.node")
SERVICE_NAME = node_pb2.DESCRIPTOR.services_by_name["Node"].full_name


class NodeServicer(node_pb2_grpc.NodeServicer):
    """tongdao.v1.Node: protobuf ↔ engine."""

    def __init__(self, engine: NodeEngine) -> None:
        self.engine = engine

    def Query(self, request, context):  # type: ignore[no-untyped-def]
        caller = peer_common_name(context)
        # who calls comes first, even before the request is parsed: a stranger learns nothing
        self.engine.check_caller(caller)
        query = RelayedQuery.from_pb(request)
        answer = self.engine.answer(caller, query)
        r = answer.receipt  # journaled by the engine, durable before the answer leaves
        # log identifiers and sizes only: never keys, claims or values
        log.info(
            "answered %s request %s grant %s records=%d",
            query.method,
            r.request_id,
            r.grant_id,
            r.record_count,
        )
        return node_pb2.NodeQueryResponse(
            sealed_result=answer.sealed_result,
            ciphertexts=list(answer.ciphertexts),
            suppressed=answer.suppressed,
            receipt=r.to_pb(),
        )

    def QueryStream(self, request_iterator, context):  # type: ignore[no-untyped-def]
        caller = peer_common_name(context)
        self.engine.check_caller(caller)
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "open":
            raise InvalidArgument(msg("the first message must open the query"), field="open")
        query = RelayedQuery.from_pb(first.open)

        def chunks():  # type: ignore[no-untyped-def]
            for message in request_iterator:
                if message.WhichOneof("part") != "chunk":
                    raise InvalidArgument(msg("only chunks may follow the opening"), field="chunk")
                yield message.chunk

        sent = 0
        for item in self.engine.answer_stream(caller, query, chunks()):
            if isinstance(item, Receipt):
                if self.engine.journal is not None:
                    self.engine.journal.record(query.method, item)
                log.info(
                    "streamed %s request %s grant %s chunks=%d records=%d",
                    query.method,
                    item.request_id,
                    item.grant_id,
                    sent,
                    item.record_count,
                )
                yield query_pb2.QueryStreamResponse(
                    end=query_pb2.QueryStreamEnd(receipt=item.to_pb())
                )
            else:
                sent += 1
                yield query_pb2.QueryStreamResponse(chunk=item)

    def ListServedEntries(self, request, context):  # type: ignore[no-untyped-def]
        self.engine.check_caller(peer_common_name(context))
        return node_pb2.ListServedEntriesResponse(
            entries=[
                node_pb2.ServedEntry(
                    entry_code=e.code, fields=list(e.served_fields), record_count=e.source.count()
                )
                for e in self.engine.entries.values()
            ]
        )

    def AddCheckpoint(self, request, context):  # type: ignore[no-untyped-def]
        self.engine.check_caller(peer_common_name(context))
        witness = self.engine.witness
        if witness is None:
            raise FailedPrecondition(msg("this node is not a ledger witness"))
        if len(request.proof) > MAX_PROOF_HASHES:
            raise InvalidArgument(
                msg("has more than {MAX_PROOF_HASHES} hashes", MAX_PROOF_HASHES=MAX_PROOF_HASHES),
                field="proof",
            )
        if len(request.checkpoint) > MAX_NOTE_BYTES:
            raise InvalidArgument(msg("is too large"), field="checkpoint")
        if request.old_size < 0:
            raise InvalidArgument(msg("cannot be negative"), field="old_size")
        try:
            line = witness.add_checkpoint(request.old_size, list(request.proof), request.checkpoint)
        except WitnessRefusal as refusal:
            log.warning(
                "refused to cosign ledger checkpoint: %s (holding size %d)",
                refusal.reason,
                refusal.witnessed_size,
            )
            return node_pb2.AddCheckpointResponse(
                refusal=refusal.reason,
                message=refusal.message,
                witnessed_size=refusal.witnessed_size,
                witnessed_checkpoint=refusal.witnessed,
            )
        held, _ = witness.latest()
        return node_pb2.AddCheckpointResponse(
            cosignature=line.line(), witnessed_size=held.size if held else 0
        )

    def ListReceipts(self, request, context):  # type: ignore[no-untyped-def]
        self.engine.check_caller(peer_common_name(context))
        journal = self.engine.journal
        if journal is None:
            return node_pb2.ListReceiptsResponse()
        rows = journal.after(max(0, request.after), request.limit or MAX_PAGE)
        return node_pb2.ListReceiptsResponse(
            receipts=[
                node_pb2.JournaledReceipt(
                    position=j.position, method=j.method, receipt=j.receipt.to_pb()
                )
                for j in rows
            ]
        )

    def ReportReconciliation(self, request, context):  # type: ignore[no-untyped-def]
        self.engine.check_caller(peer_common_name(context))
        engine = self.engine
        if not engine.holdings_key:
            raise FailedPrecondition(msg("this node keeps no holdings key"))
        report = build_report(
            department=engine.department,
            signing_key=engine.signing_key,
            key=engine.holdings_key,
            sources={code: e.source for code, e in engine.entries.items()},
            journal=engine.journal,
            period_start=request.period_start,
            period_end=request.period_end,
            now=engine.clock(),
        )
        log.info(
            "reconciliation report %s..%s: %d entries, %d grants",
            report.period_start,
            report.period_end,
            len(report.entries),
            len(report.grants),
        )
        return node_pb2.ReconciliationReport(
            department=report.department,
            period_start=report.period_start,
            period_end=report.period_end,
            reported_at=report.reported_at,
            key_id=report.key_id,
            entries=[
                node_pb2.EntryHoldings(
                    entry_code=e.entry_code,
                    record_count=e.record_count,
                    content_digest=e.content_digest,
                )
                for e in report.entries
            ],
            grants=[
                node_pb2.GrantAnswers(
                    grant_id=g.grant_id,
                    answered=g.answered,
                    request_ids_digest=g.request_ids_digest,
                    request_ids=list(g.request_ids),
                )
                for g in report.grants
            ],
            signature=report.signature,
        )

    def ApplyCorrection(self, request, context):  # type: ignore[no-untyped-def]
        self.engine.check_caller(peer_common_name(context))
        r = apply_correction(
            self.engine,
            request_id=request.request_id,
            entry_code=request.entry_code,
            correction_id=request.correction_id,
            fields=tuple(request.fields),
            envelope=request.sealed_correction,
        )
        return common_pb2.CorrectionReceipt(
            request_id=r.request_id,
            department=r.department,
            entry_code=r.entry_code,
            correction_id=r.correction_id,
            fields=list(r.fields),
            before_digest=r.before_digest,
            after_digest=r.after_digest,
            key_id=r.key_id,
            decided_at=r.decided_at,
            refusal=r.refusal,
            signature=r.signature,
        )

    def CrossCheckDigests(self, request, context):  # type: ignore[no-untyped-def]
        self.engine.check_caller(peer_common_name(context))
        pairs = check_digests(
            self.engine,
            run_id=request.run_id,
            entry_code=request.entry_code,
            envelope=request.sealed_check,
        )
        return node_pb2.CrossCheckDigestsResponse(
            records=[node_pb2.RecordDigest(key_digest=k, value_digest=d) for k, d in pairs]
        )


@dataclass
class RunningNode:
    """A started node."""

    server: grpc.Server
    port: int
    engine: NodeEngine
    health: object

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = 2.0) -> None:
        self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)  # type: ignore[attr-defined]
        self.server.stop(grace).wait()
        self.engine.state.close()
        if self.engine.journal is not None:
            self.engine.journal.close()


def build_engine(
    config: NodeConfig,
    *,
    signing_key: SigningKey,
    encryption_keys: EncryptionKeyPair,
    broker_key: VerifyKey,
) -> NodeEngine:
    """Open the sources, policy and state named by ``config``, with the department's keys.

    Args:
        config: the node configuration.
        signing_key: the department's Ed25519 key (signs receipts).
        encryption_keys: the department's X25519 keys (queries are sealed to them).
        broker_key: the broker's public key (grant tokens must verify under it).

    Raises:
        ConfigError: a source or the policy cannot be loaded (the message says which).
    """
    try:
        policy = load_policy(config.policy)
    except PolicyError as exc:
        raise ConfigError(str(exc)) from None
    entries = {}
    for e in config.entries:
        for name, grade in e.grades.items():
            if grade not in policy.grades:
                raise ConfigError(
                    msg(
                        "entry {code}: grade {grade!r} of {name!r} is not in the policy",
                        code=e.code,
                        grade=grade,
                        name=name,
                    )
                )
        try:
            source = open_source(
                e.source,
                e.key_field,
                base=config.base_dir,
                casefold=e.casefold_keys,
                read_only=e.read_only,
            )
        except SourceError as exc:
            raise ConfigError(msg("entry {code}: {exc}", code=e.code, exc=exc.args[0])) from None
        # a grade for a column the source lacks is a typo that would leave the real column
        # ungraded, hence unserved; say so at start-up rather than at the first query
        unknown = [name for name in e.grades if name not in source.columns]
        if unknown:
            raise ConfigError(
                msg(
                    "entry {code}: grades name {v1}, not columns of the source ({v2})",
                    code=e.code,
                    v1=", ".join(map(repr, unknown)),
                    v2=", ".join(source.columns),
                )
            )
        if e.region_field and e.region_field not in source.columns:
            raise ConfigError(
                msg(
                    "entry {code}: region_field {region_field!r} is not a column of the source "
                    "({v1})",
                    code=e.code,
                    region_field=e.region_field,
                    v1=", ".join(source.columns),
                )
            )
        entries[e.code] = ServedEntry(
            e.code,
            source,
            e.key_field,
            e.grades,
            e.casefold_keys,
            region_field=e.region_field,
            region_codes=dict(e.region_codes),
        )

    def masker(grade: str, value: str, field_name: str) -> str:
        return mask_value(policy, grade, value, field_kind=field_name)

    state = NodeState(config.state_dir)  # the journal of receipts is one of its tables
    return NodeEngine(
        department=config.department,
        broker_key=broker_key,
        signing_key=signing_key,
        encryption_keys=encryption_keys,
        entries=entries,
        state=state,
        masker=masker,
        grade_methods={g: r.allowed_methods for g, r in policy.grades.items()},
        grade_roles={g: r.roles for g, r in policy.grades.items()},
        min_group_size=policy.min_group_size.value,
        min_group_article=policy.min_group_size.article,
        stream_padding=StreamPadding(
            policy.privacy.stream_padding_minimum, policy.privacy.stream_padding_steps
        ),
        purpose_article=policy.sharing.purpose_binding_article,
        grade_articles={g: r.article for g, r in policy.grades.items()},
        privacy_article=policy.privacy.article,
        status_article=policy.grant_status.article,
        catalogue_article=policy.classification_article,
        region_article=policy.sharing.request_contents_article,
        journal=ReceiptJournal(state),
        holdings_key=holdings_key(config.state_dir),
        witness=Witness(
            config.state_dir,
            name=config.department,
            key=signing_key,
            log=NoteVerifier(LOG_KEY_NAME, broker_key),
            origin=policy.ledger.origin if policy.ledger else "",
        )
        if policy.ledger
        else None,
    )


def start_node(
    engine: NodeEngine,
    tls: TlsMaterial | TlsSource,
    listen: str,
    *,
    identity: grpc.ServerInterceptor | None = None,
) -> RunningNode:
    """Serve ``engine`` on ``listen`` with mutual TLS, health checking and reflection.

    Args:
        engine: the node's engine.
        tls: the department's server material, or a source re-read on renewal.
        listen: HOST:PORT.
        identity: the caller check run before every handler (revocation, the broker only).

    Raises:
        RuntimeError: the address cannot be bound.
    """
    # every stream comes from the broker (relaying many departments): one cap for all
    limits = ServerLimits(max_streams_per_caller=ServerLimits().max_streams)
    server = new_server(
        limits,
        identity=identity,
        admit=engine.check_caller,
        admitted_services=(SERVICE_NAME,),
    )
    node_pb2_grpc.add_NodeServicer_to_server(NodeServicer(engine), server)
    health = add_health_and_reflection(server, [SERVICE_NAME])
    port = bind(server, listen, server_credentials(tls))
    server.start()
    return RunningNode(server, port, engine, health)
