"""Pages of every list and export: sizes from the rule file, opaque tokens, a stable order.

A list is read in a fixed order of unique keys (``ORDER BY`` its key columns, the last of them
unique). A page holds up to ``size`` rows after the previous page's last key; its
``next_page_token`` carries that key, the list it belongs to and a keyed check, so a token from
another list, a changed token or a made-up one is refused (INVALID_ARGUMENT naming
``page_token``). Rows added while a caller pages through the list appear on a later page when
their key sorts after the cursor; no row is shown twice and none already there is skipped.

The sizes are the rule file's ``[limits]``: ``<pages>_page_size`` when the caller names none,
at most ``<pages>_page_max`` (``pages`` is ``list``, ``export`` or ``ledger``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tongdao.policies.i18n import msg
from tongdao.policies.model import Limits
from tongdao.proto.errors import InvalidArgument

T = TypeVar("T")
TOKEN_FIELD = "page_token"  # noqa: S105 (a field name, not a secret)
SIZE_FIELD = "page_size"
TAG_BYTES = 16
Key = tuple[Any, ...]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or "=" in text:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pack(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a page key holds text, integers, dates and times, not {value!r}")
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (kind, text), *_ = value.items()
        if kind == "t" and isinstance(text, str):
            return dt.datetime.fromisoformat(text)
        if kind == "d" and isinstance(text, str):
            return dt.date.fromisoformat(text)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError("not a page key value")


@dataclass(frozen=True)
class Pager:
    """Issues and checks page tokens with one secret (the broker's, derived from its key)."""

    secret: bytes

    @classmethod
    def from_seed(cls, seed: bytes) -> Pager:
        """A pager whose secret is derived from ``seed`` (the broker's signing key): tokens stay
        valid across restarts and between brokers sharing the key."""
        return cls(hmac.new(seed, b"tongdao page tokens/v1", hashlib.sha256).digest())

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, payload, hashlib.sha256).digest()[:TAG_BYTES]

    def token(self, kind: str, key: Key) -> str:
        """The opaque token of the page after ``key`` in list ``kind``."""
        payload = json.dumps([kind, [_pack(k) for k in key]], separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._tag(payload))}"

    def cursor(self, kind: str, token: str) -> Key | None:
        """The key a token of list ``kind`` continues after (None: the first page).

        Raises:
            InvalidArgument: (``page_token``) not a token this broker issued for this list.
        """
        if not token:
            return None
        refusal = InvalidArgument(
            msg(
                "is not a page token of this list (pass the next_page_token of "
                "its previous page, or nothing for the first page)"
            ),
            field=TOKEN_FIELD,
        )
        try:
            body, tag = token.split(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(tag), self._tag(payload)):
                raise refusal
            named, values = json.loads(payload)
            if named != kind or not isinstance(values, list) or not values:
                raise refusal
            return tuple(_unpack(value) for value in values)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise refusal from None

    def page(self, kind: str, limits: Limits, pages: str, size: int, token: str) -> Page:
        """The page a caller asks for: ``size`` rows (0: the rule file's default for ``pages``)
        after the key in ``token``.

        Raises:
            InvalidArgument: ``page_size`` beyond the rule file's maximum, or a bad ``page_token``.
        """
        most = limits[f"{pages}_page_max"]
        if size < 0 or size > most:
            raise InvalidArgument(
                msg(
                    "must be between 0 and {most} (0: {v3}; [limits] {pages}_page_max, {article})",
                    most=most,
                    v3=limits[f"{pages}_page_size"],
                    pages=pages,
                    article=limits.article,
                ),
                field=SIZE_FIELD,
            )
        return Page(self, kind, size or limits[f"{pages}_page_size"], self.cursor(kind, token))


@dataclass(frozen=True)
class Page:
    """One page of list ``kind``: up to ``size`` rows after ``after`` (None: from the start)."""

    pager: Pager
    kind: str
    size: int
    after: Key | None

    def select(self, query: Select[Any], *columns: Any, limit: bool = True) -> Select[Any]:
        """``query`` in key order from after the cursor; with ``limit`` one row more than the
        page (so :meth:`split` knows whether another page follows)."""
        if self.after is not None:
            if len(self.after) != len(columns):
                raise InvalidArgument(msg("is not a page token of this list"), field=TOKEN_FIELD)
            query = query.where(after_key(columns, self.after))
        query = query.order_by(*columns)
        return query.limit(self.size + 1) if limit else query

    def split(self, rows: Iterable[T], key: Callable[[T], Key]) -> Paged[T]:
        """The page's rows from ``rows`` (in key order, after the cursor) with the next page's
        token ("" when no row follows). Reads at most one row beyond the page."""
        out: Paged[T] = Paged()
        for row in rows:
            if len(out) == self.size:
                out.next_page_token = self.pager.token(self.kind, key(out[-1]))
                break
            out.append(row)
        return out

    def take(self, rows: Sequence[T], key: Callable[[T], Key]) -> Paged[T]:
        """:meth:`split` of rows held in memory in key order (the cursor is applied here)."""
        after = self.after
        return self.split((row for row in rows if after is None or key(row) > after), key)

    def fetch(self, session: Session, query: Select[Any], *columns: Any) -> Paged[Any]:
        """The page of the entities ``query`` selects, ordered by ``columns`` (mapped
        attributes; the last, or all together, unique)."""
        names = [column.key for column in columns]
        rows = session.execute(self.select(query, *columns)).scalars()
        return self.split(rows, lambda row: tuple(getattr(row, name) for name in names))


class Paged(list[T]):
    """One page of rows, and the token of the next page ("" after the last page)."""

    next_page_token: str = ""


def after_key(columns: Sequence[Any], key: Key) -> ColumnElement[bool]:
    """``(columns) > (key)`` in lexicographic order, each comparison typed by its column."""
    first, *rest = columns
    if not rest:
        return first > key[0]  # type: ignore[no-any-return]
    return or_(first > key[0], and_(first == key[0], after_key(rest, key[1:])))


def next_token(rows: Sequence[Any]) -> str:
    """The next page's token of rows a paged list returned ("" for an unpaged list)."""
    return rows.next_page_token if isinstance(rows, Paged) else ""
