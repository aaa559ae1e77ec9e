"""The broker as the console sees it: one mutual-TLS channel with the console's party
certificate, each call carrying the logged-in person's session; refusals become values."""

from __future__ import annotations

from typing import Any

import grpc

from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import TlsMaterial, secure_channel, with_locale

CALL_SECONDS = 15.0
"""How long one broker call may take before the page says the broker did not answer."""


class Refusal(Exception):
    """The broker refused or failed a call: its status code name and its one-line details."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class Gateway:
    """The broker's services for the console's party (``party``), one channel for all people."""

    def __init__(self, target: str, tls: TlsMaterial, party: str) -> None:
        self.target = target
        self.party = party
        # the console renders refusals in its own catalogues from the broker's English text
        # (e.g. the lockout's time), so it asks the broker for English
        self._channel = with_locale(
            secure_channel(target, tls, server_name=BROKER_SERVER_NAME), "en"
        )

    def call(self, token: str, service: str, method: str, request: Any) -> Any:
        """``service.method(request)`` as the person of ``token`` ("" = no person: login).

        Raises:
            Refusal: the broker's status, never a traceback.
        """
        stubs = BrokerStubs.over(self._channel, token)
        stub = getattr(stubs, service)
        try:
            return getattr(stub, method)(request, timeout=CALL_SECONDS)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
            details = exc.details() if hasattr(exc, "details") else ""
            raise Refusal(code.name, details or "") from None

    def close(self) -> None:
        self._channel.close()
