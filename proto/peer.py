"""The verified peer of a call, read once per call.

``grpc.ServicerContext.auth_context()`` builds a fresh dictionary from the TLS session each time
(decoding every certificate in the chain); the identity check, the role check, the edge, the
per-call log and the servicer each need it, so it is built once and kept on the call's context
(the peer of a call never changes while it runs)."""

from __future__ import annotations

import contextlib
from typing import cast

import grpc

_KEPT = "_tongdao_auth_context"


def auth_properties(context: grpc.ServicerContext) -> dict[str, list[bytes]]:
    """The call's auth context (``x509_common_name``, ``x509_pem_cert`` …), built once."""
    kept: dict[str, list[bytes]] | None = getattr(context, _KEPT, None)
    if kept is None:
        kept = cast("dict[str, list[bytes]]", context.auth_context())
        # a context that takes no attributes builds it again next time
        with contextlib.suppress(AttributeError):
            setattr(context, _KEPT, kept)
    return kept
