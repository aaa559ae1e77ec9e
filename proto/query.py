"""The relayed query, the node's receipt and its answer: one definition for broker and node.

Plain dataclasses (domain code uses them without protobuf); ``to_pb``/``from_pb`` convert at the
gRPC edge and import the generated modules only when called.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument

STREAM_METHODS = ("intersection", "intersection_size", "intersection_sum")
"""Methods that run as a streamed query (``QueryStream``); the rest are unary ``Query`` calls
(``aggregate`` goes through ``Aggregate``)."""


REQUEST_ID = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE
)
"""A request id as sent: a UUID's 32 hex digits, in either case, dashed or not."""


def new_request_id(
    *,
    clock_ns: Callable[[], int] = time.time_ns,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> str:
    """A fresh request id: a time-ordered UUID (version 7, RFC 9562), in canonical form.

    Its first 48 bits are the Unix time in milliseconds, the other 74 free bits random (a
    CSPRNG's unless ``random_bytes`` is given). Ids sent one after another sort one after
    another, so the broker's and the node's indexes of request ids grow at one end instead of
    touching a random page of a large index on every call: on PostgreSQL with 10⁶ ids stored,
    3,000 random (version 4) ids wrote 15 MB of write-ahead log and 3,000 ordered ones 0.7 MB
    (``docs/benchmarks/relay.md``, "Request ids in time order"). The time it carries is the
    sender's clock at the millisecond, which the broker records of every call anyway.

    Args:
        clock_ns: the Unix time in nanoseconds (injectable for known-answer tests).
        random_bytes: ``n`` random bytes (injectable for known-answer tests).
    """
    millis = clock_ns() // 1_000_000
    if not 0 <= millis < 1 << 48:
        raise ValueError("the clock is outside the range a version-7 UUID holds")
    rand = int.from_bytes(random_bytes(10), "big")  # 80 bits; 74 are kept
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)  # 62 bits
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def canonical_request_id(value: str, field: str = "request_id") -> str:
    """A request id's canonical form (lower-case hex with dashes), the one replay checks compare.

    The same UUID upper-cased or without dashes is the same request: it is compared (and
    stored) in this form, while the sealed query and the receipt stay bound to it as sent.

    Raises:
        InvalidArgument: not a UUID.
    """
    if not isinstance(value, str) or not REQUEST_ID.fullmatch(value):
        raise InvalidArgument(msg("must be a UUID"), field=field)
    return str(uuid.UUID(value))


@dataclass(frozen=True)
class RelayedQuery:
    """A query as the consumer sends it; the broker reads only the metadata, never the seal."""

    grant_token: str
    request_id: str
    method: str
    purpose: str
    fields: tuple[str, ...]
    sealed_query: bytes
    status_ticket: str = ""  # attached by the broker's relay (crypto.grant_status)
    filter_shape: str = ""  # an aggregate's declared filter shape (crypto.filter_shape)

    def to_pb(self) -> Any:
        """As a ``tongdao.v1.QueryRequest``."""
        from tongdao.proto.methods import METHOD_VALUES
        from tongdao.v1 import query_pb2

        return query_pb2.QueryRequest(
            grant_token=self.grant_token,
            request_id=self.request_id,
            method=METHOD_VALUES[self.method],
            purpose=self.purpose,
            fields=list(self.fields),
            sealed_query=self.sealed_query,
            status_ticket=self.status_ticket,
            filter_shape=self.filter_shape,
        )

    @classmethod
    def from_pb(cls, message: Any) -> RelayedQuery:
        """From a ``tongdao.v1.QueryRequest``.

        Raises:
            InvalidArgument: unknown method value (names the field).
        """
        from tongdao.proto.errors import InvalidArgument
        from tongdao.proto.methods import METHOD_NAMES

        if message.method not in METHOD_NAMES:
            raise InvalidArgument(msg("must be a known query method"), field="method")
        return cls(
            grant_token=message.grant_token,
            request_id=message.request_id,
            method=METHOD_NAMES[message.method],
            purpose=message.purpose,
            fields=tuple(message.fields),
            sealed_query=message.sealed_query,
            status_ticket=message.status_ticket,
            filter_shape=message.filter_shape,
        )


@dataclass(frozen=True)
class Receipt:
    """The node's signed statement of what it answered (see crypto.query_binding)."""

    request_id: str
    grant_id: str
    provider: str
    result_digest: bytes
    record_count: int
    answered_at: str
    signature: bytes

    def to_pb(self) -> Any:
        """As a ``tongdao.v1.Receipt``."""
        from tongdao.v1 import query_pb2

        return query_pb2.Receipt(
            request_id=self.request_id,
            grant_id=self.grant_id,
            provider=self.provider,
            result_digest=self.result_digest,
            record_count=self.record_count,
            answered_at=self.answered_at,
            signature=self.signature,
        )

    @classmethod
    def from_pb(cls, r: Any) -> Receipt:
        return cls(
            r.request_id,
            r.grant_id,
            r.provider,
            r.result_digest,
            r.record_count,
            r.answered_at,
            r.signature,
        )


@dataclass(frozen=True)
class QueryAnswer:
    """A sealed result (or, for aggregates, Paillier ciphertexts) and its receipt."""

    sealed_result: bytes
    receipt: Receipt
    ciphertexts: tuple[bytes, ...] = ()
    suppressed: bool = False
