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

import json
import uuid
from collections.abc import Sequence
from typing import Any

import grpc

from crypto.envelope import EncryptionKeyPair, open_sealed, seal
from crypto.errors import EnvelopeError, SignatureError
from crypto.grant_token import GrantTokenError, read_grant_token_unverified
from crypto.query_binding import (
    QUERY,
    RESULT,
    query_associated_data,
    receipt_signing_bytes,
    result_digest,
)
from crypto.signing import VerifyKey
from proto.methods import METHOD_VALUES
from proto.tongdao.v1 import broker_pb2, broker_pb2_grpc
from proto.transport import TlsMaterial, secure_channel

DEFAULT_TIMEOUT = 30.0


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

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.broker, method)(request, timeout=self._timeout)
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
        enc_key, sig_key = self._provider(claims.provider)
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
        r = reply.receipt
        try:
            if r.request_id != request_id or r.result_digest != result_digest(reply.sealed_result):
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
            plain = open_sealed(
                self._keys.private_key,
                reply.sealed_result,
                query_associated_data(claims.grant_id, request_id, method, RESULT),
            )
        except (SignatureError, EnvelopeError) as exc:
            raise ClientError("DATA_LOSS", f"the answer does not authenticate: {exc}") from None
        return json.loads(plain)

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
