"""The consumer department's client SDK: request, grant, fetch and verify without touching crypto.

    client = ConsumerClient("127.0.0.1:7443", home.tls("hrb.rsj"), home.encryption_keys("hrb.rsj"),
                            "hrb.rsj")
    request = client.file_share_request("gat.population", ["name"], ["fetch"],
                                        purpose, scenario, basis)
    grant = client.get_grant(request.grant_id)
    rows = client.fetch(grant.token, ["230102199001011234"], ["name"], purpose)

Queries are sealed to the provider node's public key (from the broker's directory) as envelopes
authenticated by the consumer's own key — the one the grant names, so the node runs a query only
for that consumer — and results opened with the consumer's private key, which never leaves this
process.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from typing import Any, cast

import grpc

from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed, seal_authenticated
from tongdao.crypto.errors import EnvelopeError, SignatureError
from tongdao.crypto.grant_token import GrantClaims, GrantTokenError, read_grant_token_unverified
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.crypto.query_binding import (
    QUERY,
    RESULT,
    query_associated_data,
    receipt_signing_bytes,
    result_digest,
)
from tongdao.crypto.signing import verify_key_of
from tongdao.crypto.stream import (
    StreamDigest,
)
from tongdao.node.client_privacy import PrivacyComputing
from tongdao.node.results import (
    DEFAULT_TIMEOUT,
    Aggregate,
    ClientError,
    FetchedRecord,
    Intersection,
    IntersectionSum,
    Progress,
    Verification,
)
from tongdao.node.stream_padding import StreamPadding, policy_padding
from tongdao.policies.i18n import from_environment, msg
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.query import new_request_id
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import TlsMaterial, english_details, secure_channel, with_locale
from tongdao.v1 import directory_pb2, query_pb2, sharing_pb2

__all__ = [
    "Aggregate",
    "ClientError",
    "ConsumerClient",
    "FetchedRecord",
    "Intersection",
    "IntersectionSum",
    "Progress",
    "Verification",
]


@functools.lru_cache(maxsize=256)
def _claims_of(token: str) -> GrantClaims:
    """The claims a grant token states, read once per token (a token never changes; a changed
    grant gets a new one). Not verified here: the node verifies the token itself."""
    return read_grant_token_unverified(token)


class ConsumerClient(PrivacyComputing):
    """A consumer department's view of the broker.

    Args:
        broker_target: the broker's ``host:port``.
        tls: this department's mutual-TLS material (its certificate names the department).
        encryption_keys: this department's X25519 key pair; results are sealed to it.
        department_code: this department's code, e.g. ``"hrb.rsj"``.
        timeout: seconds per unary call.
        session_token: a person's login session (`tongdao login`); "" acts as the
            department's service identity.
        stream_padding: size buckets for the sets of streamed queries (default: the shipped
            rule file's ``[privacy] stream_padding_*``).
        locale: the language the broker answers in (``zh-CN`` or ``en``); default: the
            environment's (``TONGDAO_LOCALE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else zh-CN.
    """

    def __init__(
        self,
        broker_target: str,
        tls: TlsMaterial,
        encryption_keys: EncryptionKeyPair,
        department_code: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        session_token: str = "",
        stream_padding: StreamPadding | None = None,
        locale: str | None = None,
    ) -> None:
        self.department = department_code
        # size buckets our streamed sets are padded to (default: the shipped rule file's)
        self._padding = stream_padding or policy_padding()
        self._keys = encryption_keys
        self._timeout = timeout
        # the broker's certificate must name the broker: a department cannot pose as it
        self._channel = secure_channel(broker_target, tls, server_name=BROKER_SERVER_NAME)
        self.locale = locale or from_environment(os.environ)
        # with a person's login session (``tongdao login``) every call and record names them
        self.broker = BrokerStubs.over(with_locale(self._channel, self.locale), session_token)
        self._provider_keys: dict[str, tuple[bytes, bytes]] = {}

    def close(self) -> None:
        """Close the channel to the broker."""
        self._channel.close()

    def __enter__(self) -> ConsumerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any, *, timeout: float | None = None) -> Any:
        try:
            return method(request, timeout=timeout or self._timeout)
        except grpc.RpcError as exc:
            raise ClientError(
                exc.code().name, exc.details() or "", english=english_details(exc)
            ) from None

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
    ) -> sharing_pb2.ShareRequest:
        """File a share request (SHR-1); the reply has the decision and, if approved, the grant id.

        Args:
            entry_code: the published catalogue entry asked for.
            fields: its data items wanted.
            methods: query methods wanted, e.g. ``["fetch", "verify"]``.
            purpose: what the data is for (bound into the grant).
            scenario: the application scenario (Art.22).
            legal_basis: this department's legal basis for its duty.
            regions: regions the use is limited to.
            validity_days: requested validity (0: the broker's default).
            quota: requested number of queries (0: the broker's default).
            dp_epsilon: differential privacy per aggregate answer (0: none).
            dp_budget: the grant's total privacy budget.

        Returns:
            The share request as filed, with its decision (and grant id when approved).

        Raises:
            ClientError: unknown method name, or the broker refused the call.
        """
        try:
            method_values = [METHOD_VALUES[m] for m in methods]
        except KeyError as exc:
            raise ClientError(
                "INVALID_ARGUMENT", msg("methods: unknown method {name!r}", name=exc.args[0])
            ) from None
        return self._call(
            self.broker.sharing.FileShareRequest,
            sharing_pb2.FileShareRequestRequest(
                request=sharing_pb2.ShareRequest(
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

    def get_share_request(self, request_id: str) -> sharing_pb2.ShareRequest:
        """One share request of this department (as consumer or provider).

        Args:
            request_id: the share request's id.

        Returns:
            The share request with its current status and decision.

        Raises:
            ClientError: NOT_FOUND, or PERMISSION_DENIED when it is another department's.
        """
        return self._call(
            self.broker.sharing.GetShareRequest, sharing_pb2.GetShareRequestRequest(id=request_id)
        )

    def list_share_requests(
        self, role: str = "consumer", status: str = ""
    ) -> list[sharing_pb2.ShareRequest]:
        """This department's share requests.

        Args:
            role: ``"consumer"`` (our own requests) or ``"provider"`` (our inbox).
            status: only requests in this status (empty: all).

        Returns:
            The share requests, oldest first.

        Raises:
            ClientError: the broker refused the call.
        """
        request = sharing_pb2.ListShareRequestsRequest(role=role, status=status)
        rows: list[sharing_pb2.ShareRequest] = []
        while True:  # every page
            reply = self._call(self.broker.sharing.ListShareRequests, request)
            rows.extend(reply.requests)
            if not reply.next_page_token:
                return rows
            request.page_token = reply.next_page_token

    def decide_share_request(
        self, request_id: str, approve: bool, reason: str
    ) -> sharing_pb2.ShareRequest:
        """(Provider side) approve or refuse a conditional request in the caller's inbox.

        Args:
            request_id: the share request's id.
            approve: True to approve (a grant is issued), False to refuse.
            reason: why; required when refusing (Art.22).

        Returns:
            The decided share request.

        Raises:
            ClientError: the broker refused the call (not ours, already decided, no reason).
        """
        return self._call(
            self.broker.sharing.DecideShareRequest,
            sharing_pb2.DecideShareRequestRequest(id=request_id, approve=approve, reason=reason),
        )

    def get_grant(self, grant_id: str) -> sharing_pb2.Grant:
        """A grant, with its token when the caller is the consumer.

        Args:
            grant_id: the grant's id (``ShareRequest.grant_id``).

        Returns:
            The grant; ``token`` is set for its consumer.

        Raises:
            ClientError: NOT_FOUND, or PERMISSION_DENIED when it is another department's.
        """
        return self._call(self.broker.sharing.GetGrant, sharing_pb2.GetGrantRequest(id=grant_id))

    # ------------------------------------------------------------------ queries
    def _provider(self, code: str) -> tuple[bytes, bytes]:
        if code not in self._provider_keys:
            dept = self._call(
                self.broker.directory.GetDepartment, directory_pb2.GetDepartmentRequest(code=code)
            )
            self._provider_keys[code] = (dept.encryption_public_key, dept.signing_public_key)
        return self._provider_keys[code]

    def _query(
        self, token: str, method: str, fields: Sequence[str], purpose: str, body: dict[str, Any]
    ) -> Any:
        try:
            claims = _claims_of(token)
        except GrantTokenError as exc:
            raise ClientError("INVALID_ARGUMENT", msg("grant_token: {exc}", exc=exc)) from None
        enc_key, _ = self._provider(claims.provider)
        request_id = new_request_id()
        sealed = seal_authenticated(
            self._keys.private_key,
            enc_key,
            json.dumps(body, ensure_ascii=False).encode(),
            query_associated_data(claims.grant_id, request_id, method, QUERY),
        )
        reply = self._call(
            self.broker.query.Query,
            query_pb2.QueryRequest(
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
            raise ClientError(
                "DATA_LOSS", msg("the answer does not authenticate: {exc}", exc=exc)
            ) from None
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
            verify_key_of(sig_key).verify(
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
                "DATA_LOSS", msg("the provider's receipt does not verify: {exc}", exc=exc)
            ) from None

    def fetch(
        self, grant_token: str, keys: Sequence[str], fields: Sequence[str], purpose: str
    ) -> list[FetchedRecord]:
        """Granted fields of the records with these keys (PRIV-1), masked as the policy says.

        Args:
            grant_token: a grant with ``fetch`` (``Grant.token``).
            keys: the records' keys, e.g. identity numbers.
            fields: the data items wanted (within the grant).
            purpose: the grant's purpose.

        Returns:
            One record per key, in order.

        Raises:
            ClientError: the broker's or node's refusal (its status), or DATA_LOSS when the
                answer does not authenticate.
        """
        return list(
            self._query(grant_token, "fetch", fields, purpose, {"keys": list(keys)})["records"]
        )

    def verify(
        self, grant_token: str, key: str, claims: dict[str, str], purpose: str
    ) -> Verification:
        """Match / no-match per claimed field (PRIV-2); no value is returned.

        Args:
            grant_token: a grant with ``verify`` (``Grant.token``).
            key: the record's key.
            claims: the values to check, by data item.
            purpose: the grant's purpose.

        Returns:
            Whether the record exists and, per claimed field, whether it matches.

        Raises:
            ClientError: the broker's or node's refusal (its status), or DATA_LOSS when the
                answer does not authenticate.
        """
        return cast(
            Verification,
            dict(
                self._query(
                    grant_token, "verify", list(claims), purpose, {"key": key, "claims": claims}
                )
            ),
        )
