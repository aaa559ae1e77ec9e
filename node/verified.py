"""The broker's verify key, remembering the signatures it has already found good.

Every query carries the broker's grant token and a status ticket, and the same token (and,
for the ticket's lifetime, the same ticket) arrives with every query under a grant. An Ed25519
verification is a pure function of the key, the signature and the message, so a pair that
verified once verifies again: remembering it skips only the curve arithmetic. Everything else
is still checked on every query — the token's and ticket's expiry, the ticket's grant and
token, the scope — so a suspended grant is refused as soon as its last ticket goes stale, as
without the memory. Only successes are remembered; a forgery is refused afresh each time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from tongdao.crypto.signing import VerifyKey

REMEMBERED = 1024  # signatures kept: one token and one ticket per grant in use, with room


class RememberingVerifyKey(VerifyKey):
    """A :class:`VerifyKey` that remembers the last :data:`REMEMBERED` good signatures."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_good", OrderedDict())
        object.__setattr__(self, "_lock", threading.Lock())

    def verify(self, signature: bytes, message: bytes) -> None:
        """As :meth:`VerifyKey.verify`.

        Raises:
            SignatureError: the signature is malformed or does not verify.
        """
        pair = (bytes(signature), bytes(message))
        good: OrderedDict[tuple[bytes, bytes], None] = self._good  # type: ignore[attr-defined]
        if pair in good:
            return
        super().verify(signature, message)
        with self._lock:  # type: ignore[attr-defined]
            good[pair] = None
            while len(good) > REMEMBERED:
                good.popitem(last=False)


def remembering(key: VerifyKey) -> VerifyKey:
    """``key`` as a :class:`RememberingVerifyKey` (the same key)."""
    return key if isinstance(key, RememberingVerifyKey) else RememberingVerifyKey(key.public_key)
