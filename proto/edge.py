"""The one edge every RPC passes before any domain code: the table of limits per field
(:mod:`tongdao.proto.limits`), per-caller rate limits, and bounds on streams.

:class:`EdgeInterceptor` runs inside the error interceptor of :mod:`tongdao.proto.transport`, so
what it refuses is answered like any domain error: INVALID_ARGUMENT naming the field and its
limit (with a ``google.rpc.BadRequest`` detail), RESOURCE_EXHAUSTED for a caller over its rate
or stream cap, PERMISSION_DENIED for a stream from a caller the server does not admit.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument, ResourceExhausted
from tongdao.proto.limits import LIMITS, PACKAGE_PREFIX, Blob, Limit, Many, Range, Real, Text
from tongdao.proto.peer import auth_properties

PACKAGE = PACKAGE_PREFIX
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ServerLimits:
    """How much work a server takes on at once (operator settings, not regulation rules).

    Attributes:
        threads: worker threads serving calls.
        max_concurrent_rpcs: calls in progress at once; beyond, RESOURCE_EXHAUSTED.
        max_streams: streaming calls open at once, all callers together (kept under
            ``threads`` so unary calls always find a thread).
        max_streams_per_caller: streaming calls open at once per certificate name.
        first_message_seconds: a stream whose first message has not come by then is cancelled.
        stream_idle_seconds: a stream with no message for this long is cancelled.
        keepalive_seconds: the server pings an idle connection this often.
        keepalive_timeout_seconds: a ping unanswered this long closes the connection.
        connection_idle_seconds: a connection with no call for this long is closed.
    """

    threads: int = 32
    max_concurrent_rpcs: int = 256
    max_streams: int = 16
    max_streams_per_caller: int = 4
    first_message_seconds: float = 10.0
    stream_idle_seconds: float = 120.0
    keepalive_seconds: float = 60.0
    keepalive_timeout_seconds: float = 20.0
    connection_idle_seconds: float = 900.0

    def channel_options(self) -> tuple[tuple[str, int], ...]:
        """gRPC server options for keepalive and idle connections."""
        return (
            ("grpc.keepalive_time_ms", int(self.keepalive_seconds * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout_seconds * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ("grpc.http2.max_ping_strikes", 3),
            ("grpc.max_connection_idle_ms", int(self.connection_idle_seconds * 1000)),
        )


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per caller: ``per_second`` calls on average, ``burst`` at once."""

    per_second: float
    burst: int
    article: str = ""


Admit = Callable[[str | None], None]
"""Raises a domain error when the caller (its certificate name) may not open a stream."""


# ------------------------------------------------------------------ field limits


def check_message(message: Message) -> None:
    """Check ``message`` (a request, or one streamed part) against the table of limits.

    Raises:
        InvalidArgument: a field outside its limit; ``field`` is its path in the request
            (``entry.data_items[2].name``), the message names the limit.
    """
    _check(message, "")


def _check(message: Message, prefix: str) -> None:
    rows = _rows(message.DESCRIPTOR)
    for fd, value in message.ListFields():
        path = f"{prefix}{fd.name}"
        limit = rows.get(fd.name)
        if fd.is_repeated:
            if not isinstance(limit, Many):
                raise _violation(path, msg("is not accepted (no limit is set for it)"))
            if len(value) > limit.max_items:
                raise _violation(path, limit.describe())
            for index, item in enumerate(value):
                _check_value(fd, item, limit.each, f"{path}[{index}]")
        else:
            _check_value(fd, value, limit, path)


def _check_value(fd: FieldDescriptor, value: Any, limit: Limit | None, path: str) -> None:
    kind = fd.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        _check(value, f"{path}.")
        return
    if kind == FieldDescriptor.TYPE_ENUM:
        if fd.enum_type.values_by_number.get(value) is None:
            raise _violation(path, msg("is not a {enum} value", enum=fd.enum_type.name))
        return
    if kind == FieldDescriptor.TYPE_BOOL:
        return
    if isinstance(limit, Text) and isinstance(value, str):
        if len(value) > limit.max_chars:
            raise _violation(path, limit.describe())
        if (CONTROL_EXCEPT_LINES if limit.lines else CONTROL).search(value):
            raise _violation(path, msg("must not contain NUL or other control characters"))
        if limit.pattern and not _pattern(limit.pattern).fullmatch(value):
            raise _violation(path, limit.describe())
    elif isinstance(limit, Blob) and isinstance(value, bytes):
        if len(value) > limit.max_bytes:
            raise _violation(path, limit.describe())
    elif isinstance(limit, Range) and isinstance(value, int):
        if not limit.low <= value <= limit.high:
            raise _violation(path, limit.describe())
    elif isinstance(limit, Real) and isinstance(value, float):
        if not (math.isfinite(value) and limit.low <= value <= limit.high):
            raise _violation(path, limit.describe())
    else:
        raise _violation(path, msg("is not accepted (no limit is set for it)"))


def _violation(path: str, description: str) -> InvalidArgument:
    return InvalidArgument(description, field=path)


@cache
def _rows(descriptor: Descriptor) -> dict[str, Limit]:
    name = descriptor.full_name.removeprefix(PACKAGE)
    return LIMITS.get(name, {})


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_request(request: Any) -> None:
    if isinstance(request, Message):
        check_message(request)


# ------------------------------------------------------------------ rate and streams


class TokenBuckets:
    """One token bucket per caller (thread-safe); ``clock`` injectable for tests."""

    def __init__(self, rate: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._clock = rate, clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, caller: str) -> bool:
        """Spend one token of ``caller``'s bucket; False when it is empty."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(caller, (float(self._rate.burst), now))
            tokens = min(float(self._rate.burst), tokens + (now - then) * self._rate.per_second)
            if len(self._buckets) > 100_000:  # certificate names are few; never grow unbounded
                self._buckets.clear()
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                return False
            self._buckets[caller] = (tokens - 1.0, now)
            return True


class StreamSlots:
    """Counts open streams, in total and per caller."""

    def __init__(self, total: int, per_caller: int) -> None:
        self._total, self._per_caller = total, per_caller
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def acquire(self, caller: str) -> None:
        """Take a slot for ``caller``.

        Raises:
            ResourceExhausted: the total or the caller's cap is reached.
        """
        with self._lock:
            mine = self._open.get(caller, 0)
            if mine >= self._per_caller:
                raise ResourceExhausted(
                    msg(
                        "{mine} streams already open for {caller}, the most one caller may hold",
                        mine=mine,
                        caller=caller,
                    ),
                    field="stream",
                )
            if sum(self._open.values()) >= self._total:
                raise ResourceExhausted(
                    msg(
                        "{total} streams already open, the most this server holds",
                        total=self._total,
                    ),
                    field="stream",
                )
            self._open[caller] = mine + 1

    def release(self, caller: str) -> None:
        with self._lock:
            left = self._open.get(caller, 1) - 1
            if left > 0:
                self._open[caller] = left
            else:
                self._open.pop(caller, None)

    def open_streams(self) -> int:
        with self._lock:
            return sum(self._open.values())


class Watchdog:
    """Cancels a call whose next streamed message does not come in time; one thread, running
    only while something is armed."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._armed: dict[int, tuple[float, grpc.ServicerContext]] = {}
        self._next_id = 0
        self._running = False

    def arm(self, context: grpc.ServicerContext, seconds: float) -> int:
        with self._lock:
            self._next_id += 1
            self._armed[self._next_id] = (time.monotonic() + seconds, context)
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, name="tongdao-edge-watchdog", daemon=True
                ).start()
            self._lock.notify()
            return self._next_id

    def disarm(self, token: int) -> None:
        with self._lock:
            self._armed.pop(token, None)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._armed:
                    self._running = False
                    return
                now = time.monotonic()
                due = [t for t, (when, _) in self._armed.items() if when <= now]
                late = [self._armed.pop(t)[1] for t in due]
                if not late:
                    wait = min(when for when, _ in self._armed.values()) - now
                    self._lock.wait(timeout=min(max(wait, 0.01), 1.0))
            for context in late:
                context.cancel()


def caller_of(context: grpc.ServicerContext) -> str:
    """The caller's certificate name, or its address when it has none (public listener)."""
    values = auth_properties(context).get("x509_common_name")
    if values:
        return values[0].decode()
    peer = context.peer() or "unknown"
    return "address:" + peer.rsplit(":", 1)[0]


class EdgeInterceptor(grpc.ServerInterceptor):
    """Applies the table of limits to every request and every streamed message, the caller's
    rate limit to every call, and the stream caps, first-message and idle deadlines to every
    stream; ``admit`` (when given) vets the caller of a client stream before it waits for
    anything."""

    def __init__(
        self,
        limits: ServerLimits,
        *,
        rate: RateLimit | None = None,
        admit: Admit | None = None,
        admitted_services: tuple[str, ...] = (),
    ) -> None:
        self.limits = limits
        self.slots = StreamSlots(limits.max_streams, limits.max_streams_per_caller)
        self._buckets = TokenBuckets(rate) if rate is not None else None
        self._rate = rate
        self._admit = admit
        self._admitted = tuple(f"/{name}/" for name in admitted_services)
        self._watchdog = Watchdog()

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        admit = self._admit if method.startswith(self._admitted) else None
        # undecodable requests are answered by the error interceptor outside (transport.py)
        deserializer = handler.request_deserializer

        if handler.unary_unary is not None:
            inner = handler.unary_unary

            def unary(request, context):  # type: ignore[no-untyped-def]
                self._rate_check(context)
                _check_request(request)
                return inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary,
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            def unary_stream(request, context):  # type: ignore[no-untyped-def]
                self._rate_check(context)
                _check_request(request)
                caller = caller_of(context)
                self.slots.acquire(caller)
                try:
                    yield from inner_us(request, context)
                finally:
                    self.slots.release(caller)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream,
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            inner_ss = handler.stream_stream

            def stream_stream(requests, context):  # type: ignore[no-untyped-def]
                caller = self._open_stream(context, admit)
                try:
                    yield from inner_ss(self._guarded(requests, context), context)
                finally:
                    self.slots.release(caller)

            return grpc.stream_stream_rpc_method_handler(
                stream_stream,
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        inner_su = handler.stream_unary

        def stream_unary(requests, context):  # type: ignore[no-untyped-def]
            caller = self._open_stream(context, admit)
            try:
                return inner_su(self._guarded(requests, context), context)
            finally:
                self.slots.release(caller)

        return grpc.stream_unary_rpc_method_handler(
            stream_unary,
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )

    def _rate_check(self, context: grpc.ServicerContext) -> None:
        if self._buckets is not None and not self._buckets.take(caller_of(context)):
            rate = self._rate
            assert rate is not None
            raise ResourceExhausted(
                msg(
                    "over the rate limit of {per_second:g} calls a second, bursts "
                    "of {burst} (the rule file's [rate_limits]); slow down and "
                    "retry",
                    per_second=rate.per_second,
                    burst=rate.burst,
                ),
                field="caller",
                articles=(rate.article,) if rate.article else (),
            )

    def _open_stream(self, context: grpc.ServicerContext, admit: Admit | None) -> str:
        """Vet the caller and take a stream slot, before anything is read."""
        self._rate_check(context)
        if admit is not None:
            values = auth_properties(context).get("x509_common_name")
            admit(values[0].decode() if values else None)
        caller = caller_of(context)
        self.slots.acquire(caller)
        return caller

    def _guarded(self, requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        seconds = self.limits.first_message_seconds
        while True:
            token = self._watchdog.arm(context, seconds)
            try:
                message = next(requests)
            except StopIteration:
                return
            finally:
                self._watchdog.disarm(token)
            _check_request(message)
            yield message
            seconds = self.limits.stream_idle_seconds
