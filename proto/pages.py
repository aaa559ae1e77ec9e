"""Client side of paged lists: follow ``next_page_token`` from the first page to the last."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")
MAX_PAGES = 100_000
"""A broker that never ends its pages is refused after this many (a client-side guard)."""


def every_page(
    call: Callable[..., R], request: Any, rows: str | tuple[str, ...], *, timeout: float = 30
) -> R:
    """Call a paged RPC until its last page; one response holding every page's ``rows`` (the
    repeated field, or fields), the other fields as the first page had them, and no
    next_page_token.

    ``request`` is changed (its page_token set) as the pages are followed.

    Raises:
        grpc.RpcError: the broker refused a page.
        RuntimeError: the broker's pages did not end.
    """
    merged: Any = None
    names = (rows,) if isinstance(rows, str) else rows
    for _ in range(MAX_PAGES):
        reply: Any = call(request, timeout=timeout)
        if merged is None:
            merged = reply
        else:
            for name in names:
                getattr(merged, name).extend(getattr(reply, name))
        if not reply.next_page_token:
            merged.next_page_token = ""
            return merged  # type: ignore[no-any-return]
        request.page_token = reply.next_page_token
    raise RuntimeError(f"the broker sent more than {MAX_PAGES} pages")
