"""One server interceptor that observes every call: method, caller, status code and duration.

It feeds :class:`CallObserver` sinks (the Prometheus metrics and the per-call JSON log line). It is
outermost in the interceptor chain, so the status it sees is the one the caller gets, after the
domain-error interceptor has mapped a domain error to its code.

A request id comes from the caller's ``x-request-id`` metadata when it is well-formed (letters,
digits, ``.``, ``_``, ``-``; at most 64), otherwise a fresh one is made; it is returned to the
caller in the trailing metadata so an error seen by a department can be matched to the log line.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from tongdao.proto.peer import auth_properties

REQUEST_ID_KEY = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class CallRecord:
    """What is known about one finished call. Never holds request or reply contents."""

    request_id: str
    method: str  # full gRPC method, /package.Service/Method
    caller: str  # the client certificate's common name, or "-" without one
    code: str  # gRPC status code name, e.g. OK, PERMISSION_DENIED
    duration_seconds: float
    streaming: bool

    @property
    def service(self) -> str:
        return self.method.rsplit("/", 2)[-2] if self.method.count("/") >= 2 else "-"

    @property
    def rpc(self) -> str:
        return self.method.rsplit("/", 1)[-1]


class CallObserver(Protocol):
    """A sink for finished calls and open streams."""

    def call_finished(self, record: CallRecord) -> None: ...

    def stream_opened(self, method: str) -> None: ...

    def stream_closed(self, method: str) -> None: ...


def request_id_from(metadata: Iterable[tuple[str, Any]] | None) -> str:
    """The caller's well-formed ``x-request-id``, or a new random one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and _REQUEST_ID.match(value):
            return value
    return uuid.uuid4().hex


def caller_of(context: grpc.ServicerContext) -> str:
    """The verified client certificate's common name (``-`` on the public listener)."""
    try:
        values = auth_properties(context).get("x509_common_name")
    except Exception:  # a context without TLS (tests over insecure ports)
        values = None
    if not values:
        return "-"
    name = values[0].decode("utf-8", "replace")
    return name if _REQUEST_ID.match(name) else "?"


def _status_name(context: grpc.ServicerContext, failed: bool) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if isinstance(code, int):  # grpc keeps the numeric value when set through abort()
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return str(status.name)
    if failed:
        # an exception no interceptor mapped, or the caller cancelled a stream
        return "CANCELLED" if not context.is_active() else "UNKNOWN"
    return "OK"


class CallObservingInterceptor(grpc.ServerInterceptor):
    """Times every call and reports it to ``observers`` (see the module docstring)."""

    def __init__(
        self,
        observers: Sequence[CallObserver],
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._observers = tuple(observers)
        self._clock = clock

    def _finish(
        self,
        method: str,
        context: grpc.ServicerContext,
        rid: str,
        start: float,
        *,
        failed: bool,
        streaming: bool,
    ) -> None:
        record = CallRecord(
            request_id=rid,
            method=method,
            caller=caller_of(context),
            code=_status_name(context, failed),
            duration_seconds=max(0.0, self._clock() - start),
            streaming=streaming,
        )
        for observer in self._observers:
            observer.call_finished(record)

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        rid = request_id_from(handler_call_details.invocation_metadata)
        streaming = handler.unary_stream or handler.stream_stream
        if streaming is not None:

            def wrapped_stream(request, context):  # type: ignore[no-untyped-def]
                start = self._clock()
                context.set_trailing_metadata(((REQUEST_ID_KEY, rid),))
                for observer in self._observers:
                    observer.stream_opened(method)
                failed = True
                try:
                    yield from streaming(request, context)
                    failed = False
                finally:
                    for observer in self._observers:
                        observer.stream_closed(method)
                    self._finish(method, context, rid, start, failed=failed, streaming=True)

            make = (
                grpc.unary_stream_rpc_method_handler
                if handler.unary_stream is not None
                else grpc.stream_stream_rpc_method_handler
            )
            return make(
                wrapped_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        inner = handler.unary_unary or handler.stream_unary
        if inner is None:
            return handler

        def wrapped(request, context):  # type: ignore[no-untyped-def]
            start = self._clock()
            context.set_trailing_metadata(((REQUEST_ID_KEY, rid),))
            failed = True
            try:
                reply = inner(request, context)
                failed = False
                return reply
            finally:
                self._finish(method, context, rid, start, failed=failed, streaming=False)

        make_unary = (
            grpc.unary_unary_rpc_method_handler
            if handler.unary_unary is not None
            else grpc.stream_unary_rpc_method_handler
        )
        return make_unary(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
