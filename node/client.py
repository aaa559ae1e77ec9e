"""The consumer department's client SDK: request, grant, fetch and verify without touching crypto.

    client = ConsumerClient("127.0.0.1:7443", home.tls("hrb.rsj"), home.encryption_keys("hrb.rsj"),
                            "hrb.rsj")
    request = client.file_share_request("gat.population", ["name"], ["fetch"],
                                        purpose, scenario, basis)
    grant = client.get_grant(request.grant_id)
    rows = client.fetch(grant.token, ["230102199001011234"], ["name"], purpose)

Queries are sealed to the provider node's public key (from the broker's directory) and results
opened with the consumer's private key, which never leaves this process.
"""

from __future__ import annotations

import base64
import json
import queue
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import grpc

from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed, seal
from tongdao.crypto.errors import EnvelopeError, SignatureError
from tongdao.crypto.grant_token import GrantClaims, GrantTokenError, read_grant_token_unverified
from tongdao.crypto.psi import POINT_BYTES
from tongdao.crypto.query_binding import (
    QUERY,
    RESULT,
    query_associated_data,
    receipt_signing_bytes,
    result_digest,
)
from tongdao.crypto.signing import VerifyKey
from tongdao.crypto.stream import (
    DOWNSTREAM,
    UPSTREAM,
    ChunkOpener,
    ChunkSealer,
    StreamDigest,
    new_stream_secret,
)
from tongdao.node import streams
from tongdao.node.streams import (
    CHUNK_POINTS,
    DOUBLE,
    HEADER,
    MASKED_SUM,
    PAIRS,
    PARALLEL_FROM,
    POINTS,
    POINTS_END,
    PROVIDER,
    PROVIDER_END,
    StreamWorkers,
    chunked,
    frame,
    json_body,
    json_frame,
    unpack_pairs,
)
from tongdao.proto.errors import DomainError
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.transport import TlsMaterial, secure_channel
from tongdao.v1 import broker_pb2, broker_pb2_grpc

DEFAULT_TIMEOUT = 30.0
STREAM_TIMEOUT = 3600.0  # a streamed query at 10⁶ keys takes minutes


class ClientError(Exception):
    """A call failed. ``code`` is the gRPC status name (e.g. PERMISSION_DENIED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConsumerClient:
    """A consumer department's view of the broker."""

    def __init__(
        self,
        broker_target: str,
        tls: TlsMaterial,
        encryption_keys: EncryptionKeyPair,
        department_code: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.department = department_code
        self._keys = encryption_keys
        self._timeout = timeout
        self._channel = secure_channel(broker_target, tls)
        self.broker = broker_pb2_grpc.BrokerStub(self._channel)
        self._provider_keys: dict[str, tuple[bytes, bytes]] = {}

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> ConsumerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Any, *, timeout: float | None = None) -> Any:
        try:
            return getattr(self.broker, method)(request, timeout=timeout or self._timeout)
        except grpc.RpcError as exc:
            raise ClientError(exc.code().name, exc.details() or "") from None

    # ------------------------------------------------------------------ requests and grants
    def file_share_request(
        self,
        entry_code: str,
        fields: Sequence[str],
        methods: Sequence[str],
        purpose: str,
        scenario: str,
        legal_basis: str,
        *,
        regions: Sequence[str] = (),
        validity_days: int = 0,
        quota: int = 0,
        dp_epsilon: float = 0.0,
        dp_budget: float = 0.0,
    ) -> broker_pb2.ShareRequest:
        """File a share request (SHR-1); the reply has the decision and, if approved, the grant id.

        Raises:
            ClientError: unknown method name, or the broker refused the call.
        """
        try:
            method_values = [METHOD_VALUES[m] for m in methods]
        except KeyError as exc:
            raise ClientError(
                "INVALID_ARGUMENT", f"methods: unknown method {exc.args[0]!r}"
            ) from None
        return self._call(
            "FileShareRequest",
            broker_pb2.FileShareRequestRequest(
                request=broker_pb2.ShareRequest(
                    entry_code=entry_code,
                    fields=list(fields),
                    methods=method_values,
                    purpose=purpose,
                    scenario=scenario,
                    legal_basis=legal_basis,
                    regions=list(regions),
                    requested_validity_days=validity_days,
                    requested_quota=quota,
                    dp_epsilon=dp_epsilon,
                    dp_budget=dp_budget,
                )
            ),
        )

    def get_share_request(self, request_id: str) -> broker_pb2.ShareRequest:
        return self._call("GetShareRequest", broker_pb2.GetShareRequestRequest(id=request_id))

    def list_share_requests(
        self, role: str = "consumer", status: str = ""
    ) -> list[broker_pb2.ShareRequest]:
        reply = self._call(
            "ListShareRequests", broker_pb2.ListShareRequestsRequest(role=role, status=status)
        )
        return list(reply.requests)

    def decide_share_request(
        self, request_id: str, approve: bool, reason: str
    ) -> broker_pb2.ShareRequest:
        """(Provider side) approve or refuse a conditional request in the caller's inbox."""
        return self._call(
            "DecideShareRequest",
            broker_pb2.DecideShareRequestRequest(id=request_id, approve=approve, reason=reason),
        )

    def get_grant(self, grant_id: str) -> broker_pb2.Grant:
        """A grant, with its token when the caller is the consumer."""
        return self._call("GetGrant", broker_pb2.GetGrantRequest(id=grant_id))

    # ------------------------------------------------------------------ queries
    def _provider(self, code: str) -> tuple[bytes, bytes]:
        if code not in self._provider_keys:
            dept = self._call("GetDepartment", broker_pb2.GetDepartmentRequest(code=code))
            self._provider_keys[code] = (dept.encryption_public_key, dept.signing_public_key)
        return self._provider_keys[code]

    def _query(
        self, token: str, method: str, fields: Sequence[str], purpose: str, body: dict[str, Any]
    ) -> Any:
        try:
            claims = read_grant_token_unverified(token)
        except GrantTokenError as exc:
            raise ClientError("INVALID_ARGUMENT", f"grant_token: {exc}") from None
        enc_key, _ = self._provider(claims.provider)
        request_id = str(uuid.uuid4())
        sealed = seal(
            enc_key,
            json.dumps(body, ensure_ascii=False).encode(),
            query_associated_data(claims.grant_id, request_id, method, QUERY),
        )
        reply = self._call(
            "Query",
            broker_pb2.QueryRequest(
                grant_token=token,
                request_id=request_id,
                method=METHOD_VALUES[method],
                purpose=purpose,
                fields=list(fields),
                sealed_query=sealed,
            ),
        )
        self._check_receipt(reply.receipt, request_id, claims, reply.sealed_result)
        try:
            plain = open_sealed(
                self._keys.private_key,
                reply.sealed_result,
                query_associated_data(claims.grant_id, request_id, method, RESULT),
            )
        except (SignatureError, EnvelopeError) as exc:
            raise ClientError("DATA_LOSS", f"the answer does not authenticate: {exc}") from None
        return json.loads(plain)

    def _check_receipt(
        self, r: Any, request_id: str, claims: GrantClaims, sealed_result: bytes | StreamDigest
    ) -> None:
        """Check the provider's signature over what it answered (aggregates: the broker's check).

        The receipt must name our request, the grant and the provider the token names: the
        signing key is looked up for the token's provider, so a relay cannot pass off another
        department's receipt.

        Raises:
            ClientError: DATA_LOSS naming what does not match or verify.
        """
        _, sig_key = self._provider(claims.provider)
        try:
            if r.request_id != request_id:
                raise SignatureError("receipt names another request")
            if r.grant_id != claims.grant_id:
                raise SignatureError("receipt names another grant")
            if r.provider != claims.provider:
                raise SignatureError("receipt names another provider")
            if isinstance(sealed_result, StreamDigest):
                if r.result_digest != sealed_result.digest():
                    raise SignatureError("receipt does not match the chunks received")
            elif sealed_result and r.result_digest != result_digest(sealed_result):
                raise SignatureError("receipt does not match the result")
            VerifyKey(sig_key).verify(
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
        except SignatureError as exc:
            raise ClientError(
                "DATA_LOSS", f"the provider's receipt does not verify: {exc}"
            ) from None

    # ------------------------------------------------------------------ privacy computing
    def _stream(
        self, token: str, method: str, fields: Sequence[str], purpose: str, body: dict[str, Any]
    ) -> _QueryStream:
        try:
            claims = read_grant_token_unverified(token)
        except GrantTokenError as exc:
            raise ClientError("INVALID_ARGUMENT", f"grant_token: {exc}") from None
        enc_key, _ = self._provider(claims.provider)
        return _QueryStream(self, claims, token, method, fields, purpose, body, enc_key)

    def intersection(
        self,
        grant_token: str,
        keys: Sequence[str],
        key_field: str,
        purpose: str,
        *,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """ECDH-PSI with the provider's key field (PRIV-3), as one streamed query.

        Args:
            grant_token: a grant with ``intersection`` or ``intersection_size``.
            keys: our keys (normalised as the node does: NFKC, trimmed, case-folded).
            key_field: the provider entry's key field (must be in the grant).
            purpose: the grant's purpose.
            progress: ``progress(stage, done, total)`` as points are blinded and matched.

        Returns:
            ``{"size": n, "consumer_set_size": m, "provider_rows": r}`` plus ``"members"`` when
            the grant's method is ``intersection``; with ``intersection_size`` the node shuffles,
            so only the size is known.

        Raises:
            ClientError: the broker's or node's refusal (its status), or DATA_LOSS when the
                answer does not authenticate.
        """
        from tongdao.node.engines import psi_key

        method = self._psi_method(grant_token)
        originals: dict[bytes, str] = {}
        for k in keys:
            originals.setdefault(psi_key(k), k)
        unique = list(originals)
        with StreamWorkers(secrets.token_bytes(32), None, workers=_workers(len(unique))) as pool:
            stream = self._stream(
                grant_token, method, [key_field], purpose, {"points": len(unique)}
            )
            stream.run(_blinded_frames(pool, unique, progress))
            header = stream.expect_json(HEADER)
            ordered = bool(header.get("ordered"))
            theirs_total = int(header.get("provider_rows", 0))
            double_list: list[bytes] = []
            double_set: set[bytes] = set()
            for body in stream.bodies(DOUBLE):
                points = _split(body)
                if ordered:
                    double_list.extend(points)
                else:
                    double_set.update(points)
            got = len(double_list) if ordered else len(double_set)
            if got != len(unique):
                raise ClientError("DATA_LOSS", "the node returned a different number of points")
            theirs: set[bytes] = set()
            size = 0
            done = 0
            for raw in pool.map("reblind", stream.bodies(PROVIDER)):
                points = _split(raw)
                if ordered:
                    theirs.update(points)
                else:
                    size += sum(p in double_set for p in points)
                done += len(points)
                if progress:
                    progress("matching", done, theirs_total)
            end = stream.expect_json(PROVIDER_END)
            stream.finish()
        out: dict[str, Any] = {
            "consumer_set_size": len(unique),
            "provider_rows": int(end.get("provider_rows", done)),
        }
        if ordered:
            hits = [p in theirs for p in double_list]
            out["size"] = sum(hits)
            out["members"] = [originals[u] for u, hit in zip(unique, hits, strict=True) if hit]
        else:
            out["size"] = size
        return out

    def _psi_method(self, grant_token: str) -> str:
        try:
            methods = read_grant_token_unverified(grant_token).methods
        except GrantTokenError as exc:
            raise ClientError("INVALID_ARGUMENT", f"grant_token: {exc}") from None
        for method in ("intersection", "intersection_size"):
            if method in methods:
                return method
        raise ClientError("PERMISSION_DENIED", "method: the grant allows no intersection")

    def intersection_sum(
        self,
        grant_token: str,
        keys: Sequence[str],
        value_field: str,
        purpose: str,
        *,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Size of the intersection and the sum of ``value_field`` over it (PRIV-4).

        One streamed query. The provider's values arrive encrypted under a Paillier key only the
        provider holds, paired with its double-blinded keys in shuffled order; we add the
        ciphertexts whose keys match ours, mask the total with a uniformly random ``r`` and let
        the provider decrypt ``S + r``. Neither side learns which keys matched; the provider
        learns the size of our set and of the intersection (it enforces the minimum group size).

        Args:
            grant_token: a grant with ``intersection_sum`` on ``value_field``.
            keys: our keys (normalised as the node does).
            value_field: the provider's numeric data item to sum.
            purpose: the grant's purpose.
            progress: ``progress(stage, done, total)`` as points are blinded and matched.

        Returns:
            ``{"size": n, "sum": Decimal, "consumer_set_size": m, "provider_rows": r}``.

        Raises:
            ClientError: PERMISSION_DENIED below the minimum group size (with the article),
                other refusals with their status, DATA_LOSS when the answer does not
                authenticate or a ciphertext is invalid.
        """
        from tongdao.crypto.paillier import Evaluator, InvalidCiphertext, PaillierPublicKey
        from tongdao.node.engines import psi_key

        unique = list(dict.fromkeys(psi_key(k) for k in keys))
        final_message: queue.Queue[bytes] = queue.Queue(maxsize=1)
        with StreamWorkers(secrets.token_bytes(32), None, workers=_workers(len(unique))) as pool:
            stream = self._stream(
                grant_token,
                "intersection_sum",
                [value_field],
                purpose,
                {"points": len(unique), "value_field": value_field},
            )
            stream.run(_blinded_frames(pool, unique, progress, then=final_message, final=False))
            header = stream.expect_json(HEADER)
            try:
                public_key = PaillierPublicKey.from_bytes(
                    bytes.fromhex(header["paillier_public_key"])
                )
                scale = int(header["scale_digits"])
            except (KeyError, ValueError, TypeError, InvalidCiphertext):
                raise ClientError("DATA_LOSS", "the node's header is malformed") from None
            theirs_total = int(header.get("provider_rows", 0))
            double: set[bytes] = set()
            for body in stream.bodies(DOUBLE):
                double.update(_split(body))
            width = public_key.ciphertext_bytes
            evaluator = Evaluator(public_key)
            total = None
            size = done = 0
            pending: deque[bytes] = deque()

            def points_of_pairs() -> Iterator[bytes]:
                for pairs in stream.bodies(PAIRS):
                    points, cts = _unpack_pairs(pairs, width)
                    pending.append(cts)
                    yield b"".join(points)

            try:
                for raw in pool.map("reblind", points_of_pairs()):
                    cts = pending.popleft()
                    points = _split(raw)
                    chosen = [
                        cts[i * width : (i + 1) * width]
                        for i, p in enumerate(points)
                        if p in double
                    ]
                    size += len(chosen)
                    if chosen:
                        total = evaluator.sum_received(chosen, start=total)
                    done += len(points)
                    if progress:
                        progress("matching", done, theirs_total)
            except InvalidCiphertext as exc:
                raise ClientError(
                    "DATA_LOSS", f"the node sent an invalid ciphertext: {exc}"
                ) from None
            end = stream.expect_json(PROVIDER_END)
            mask = secrets.randbelow(int(public_key.n))
            encrypted = total if total is not None else public_key.encrypt(0)
            masked = (encrypted + public_key.raw_encrypt_unobfuscated(mask)).rerandomise()
            final_message.put(
                json_frame(MASKED_SUM, {"count": size, "masked_sum": masked.to_bytes().hex()})
            )
            result = stream.expect_json(streams.RESULT)
            stream.finish()
        n = int(public_key.n)
        try:
            value = (int(result["masked_sum"]) - mask) % n
        except (KeyError, ValueError, TypeError):
            raise ClientError("DATA_LOSS", "the node's result is malformed") from None
        if value > n // 2:
            value -= n
        return {
            "size": size,
            "sum": Decimal(value).scaleb(-scale),
            "consumer_set_size": len(unique),
            "provider_rows": int(end.get("provider_rows", done)),
        }

    def aggregate(
        self,
        grant_tokens: Sequence[str],
        value_field: str,
        purpose: str,
        *,
        bounds: tuple[float, float],
        buckets: Sequence[float] = (),
        filter_field: str | None = None,
        filter_op: str = "eq",
        filter_value: Any = None,
        max_rows: int = 1_000_000,
        key_bits: int = 2048,
    ) -> dict[str, Any]:
        """Count, sum, mean, variance and histogram of ``value_field`` across nodes (PRIV-5).

        One grant per provider node. The broker adds the nodes' packed ciphertexts under our
        Paillier key; only we decrypt the total.

        Values are clipped to ``bounds``, and the histogram covers all of them: ``buckets``
        edges must lie within the bounds, and the bounds are added as the outer edges when the
        given ones stop short (``0,300,600`` with bounds ``0,3000`` counts ``[600, 3000]`` as
        the last bucket), so no value is left out. Buckets are ``[a, b)``, the last ``[a, b]``.

        Raises:
            ClientError: INVALID_ARGUMENT for edges outside the bounds or not increasing.
        """
        from tongdao.crypto.paillier import generate_paillier_keypair
        from tongdao.node.engines import VALUE_SCALE_DIGITS, AggregateQuery, aggregate_scheme

        def scaled(x: float) -> int:
            return int(Decimal(str(x)).scaleb(VALUE_SCALE_DIGITS).to_integral_value())

        buckets = _histogram_edges(bounds, buckets)
        public_key, private_key = generate_paillier_keypair(key_bits)
        lo, hi = scaled(bounds[0]), scaled(bounds[1])
        edges = [scaled(b) for b in buckets]
        flt = {"field": filter_field, "op": filter_op, "value": filter_value}
        body = {
            "paillier_public_key": _b64(public_key.to_bytes()),
            "value_field": value_field,
            "filter": flt if filter_field else None,
            "bounds": [lo, hi],
            "buckets": edges,
            "nodes": len(grant_tokens),
            "max_rows": max_rows,
        }
        fields = [value_field] + ([filter_field] if filter_field else [])
        parts = []
        sent: dict[str, GrantClaims] = {}
        for token in grant_tokens:
            try:
                claims = read_grant_token_unverified(token)
            except GrantTokenError as exc:
                raise ClientError("INVALID_ARGUMENT", f"grant_token: {exc}") from None
            enc_key, _ = self._provider(claims.provider)
            request_id = str(uuid.uuid4())
            sent[request_id] = claims
            sealed = seal(
                enc_key,
                json.dumps(body).encode(),
                query_associated_data(claims.grant_id, request_id, "aggregate", QUERY),
            )
            parts.append(
                broker_pb2.QueryRequest(
                    grant_token=token,
                    request_id=request_id,
                    method=METHOD_VALUES["aggregate"],
                    purpose=purpose,
                    fields=fields,
                    sealed_query=sealed,
                )
            )
        reply = self._call(
            "Aggregate",
            broker_pb2.AggregateRequest(parts=parts, paillier_public_key=public_key.to_bytes()),
            timeout=max(self._timeout, STREAM_TIMEOUT),  # nodes scan whole entries
        )
        for part in reply.parts:
            # each receipt must answer one of our parts, once
            part_claims = sent.pop(part.receipt.request_id, None)
            if part_claims is None:
                raise ClientError("DATA_LOSS", "an aggregate receipt names no request we sent")
            self._check_receipt(part.receipt, part.receipt.request_id, part_claims, b"")
        q = AggregateQuery(
            public_key,
            value_field,
            filter_field,
            filter_op,
            filter_value,
            lo,
            hi,
            tuple(edges),
            len(grant_tokens),
            max_rows,
        )
        scheme = aggregate_scheme(q)
        stats = scheme.decrypt(
            private_key,
            [public_key.ciphertext(c) for c in reply.ciphertexts],
            3 + max(len(edges) - 1, 0),
            summed=len(grant_tokens),
        )
        count, s1, s2, hist = stats[0], stats[1], stats[2], stats[3:]
        scale = Decimal(10) ** VALUE_SCALE_DIGITS
        labels = [
            f"[{buckets[i]}, {buckets[i + 1]}{']' if i == len(hist) - 1 else ')'}"
            for i in range(len(hist))
        ]
        out: dict[str, Any] = {
            "count": count,
            "nodes": len(grant_tokens),
            "suppressed_nodes": [p.provider for p in reply.parts if p.suppressed],
            "histogram": dict(zip(labels, hist, strict=True)),
        }
        if count:
            mean_shifted = Decimal(s1) / count
            out["sum"] = (Decimal(s1) + Decimal(lo) * count) / scale
            out["mean"] = (mean_shifted + lo) / scale
            variance = Decimal(s2) / count - mean_shifted * mean_shifted
            out["variance"] = max(variance, Decimal(0)) / scale / scale
        return out

    def fetch(
        self, grant_token: str, keys: Sequence[str], fields: Sequence[str], purpose: str
    ) -> list[dict[str, Any]]:
        """Granted fields of the records with these keys (PRIV-1), masked as the policy says.

        Returns:
            One ``{"key", "found", "fields"}`` dict per key, in order.
        """
        return list(
            self._query(grant_token, "fetch", fields, purpose, {"keys": list(keys)})["records"]
        )

    def verify(
        self, grant_token: str, key: str, claims: dict[str, str], purpose: str
    ) -> dict[str, Any]:
        """Match / no-match per claimed field (PRIV-2); no value is returned.

        Returns:
            ``{"found": bool, "matches": {field: bool}}``.
        """
        return dict(
            self._query(
                grant_token, "verify", list(claims), purpose, {"key": key, "claims": claims}
            )
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage is ``blinding`` or ``matching``."""


def _workers(n: int) -> int:
    return 2 if n >= PARALLEL_FROM else 1


def _split(raw: bytes) -> list[bytes]:
    if len(raw) % POINT_BYTES:
        raise ClientError("DATA_LOSS", "the node returned a truncated point list")
    return [raw[i : i + POINT_BYTES] for i in range(0, len(raw), POINT_BYTES)]


def _unpack_pairs(body: bytes, width: int) -> tuple[list[bytes], bytes]:
    try:
        return unpack_pairs(body, width)
    except DomainError as exc:
        raise ClientError("DATA_LOSS", f"the node's pairs do not parse: {exc}") from None


def _blinded_frames(
    pool: StreamWorkers,
    keys: list[bytes],
    progress: Progress | None,
    *,
    then: queue.Queue[bytes] | None = None,
    final: bool = True,
) -> Iterator[tuple[bytes, bool]]:
    """Our blinded keys as ``P`` frames, then ``E``; then (intersection-sum) the one frame put
    on ``then`` once the answer is in, sent as the final chunk."""
    done = 0
    for raw in pool.map("blind", chunked(keys, CHUNK_POINTS)):
        done += len(raw) // POINT_BYTES
        yield frame(POINTS, raw), False
        if progress:
            progress("blinding", done, len(keys))
    yield frame(POINTS_END), final
    if then is not None:
        yield then.get(), True


class _QueryStream:
    """One streamed query from the consumer's side: sealing, opening, the receipt."""

    def __init__(
        self,
        client: ConsumerClient,
        claims: GrantClaims,
        token: str,
        method: str,
        fields: Sequence[str],
        purpose: str,
        body: dict[str, Any],
        provider_key: bytes,
    ) -> None:
        self._client = client
        self.claims = claims
        self.request_id = str(uuid.uuid4())
        secret = new_stream_secret()
        context = query_associated_data(claims.grant_id, self.request_id, method, QUERY)
        self._open = broker_pb2.QueryRequest(
            grant_token=token,
            request_id=self.request_id,
            method=METHOD_VALUES[method],
            purpose=purpose,
            fields=list(fields),
            sealed_query=seal(
                provider_key,
                json.dumps({**body, "stream_secret": secret.hex()}).encode(),
                context,
            ),
        )
        self._sealer = ChunkSealer(secret, context, UPSTREAM)
        self._opener = ChunkOpener(secret, context, DOWNSTREAM)
        self._digest = StreamDigest()
        self._frames: Iterator[tuple[bytes, bytes]] | None = None
        self._pushed: tuple[bytes, bytes] | None = None
        self._call: Any = None
        self.ledger_sequence = 0

    def run(self, upstream: Iterator[tuple[bytes, bool]]) -> None:
        """Start the call; ``upstream`` yields (frame, final) and is read by gRPC's thread.
        The node's frames are then read with :meth:`next_frame`, :meth:`bodies` and
        :meth:`expect_json`."""

        def requests() -> Iterator[broker_pb2.QueryStreamRequest]:
            yield broker_pb2.QueryStreamRequest(open=self._open)
            for message, final in upstream:
                yield broker_pb2.QueryStreamRequest(chunk=self._sealer.seal(message, final=final))

        self._call = self._client.broker.QueryStream(
            requests(), timeout=max(self._client._timeout, STREAM_TIMEOUT)
        )
        self._frames = self._read()

    def _read(self) -> Iterator[tuple[bytes, bytes]]:
        try:
            for reply in self._call:
                if reply.WhichOneof("part") == "end":
                    self._opener.require_finished()
                    self._client._check_receipt(
                        reply.end.receipt, self.request_id, self.claims, self._digest
                    )
                    self.ledger_sequence = reply.end.ledger_sequence
                    return
                self._digest.update(reply.chunk)
                plain = self._opener.open(reply.chunk)
                if not plain:
                    raise ClientError("DATA_LOSS", "the node sent an empty frame")
                yield plain[:1], plain[1:]
        except grpc.RpcError as exc:
            raise ClientError(exc.code().name, exc.details() or "") from None
        except EnvelopeError as exc:
            raise ClientError("DATA_LOSS", f"the answer does not authenticate: {exc}") from None

    def next_frame(self) -> tuple[bytes, bytes]:
        """The next (kind, body); ``(b"", b"")`` once the node's frames are over."""
        if self._pushed is not None:
            item, self._pushed = self._pushed, None
            return item
        assert self._frames is not None
        return next(self._frames, (b"", b""))

    def bodies(self, kind: bytes) -> Iterator[bytes]:
        """Bodies of the consecutive ``kind`` frames from here; the first other frame stays
        next."""
        while True:
            got, body = self.next_frame()
            if got != kind:
                self._pushed = (got, body)
                return
            yield body

    def expect_json(self, kind: bytes) -> dict[str, Any]:
        """The next frame, which must be ``kind`` with a JSON object body.

        Raises:
            ClientError: DATA_LOSS naming what arrived instead.
        """
        got, body = self.next_frame()
        if got != kind:
            raise ClientError("DATA_LOSS", f"expected a {kind!r} frame, got {got!r}")
        try:
            return json_body(body, "frame")
        except DomainError:
            raise ClientError("DATA_LOSS", f"the node's {kind!r} frame is not JSON") from None

    def finish(self) -> None:
        """Read to the end: the node's receipt must arrive and verify."""
        kind, _ = self.next_frame()
        if kind:
            raise ClientError("DATA_LOSS", f"unexpected {kind!r} frame after the answer")
        if not self.ledger_sequence:
            raise ClientError("DATA_LOSS", "the stream ended without the provider's receipt")


def _histogram_edges(bounds: tuple[float, float], buckets: Sequence[float]) -> list[float]:
    """Histogram edges that cover every (clipped) value: the bounds close any open end.

    Raises:
        ClientError: INVALID_ARGUMENT naming ``buckets``.
    """
    edges = list(buckets)
    if not edges:
        return edges
    low, high = bounds
    if edges != sorted(set(edges)):
        raise ClientError("INVALID_ARGUMENT", "buckets: the edges must increase")
    if edges[0] < low or edges[-1] > high:
        raise ClientError(
            "INVALID_ARGUMENT",
            f"buckets: every edge must lie within the bounds [{low}, {high}] "
            "(values are clipped to the bounds)",
        )
    if edges[0] > low:
        edges.insert(0, low)
    if edges[-1] < high:
        edges.append(high)
    return edges
