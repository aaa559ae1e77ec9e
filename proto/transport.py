"""Shared gRPC plumbing for every Tongdao server and client: mutual TLS, identity, limits.

Both the broker and the nodes import this module; it knows nothing of either.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tongdao.policies.i18n import LOCALE_METADATA, Text, msg, negotiate, normalise, render
from tongdao.proto.edge import Admit, EdgeInterceptor, RateLimit, ServerLimits
from tongdao.proto.errors import DomainError
from tongdao.proto.peer import auth_properties

MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""Largest gRPC message accepted or sent (bulk queries stream in later versions)."""

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
)
SERVER_OPTIONS: tuple[tuple[str, int], ...] = (
    *CHANNEL_OPTIONS,
    # gRPC binds with SO_REUSEPORT by default: a second server on a port in use would start
    # without error and share the callers at random. Off, binding such a port fails.
    ("grpc.so_reuseport", 0),
)
UNDECODABLE_LOG_SECONDS = 60.0
"""At most one log line per this many seconds for requests that are not valid protobuf."""


@dataclass(frozen=True)
class TlsMaterial:
    """What a party needs for mutual TLS.

    Attributes:
        ca_pem: the authority CA certificate (trust anchor).
        certificate_pem: this party's certificate.
        private_key_pem: this party's private key; keep secret.
    """

    ca_pem: bytes
    certificate_pem: bytes
    private_key_pem: bytes

    def __repr__(self) -> str:
        return "TlsMaterial(<certificates>)"


TlsSource = Callable[[], TlsMaterial]
"""Returns the party's current TLS material (re-read from its home when renewed)."""


def server_credentials(tls: TlsMaterial | TlsSource) -> grpc.ServerCredentials:
    """Server credentials that *require* a client certificate issued by the authority CA.

    Given a :data:`TlsSource`, every new handshake asks it for the current material, so a renewed
    certificate is served without a restart (connections already open keep theirs).
    """
    if isinstance(tls, TlsMaterial):
        return grpc.ssl_server_credentials(
            [(tls.private_key_pem, tls.certificate_pem)],
            root_certificates=tls.ca_pem,
            require_client_auth=True,
        )
    source = tls
    first = source()
    served = [first]

    def configuration(material: TlsMaterial):  # type: ignore[no-untyped-def]
        return grpc.ssl_server_certificate_configuration(
            [(material.private_key_pem, material.certificate_pem)],
            root_certificates=material.ca_pem,
        )

    def fetch():  # type: ignore[no-untyped-def]
        try:
            material = source()
        except Exception:  # a half-written renewal: keep serving the current certificate
            logging.getLogger("tongdao.grpc").warning("renewed certificate not readable yet")
            return None
        if material == served[0]:
            return None
        served[0] = material
        logging.getLogger("tongdao.grpc").info("serving a renewed certificate")
        return configuration(material)

    return grpc.dynamic_ssl_server_credentials(
        configuration(first), fetch, require_client_authentication=True
    )


def public_server_credentials(tls: TlsMaterial) -> grpc.ServerCredentials:
    """Server credentials for the public listener: TLS with the broker's certificate, no client
    certificate asked for (the public has none)."""
    return grpc.ssl_server_credentials(
        [(tls.private_key_pem, tls.certificate_pem)], require_client_auth=False
    )


def public_channel(target: str, ca_pem: bytes) -> grpc.Channel:
    """A channel to the broker's public listener, trusting the authority CA (published with the
    open catalogue's address); no client certificate."""
    credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    return grpc.secure_channel(target, credentials, options=(*CHANNEL_OPTIONS, *BALANCED))


BALANCED: tuple[tuple[str, str], ...] = (("grpc.lb_policy_name", "round_robin"),)
"""Client-side round-robin: calls go in turn to every address ``target`` resolves to (several
brokers behind one name, docs/deployment.md); one address behaves as before."""


def secure_channel(target: str, tls: TlsMaterial, *, server_name: str = "") -> grpc.Channel:
    """Open a mutual-TLS channel to ``target``, round-robin over the addresses it names.

    Args:
        target: ``host:port`` (every address the name resolves to, in turn), a gRPC target such
            as ``dns:///brokers.example:7443``, or a list ``ipv4:10.0.0.5:7443,10.0.0.6:7443``.
        tls: this party's client material.
        server_name: the identity the server's certificate must name (``broker.tongdao.invalid``
            for the broker, ``<code>.node.tongdao.invalid`` for a department's node); the host of
            ``target`` when empty.
    """
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca_pem,
        private_key=tls.private_key_pem,
        certificate_chain=tls.certificate_pem,
    )
    options: tuple[tuple[str, int | str], ...] = (*CHANNEL_OPTIONS, *BALANCED)
    if server_name:
        options = (*options, ("grpc.ssl_target_name_override", server_name))
    return grpc.secure_channel(target, credentials, options=options)


SESSION_METADATA = "tongdao-session"
"""The gRPC metadata key a person's login session token travels under."""


class _Metadata(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds fixed metadata (the login session, the caller's language) to every call."""

    def __init__(self, key: str, value: str) -> None:
        self._pair = (key, value)

    def _details(self, details):  # type: ignore[no-untyped-def]
        metadata = [*(details.metadata or ()), self._pair]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return continuation(self._details(client_call_details), request_iterator)


def with_session(channel: grpc.Channel, token: str) -> grpc.Channel:
    """``channel`` with a person's login session on every call (``tongdao login``)."""
    return grpc.intercept_channel(channel, _Metadata(SESSION_METADATA, token))


def with_locale(channel: grpc.Channel, locale: str) -> grpc.Channel:
    """``channel`` asking for answers in ``locale`` (``zh-CN`` or ``en``) on every call: the
    servers' refusals and errors come back in that language."""
    return grpc.intercept_channel(channel, _Metadata(LOCALE_METADATA, locale))


def english_details(exc: grpc.RpcError) -> str:
    """A refusal's English text, whatever language the call asked for: servers keep it in the
    status's ``google.rpc.ErrorInfo`` detail (domain ``tongdao``); else the status details."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    try:
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    except (AttributeError, ValueError):
        status = None
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.domain == "tongdao" and info.metadata.get("message"):
                return str(info.metadata["message"])
    details = exc.details() if hasattr(exc, "details") else ""
    return str(details or "")


def caller_locale(context: grpc.ServicerContext, default: str) -> str:
    """The language the caller asked for (metadata ``tongdao-locale``, else
    ``accept-language``), or ``default``."""
    asked: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if key in (LOCALE_METADATA, "accept-language") and isinstance(value, str):
            asked.setdefault(key, value)
    return (
        normalise(asked.get(LOCALE_METADATA)) or negotiate(asked.get("accept-language")) or default
    )


def peer_common_name(context: grpc.ServicerContext) -> str | None:
    """The subject CN of the caller's verified client certificate, or None."""
    values = auth_properties(context).get("x509_common_name")
    if not values:
        return None
    return values[0].decode()


RefusalSink = Callable[[str, "str | None", DomainError], None]
"""Told of every refusal (PermissionDenied, Unauthenticated) a servicer raised: (method, the
caller's certificate name, the error with its field and articles)."""

REFUSALS = ("PERMISSION_DENIED", "UNAUTHENTICATED")


def new_server(
    limits: ServerLimits | None = None,
    *,
    on_refusal: RefusalSink | None = None,
    identity: grpc.ServerInterceptor | None = None,
    rate: RateLimit | None = None,
    admit: Admit | None = None,
    admitted_services: Iterable[str] = (),
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    access: grpc.ServerInterceptor | None = None,
    locale: str = "en",
    turns: grpc.ServerInterceptor | None = None,
) -> grpc.Server:
    """A gRPC server with Tongdao's message limits, the domain-error interceptor, the caller
    check and the edge (:mod:`tongdao.proto.edge`: the table of field limits, rate limits,
    stream caps).

    Args:
        limits: threads, concurrent calls, stream caps and timeouts (defaults if None).
        on_refusal: also called with every refusal (the broker records them in its ledger).
        identity: the caller check (:class:`tongdao.proto.identity.IdentityInterceptor`), run
            before every handler; its refusals are domain errors, so they reach ``on_refusal``.
        rate: each caller's token bucket, if any.
        admit: vets the caller of a client stream of ``admitted_services`` before it waits.
        interceptors: run outside the domain-error interceptor, so they see the final status
            (the broker's metrics and per-call log).
        access: the role check (the broker's access interceptor), run after the identity
            check and before every handler; its refusals are domain errors too.
        locale: the language of errors for a caller that names none (``tongdao-locale`` or
            ``accept-language`` metadata).
        turns: runs the hot path's handlers in turns
            (:class:`~tongdao.proto.turn_interceptor.TurnInterceptor`), outermost.
    """
    from concurrent import futures

    limits = limits or ServerLimits()
    # outermost the operational interceptors (metrics, the per-call log: they see the final
    # status), then the domain-error interceptor, so the identity check's and the edge's
    # refusals are mapped to their status (and told to ``on_refusal``) like any servicer's
    chain: list[grpc.ServerInterceptor] = [
        *([turns] if turns is not None else []),
        *interceptors,
        DomainErrorInterceptor(on_refusal=on_refusal, locale=locale),
    ]
    if identity is not None:
        chain.append(identity)
    if access is not None:
        chain.append(access)
    chain.append(
        EdgeInterceptor(limits, rate=rate, admit=admit, admitted_services=tuple(admitted_services))
    )
    return grpc.server(
        futures.ThreadPoolExecutor(max_workers=limits.threads),
        options=(*SERVER_OPTIONS, *limits.channel_options()),
        interceptors=chain,
        maximum_concurrent_rpcs=limits.max_concurrent_rpcs,
    )


def bind(server: grpc.Server, address: str, credentials: grpc.ServerCredentials) -> int:
    """Listen on ``address`` (``host:port``; port 0: any free port) and return the port.

    Raises:
        RuntimeError: the address is in use (another broker or node?) or cannot be bound; the
            message names the address and what to do.
    """
    try:
        port = server.add_secure_port(address, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        raise RuntimeError(
            msg(
                "cannot listen on {address}: the address is already in use or not available "
                "(is another broker or node running there? stop it or choose another --listen)",
                address=address,
            )
        )
    return port


def check_free(address: str, credentials: grpc.ServerCredentials) -> None:
    """Raise :func:`bind`'s clear error now if ``address`` is taken (port 0 is always free):
    start-up checks its ports before it creates a store or a state directory.

    Raises:
        RuntimeError: the address is in use or cannot be bound (as :func:`bind`).
    """
    if address.rpartition(":")[2] == "0":
        return
    probe = new_server(ServerLimits(threads=1))
    try:
        bind(probe, address, credentials)
        # a server that never started keeps its listening socket until the process ends:
        # started and stopped, it gives the port back for the real server to bind
        probe.start()
    finally:
        probe.stop(None).wait()


def add_health_and_reflection(
    server: grpc.Server, service_names: Iterable[str]
) -> health.HealthServicer:
    """Register gRPC health checking and server reflection for ``service_names``.

    Returns:
        The health servicer (set NOT_SERVING on shutdown).
    """
    names = list(service_names)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in [*names, ""]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    return health_servicer


class DomainErrorInterceptor(grpc.ServerInterceptor):
    """Maps :class:`proto.errors.DomainError` raised by a servicer to its gRPC status code.

    Any other exception becomes INTERNAL with a generic message; the server log gets its type and
    where it was raised, never its message (which may quote request or record values).

    The status message is in the caller's language (:func:`caller_locale`, else ``locale``);
    the English text stays in the status's structured details (``google.rpc.ErrorInfo``
    metadata ``message``, and the ``BadRequest`` / ``QuotaFailure`` descriptions).
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        on_refusal: RefusalSink | None = None,
        undecodable_log_seconds: float = UNDECODABLE_LOG_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        locale: str = "en",
    ) -> None:
        self._log = logger or logging.getLogger("tongdao.grpc")
        self._locale = locale
        self._on_refusal = on_refusal
        self._undecodable = _RateLimitedNote(self._log, undecodable_log_seconds, clock)

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        log = self._log
        # a request that is not a valid message reaches the handler as UNDECODABLE (instead of
        # gRPC's INTERNAL with a traceback per call) and is answered INVALID_ARGUMENT
        deserializer = _tolerant(handler.request_deserializer, method, self._undecodable)
        on_refusal = self._on_refusal
        default_locale = self._locale

        def refused(context, exc: DomainError) -> None:  # type: ignore[no-untyped-def]
            caller = peer_common_name(context)
            # identifiers, rule and article only: never the request's contents
            log.warning(
                "refused %s for %s: %s",
                method,
                caller or "an unverified caller",
                exc.status_message(),
            )
            if on_refusal is not None:
                try:
                    on_refusal(method, caller, exc)
                except Exception:  # recording must never change what the caller is told
                    log.exception("could not record the refusal of %s", method)

        def abort(context, quiet_if_gone: bool = False):  # type: ignore[no-untyped-def]
            """Called in an ``except`` block: map the exception being handled to a status."""
            exc = sys.exc_info()[1]
            if isinstance(exc, DomainError):
                if exc.code_name in REFUSALS:
                    refused(context, exc)
                _abort_with(context, exc, caller_locale(context, default_locale))
            if context.code() not in (None, grpc.StatusCode.OK):
                raise  # already aborted by the servicer
            if quiet_if_gone and not context.is_active():
                return  # the caller went away: nothing to report to anyone
            # the type and where, never the message: it may quote request or record values
            frames = traceback.extract_tb(exc.__traceback__ if exc is not None else None)
            where = " < ".join(
                f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[::-1][:6]
            )
            log.error("internal error in %s: %s at %s", method, type(exc).__name__, where)
            text = msg("internal error in {method}", method=method)
            context.abort(
                grpc.StatusCode.INTERNAL, render(text, caller_locale(context, default_locale))
            )

        # server-streaming (catalogue import progress) and bidirectional (streamed queries)
        # handlers are generators with the same (request or request iterator, context) shape
        streaming = handler.unary_stream or handler.stream_stream
        if streaming is not None:

            def wrapped_stream(request, context):  # type: ignore[no-untyped-def]
                if handler.stream_stream is not None:
                    request = _checked(request, context, default_locale)
                elif request is UNDECODABLE:
                    _refuse_undecodable(context, default_locale)
                try:
                    yield from streaming(request, context)
                except Exception:
                    abort(context, quiet_if_gone=handler.stream_stream is not None)

            make = (
                grpc.unary_stream_rpc_method_handler
                if handler.unary_stream is not None
                else grpc.stream_stream_rpc_method_handler
            )
            return make(
                wrapped_stream,
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        def wrapped(request, context):  # type: ignore[no-untyped-def]
            if request is UNDECODABLE:
                _refuse_undecodable(context, default_locale)
            try:
                return inner(request, context)
            except Exception:
                abort(context)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )


def template_of(exc: DomainError) -> dict[str, str]:
    """The error's message template and fields (``template``, ``params`` as JSON), its field
    and articles, for a relaying server to answer in its own caller's language."""
    import json

    out = {"field": exc.field or "", "articles": ", ".join(exc.articles)}
    if isinstance(exc.message, Text):
        out["template"] = exc.message.msgid
        out["params"] = json.dumps(exc.message.params, ensure_ascii=False, default=str)
    return out


def _abort_with(context: grpc.ServicerContext, exc: DomainError, locale: str) -> None:
    """Abort with the error's code and its message in ``locale``. The details keep the English
    text (``google.rpc.ErrorInfo``) and the field at fault as a ``google.rpc.BadRequest``
    (INVALID_ARGUMENT) or ``google.rpc.QuotaFailure`` (RESOURCE_EXHAUSTED) detail."""
    from google.protobuf import any_pb2
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from grpc_status import rpc_status

    english = exc.status_message()
    details = []
    if exc.field is not None and exc.code_name in ("INVALID_ARGUMENT", "RESOURCE_EXHAUSTED"):
        detail = any_pb2.Any()
        description = render(exc.message, "en")
        if exc.code_name == "INVALID_ARGUMENT":
            violation = error_details_pb2.BadRequest.FieldViolation
            detail.Pack(
                error_details_pb2.BadRequest(
                    field_violations=[violation(field=exc.field, description=description)]
                )
            )
        else:
            quota = error_details_pb2.QuotaFailure.Violation
            detail.Pack(
                error_details_pb2.QuotaFailure(
                    violations=[quota(subject=exc.field, description=description)]
                )
            )
        details.append(detail)
    info = any_pb2.Any()
    info.Pack(
        error_details_pb2.ErrorInfo(
            reason=exc.code_name,
            domain="tongdao",
            metadata={"message": english, "locale": locale, **template_of(exc)},
        )
    )
    details.append(info)
    status = status_pb2.Status(
        code=getattr(code_pb2, exc.code_name),
        message=exc.status_message(locale),
        details=details,
    )
    answer = rpc_status.to_status(status)
    # keep what an outer interceptor set (the broker's request id) beside the status details
    kept = tuple(getattr(context, "trailing_metadata", lambda: ())() or ())
    context.set_trailing_metadata((*kept, *answer.trailing_metadata))
    context.abort(answer.code, answer.details)


UNDECODABLE = object()
"""What a request that is not a valid protobuf message of its type decodes to."""


class _RateLimitedNote:
    """One log line per interval for undecodable requests, with how many were not logged."""

    def __init__(self, log: logging.Logger, interval: float, clock: Callable[[], float]) -> None:
        self._log, self._interval, self._clock = log, interval, clock
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._quiet = 0

    def __call__(self, method: str) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._quiet += 1
                return
            quiet, self._quiet, self._next = self._quiet, 0, now + self._interval
        self._log.warning(
            "undecodable request to %s refused (INVALID_ARGUMENT); %d more since the last note",
            method,
            quiet,
        )


def _tolerant(
    deserialize: Callable[[bytes], Any] | None, method: str, note: _RateLimitedNote
) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception:  # DecodeError, or any failure of the generated parser on garbage
            note(method)
            return UNDECODABLE

    return decode


def _refuse_undecodable(context: grpc.ServicerContext, default_locale: str) -> None:
    text = msg("request: is not a valid protobuf message")
    context.abort(
        grpc.StatusCode.INVALID_ARGUMENT, render(text, caller_locale(context, default_locale))
    )


def _checked(
    requests: Iterator[Any], context: grpc.ServicerContext, default_locale: str
) -> Iterator[Any]:
    for request in requests:
        if request is UNDECODABLE:
            _refuse_undecodable(context, default_locale)
        yield request
