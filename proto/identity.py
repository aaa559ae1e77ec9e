"""Who is calling, checked before any handler runs: usage, role, name and revocation.

The TLS handshake already refuses a certificate from another CA, an expired one and one whose
extended key usage is not clientAuth (BoringSSL checks the purpose). :class:`IdentityInterceptor`
then checks, on every call, the verified certificate the handshake produced:

* it is a client certificate (clientAuth) — defence in depth behind the handshake;
* its serial number is not on the authority's current revocation list
  (:class:`RevocationWatcher`), and that list is not stale;
* optionally, that its role or common name is one this server accepts (a node accepts only the
  broker).

A refused call ends with UNAUTHENTICATED (revoked, stale list, not a client certificate) or
PERMISSION_DENIED (a role or name this server does not serve) and a message that says why.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from cryptography import x509

from tongdao.crypto.errors import CryptoError, KeyFormatError, RevocationError
from tongdao.crypto.pki import CertificateInfo, Usage, certificate_info, load_certificate
from tongdao.crypto.revocation import RevocationList
from tongdao.policies.i18n import msg
from tongdao.proto.errors import PermissionDenied, Unauthenticated
from tongdao.proto.peer import auth_properties

log = logging.getLogger("tongdao.identity")

CrlSource = Callable[[], bytes]
"""Returns the current PEM revocation list (reads a file, or asks the broker)."""


class RevocationWatcher:
    """Holds the newest verified revocation list and refreshes it every ``interval`` seconds.

    A list that does not verify, or whose number is not higher than the one held, is ignored (and
    logged); a stale held list refuses every call until a fresh one arrives (fail closed).

    Args:
        ca_pem: the authority CA certificate the list must be signed by.
        source: where the list comes from.
        interval: seconds between refreshes (the rule file's ``revocation.refresh_seconds``).
        clock: UTC now (injectable).
    """

    def __init__(
        self,
        ca_pem: bytes,
        source: CrlSource,
        *,
        interval: float,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._ca = load_certificate(ca_pem)
        self._source = source
        self.interval = interval
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._current: RevocationList | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()

    @property
    def current(self) -> RevocationList | None:
        return self._current

    def refresh(self) -> bool:
        """Fetch and install a newer list; return whether one was installed."""
        try:
            data = self._source()
        except OSError as exc:
            log.warning("revocation list unavailable: %s", exc.strerror or type(exc).__name__)
            return False
        try:
            crl = RevocationList.load(data, self._ca)
        except RevocationError as exc:
            log.warning("revocation list refused: %s", exc)
            return False
        with self._lock:
            if not crl.newer_than(self._current):
                if self._current is not None and crl.number < self._current.number:
                    log.warning(
                        "revocation list #%d refused: older than #%d",
                        crl.number,
                        self._current.number,
                    )
                return False
            self._current = crl
        log.info("revocation list #%d installed (%d revoked)", crl.number, len(crl.revoked))
        return True

    def start(self) -> RevocationWatcher:
        """Refresh in a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="tongdao-crl", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def refusal(self, serial: int) -> str | None:
        """Why ``serial`` must be refused, or None."""
        crl = self._current
        if crl is None:
            return msg(
                "no valid revocation list is available; the server refuses every certificate"
            )
        if crl.is_stale(self._clock()):
            return msg(
                "the revocation list #{number} expired at {expired} UTC; the server refuses every "
                "certificate until a fresh one arrives",
                number=crl.number,
                expired=f"{crl.next_update:%Y-%m-%d %H:%M}",
            )
        if crl.is_revoked(serial):
            reason = crl.revoked[serial]
            return msg(
                "certificate {serial} was revoked ({reason}; revocation list #{number})",
                serial=f"{serial:x}",
                reason=reason,
                number=crl.number,
            )
        return None


def file_source(path: str) -> CrlSource:
    """A :data:`CrlSource` reading the CRL file the CA publishes."""

    def read() -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    return read


@dataclass(frozen=True)
class Caller:
    """The verified caller of a call."""

    name: str
    role: str
    serial: int


_CACHE_LIMIT = 4096


class IdentityInterceptor(grpc.ServerInterceptor):
    """Checks every call's client certificate before the handler (see the module docstring).

    Args:
        revocation: the revocation watcher, or None to skip revocation (tests of other layers).
        accept: a predicate on the caller's certificate (e.g. only the broker); None accepts any
            certificate issued by the CA.
        describe: what ``accept`` allows, for the refusal message.
        open_methods: fully-qualified method prefixes exempt from ``accept`` (health).
    """

    def __init__(
        self,
        revocation: RevocationWatcher | None = None,
        *,
        accept: Callable[[CertificateInfo], bool] | None = None,
        describe: str = "",
        open_methods: tuple[str, ...] = ("/grpc.health.v1.Health/",),
    ) -> None:
        self._revocation = revocation
        self._accept = accept
        self._describe = describe
        self._open = open_methods
        self._cache: dict[bytes, CertificateInfo | str] = {}
        self._lock = threading.Lock()

    def _info(self, pem: bytes) -> CertificateInfo | str:
        with self._lock:
            hit = self._cache.get(pem)
        if hit is not None:
            return hit
        try:
            result: CertificateInfo | str = certificate_info(x509.load_pem_x509_certificate(pem))
        except (ValueError, KeyFormatError, CryptoError):
            result = msg("the client certificate cannot be read")
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[pem] = result
        return result

    def check(
        self, method: str, auth_context: dict[str, list[bytes]]
    ) -> tuple[grpc.StatusCode, str] | None:
        """The refusal for a call with ``auth_context``, or None to let it through."""
        pems = auth_context.get("x509_pem_cert")
        if not pems:
            return grpc.StatusCode.UNAUTHENTICATED, msg("no verified client certificate")
        info = self._info(pems[0])
        if isinstance(info, str):
            return grpc.StatusCode.UNAUTHENTICATED, info
        if Usage.CLIENT not in info.usages:
            return (
                grpc.StatusCode.UNAUTHENTICATED,
                msg("certificate of {cn!r} is not for client use", cn=info.common_name),
            )
        if self._revocation is not None:
            why = self._revocation.refusal(info.serial)
            if why is not None:
                return grpc.StatusCode.UNAUTHENTICATED, why
        checked = self._accept is not None and not method.startswith(self._open)
        if checked and not self._accept(info):  # type: ignore[misc]
            return (
                grpc.StatusCode.PERMISSION_DENIED,
                msg(
                    "{what} (caller {cn!r}, role {role!r})",
                    what=self._describe or msg("this server does not serve"),
                    cn=info.common_name,
                    role=info.role or "none",
                ),
            )
        return None

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        check = self.check

        def refuse(context) -> None:  # type: ignore[no-untyped-def]
            refusal = check(method, auth_properties(context))
            if refusal is not None:
                code, message = refusal
                # a domain error, so the domain-error interceptor (outside this one) maps it to
                # its status and the broker records the refusal in its ledger
                if code == grpc.StatusCode.PERMISSION_DENIED:
                    raise PermissionDenied(message)
                raise Unauthenticated(message)

        def guard(behaviour, streaming_response: bool):  # type: ignore[no-untyped-def]
            if streaming_response:

                def guarded_stream(request, context):  # type: ignore[no-untyped-def]
                    refuse(context)
                    yield from behaviour(request, context)

                return guarded_stream

            def guarded(request, context):  # type: ignore[no-untyped-def]
                refuse(context)
                return behaviour(request, context)

            return guarded

        kinds = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler, False),
            ("unary_stream", grpc.unary_stream_rpc_method_handler, True),
            ("stream_unary", grpc.stream_unary_rpc_method_handler, False),
            ("stream_stream", grpc.stream_stream_rpc_method_handler, True),
        )
        for attr, make, streaming in kinds:
            behaviour = getattr(handler, attr)
            if behaviour is not None:
                return make(
                    guard(behaviour, streaming),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler


def only_broker(info: CertificateInfo) -> bool:
    """A node's acceptance rule: the broker's client certificate and nothing else."""
    return info.common_name == "broker" and info.role == "broker"


def caller_of(context: grpc.ServicerContext) -> Caller | None:
    """The verified caller's name, role (from the certificate's signed role extension) and serial,
    or None without a readable client certificate — what per-role checks hang off."""
    pems = auth_properties(context).get("x509_pem_cert")
    if not pems:
        return None
    try:
        info = certificate_info(x509.load_pem_x509_certificate(pems[0]))
    except (ValueError, KeyFormatError):
        return None
    return Caller(info.common_name, info.role, info.serial)
