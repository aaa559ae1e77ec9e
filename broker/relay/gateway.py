"""How the broker reaches providers' nodes: the gateway protocol and its gRPC implementation
(mutual TLS, bounded time)."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from typing import Protocol

import grpc

from tongdao.broker.sharing.corrections import CorrectionToApply
from tongdao.crypto.correction import CorrectionReceipt
from tongdao.crypto.grant_token import GrantTokenError, read_grant_token_unverified
from tongdao.crypto.pki import node_server_name
from tongdao.policies.i18n import Text, msg, render, translate
from tongdao.proto.errors import DomainError, Unavailable
from tongdao.proto.query import QueryAnswer, Receipt, RelayedQuery
from tongdao.proto.transport import TlsMaterial, TlsSource, secure_channel
from tongdao.v1 import node_pb2, node_pb2_grpc, query_pb2

MAX_RECEIPT_TEXT = 2000
MATERIAL_RECHECK_SECONDS = 1.0  # how soon a renewed broker certificate is used for node calls


class NodeRefused(DomainError):
    """The node answered with an error status; its code and message are relayed as they are."""

    # the relay records it in the ledger as query.failed; the refusal recorder leaves it alone
    recorded_in_ledger = True

    def __init__(self, code_name: str, message: str) -> None:
        super().__init__(message)
        self.code_name = code_name


class NodeGateway(Protocol):
    """How the broker reaches a provider's node (gRPC in production, a fake in unit tests)."""

    def query(self, endpoint: str, query: RelayedQuery) -> QueryAnswer:
        """Relay ``query`` to the node at ``endpoint``.

        Raises:
            Unavailable: the node cannot be reached.
            NodeRefused: the node answered with an error status.
        """
        ...

    def query_stream(
        self, endpoint: str, query: RelayedQuery, chunks: Iterator[bytes]
    ) -> Iterator[bytes | Receipt]:
        """Relay a streamed query: yields the node's sealed chunks, then its receipt.

        Raises:
            Unavailable: the node cannot be reached or went away mid-stream.
            NodeRefused: the node answered with an error status.
        """
        ...


def _provider_of(query: RelayedQuery) -> str:
    """The department the query is for: the provider named in the grant token (which the broker
    signed and the relay has already checked against the directory entry of ``endpoint``)."""
    return _provider_named_in(query.grant_token)


@functools.lru_cache(maxsize=4096)
def _provider_named_in(token: str) -> str:
    # a token's claims never change (a changed grant gets a new token): parsed once per token
    try:
        return read_grant_token_unverified(token).provider
    except GrantTokenError:
        return ""


class GrpcNodeGateway:
    """Relays queries to nodes, keeping one channel per (endpoint, department).

    Each channel verifies that the node's server certificate names the department
    (``<code>.node.tongdao.invalid``): a node at a registered endpoint cannot answer for another
    department. Given a :data:`TlsSource`, a renewed broker certificate is picked up by opening
    fresh channels.
    """

    def __init__(
        self,
        tls: TlsMaterial | TlsSource,
        *,
        timeout_seconds: float = 30.0,
        stream_timeout_seconds: float = 3600.0,
    ) -> None:
        self._source: TlsSource = tls if callable(tls) else (lambda: tls)
        self._tls = self._source()
        self._checked_at = time.monotonic()
        self._timeout = timeout_seconds
        self._stream_timeout = stream_timeout_seconds
        self._channels: dict[tuple[str, str], grpc.Channel] = {}
        self._stubs: dict[tuple[str, str], node_pb2_grpc.NodeStub] = {}
        self._lock = threading.Lock()

    def client_material(self) -> TlsMaterial:
        """The broker's current client material (a renewed certificate once it is complete).

        The source's files are looked at no more than once every ``MATERIAL_RECHECK_SECONDS``
        (each look is several ``stat`` calls, once per relayed query otherwise): a renewal is
        picked up within that time."""
        now = time.monotonic()
        if now - self._checked_at < MATERIAL_RECHECK_SECONDS:
            return self._tls
        self._checked_at = now
        try:
            return self._source()
        except Exception:  # a renewal half-written: keep the current material
            return self._tls

    def _stub(self, endpoint: str, department: str) -> node_pb2_grpc.NodeStub:
        material = self.client_material()
        with self._lock:
            if material != self._tls:
                for old in self._channels.values():
                    old.close()
                self._channels.clear()
                self._tls = material
                self._stubs.clear()
            key = (endpoint, department)
            stub = self._stubs.get(key)
            if stub is None:
                name = node_server_name(department) if department else ""
                channel = secure_channel(endpoint, self._tls, server_name=name)
                self._channels[key] = channel
                # one stub per channel: a stub builds a callable for every RPC of the service
                stub = self._stubs[key] = node_pb2_grpc.NodeStub(channel)
        return stub

    def query(self, endpoint: str, query: RelayedQuery) -> QueryAnswer:
        """Relay one query; see :class:`NodeGateway`."""
        request = query.to_pb()
        try:
            # an aggregate scans the node's whole entry (10⁶ rows: tens of seconds)
            timeout = self._stream_timeout if query.method == "aggregate" else self._timeout
            reply = self._stub(endpoint, _provider_of(query)).Query(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _node_error(endpoint, exc) from None
        return QueryAnswer(
            sealed_result=reply.sealed_result,
            receipt=Receipt.from_pb(reply.receipt),
            ciphertexts=tuple(reply.ciphertexts),
            suppressed=reply.suppressed,
        )

    def query_stream(
        self, endpoint: str, query: RelayedQuery, chunks: Iterator[bytes]
    ) -> Iterator[bytes | Receipt]:
        """Relay a streamed query; see :class:`NodeGateway`."""

        def requests() -> Iterator[query_pb2.QueryStreamRequest]:
            yield query_pb2.QueryStreamRequest(open=query.to_pb())
            for chunk in chunks:
                yield query_pb2.QueryStreamRequest(chunk=chunk)

        stub = self._stub(endpoint, _provider_of(query))
        call = stub.QueryStream(requests(), timeout=self._stream_timeout)
        try:
            for reply in call:
                if reply.WhichOneof("part") == "end":
                    yield Receipt.from_pb(reply.end.receipt)
                    return
                yield reply.chunk
        except grpc.RpcError as exc:
            raise _node_error(endpoint, exc) from None
        finally:
            call.cancel()  # no-op once the call has ended; stops the node if we leave early

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()
            self._stubs.clear()

    def apply_correction(
        self, endpoint: str, department: str, correction: CorrectionToApply
    ) -> CorrectionReceipt:
        """Relay one accepted correction (Art.24); the node's receipt, checked for shape only
        (the sharing context verifies its signature against the directory)."""
        request = node_pb2.ApplyCorrectionRequest(
            request_id=correction.request_id,
            entry_code=correction.entry_code,
            correction_id=correction.correction_id,
            fields=list(correction.fields),
            sealed_correction=correction.sealed_correction,
        )
        try:
            r = self._stub(endpoint, department).ApplyCorrection(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise _node_error(endpoint, exc) from None
        texts = (r.request_id, r.department, r.entry_code, r.correction_id, r.key_id, r.refusal)
        if any(len(t) > MAX_RECEIPT_TEXT for t in texts) or len(r.fields) > len(correction.fields):
            raise Unavailable(
                msg(
                    "provider node at {endpoint} sent a malformed correction receipt",
                    endpoint=endpoint,
                )
            )
        return CorrectionReceipt(
            request_id=r.request_id,
            department=r.department,
            entry_code=r.entry_code,
            correction_id=r.correction_id,
            fields=tuple(r.fields),
            before_digest=r.before_digest,
            after_digest=r.after_digest,
            key_id=r.key_id,
            decided_at=r.decided_at,
            refusal=r.refusal,
            signature=r.signature,
        )

    def cross_check_digests(
        self, endpoint: str, department: str, run_id: str, entry_code: str, sealed_check: bytes
    ) -> list[tuple[bytes, bytes]]:
        """A node's keyed digests for a cross-verification (Art.24)."""
        request = node_pb2.CrossCheckDigestsRequest(
            run_id=run_id, entry_code=entry_code, sealed_check=sealed_check
        )
        try:
            reply = self._stub(endpoint, department).CrossCheckDigests(
                request, timeout=self._timeout
            )
        except grpc.RpcError as exc:
            raise _node_error(endpoint, exc) from None
        return [(r.key_digest, r.value_digest) for r in reply.records]


def _node_error(endpoint: str, exc: grpc.RpcError) -> Unavailable | NodeRefused:
    code = exc.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(
            msg(
                "provider node at {endpoint} is unavailable ({v3}); nothing "
                "was served — try again later",
                endpoint=endpoint,
                v3=code.name.lower(),
            )
        )
    return NodeRefused(code.name, msg("provider node refused: {details}", details=relayed(exc)))


def relayed(exc: grpc.RpcError) -> str:
    """The node's message (English, as the node answers the broker), as a
    :class:`~tongdao.policies.i18n.Text` the broker can answer again in its caller's language
    when the node sent its template (``google.rpc.ErrorInfo``); else the plain text."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    english = exc.details() or ""
    try:
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    except (AttributeError, TypeError, ValueError):
        return english
    info = error_details_pb2.ErrorInfo()
    if status is None or not any(d.Unpack(info) for d in status.details):
        return english
    meta = info.metadata
    try:
        params = json.loads(meta["params"]) if "params" in meta else None
        if not isinstance(params, dict) or "template" not in meta:
            return english
        inner = translate(meta["template"], "en", **params)
        render(inner, "zh-CN")  # a template this broker cannot render: keep the English
    except (ValueError, KeyError, IndexError, TypeError):
        return english
    prefix = f"{meta['field']}: " if meta.get("field") else ""
    suffix = f" [{meta['articles']}]" if meta.get("articles") else ""
    return Text(
        english, "{prefix}{message}{suffix}", {"prefix": prefix, "message": inner, "suffix": suffix}
    )
