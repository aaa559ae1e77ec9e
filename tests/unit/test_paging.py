"""Pages and their tokens (tongdao.broker.kernel.paging), without a store: following the pages
shows every row once and in order; a token is refused when changed, foreign or made up; the
size is bounded by the rule file."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.broker.kernel.paging import Pager
from tongdao.policies.model import Limits
from tongdao.proto.errors import InvalidArgument

LIMITS = Limits(
    {
        "list_page_size": 3,
        "list_page_max": 5,
        "export_page_size": 2,
        "export_page_max": 2,
        "ledger_page_size": 4,
        "ledger_page_max": 8,
    },
    "Art.38",
)
PAGER = Pager.from_seed(b"\x01" * 32)


def follow(pager: Pager, rows: list[int], size: int) -> list[list[int]]:
    pages, token = [], ""
    while True:
        page = pager.page("rows", LIMITS, "list", size, token)
        got = page.take(rows, lambda row: (row,))
        pages.append(list(got))
        token = got.next_page_token
        if not token:
            return pages


@given(st.sets(st.integers(min_value=-(2**31), max_value=2**31 - 1)), st.integers(0, 5))
def test_the_pages_show_every_row_once_in_order(keys, size):
    rows = sorted(keys)
    pages = follow(PAGER, rows, size)
    assert [row for page in pages for row in page] == rows
    assert all(len(page) == (size or 3) for page in pages[:-1])  # full pages, then the last
    assert not rows or 0 < len(pages[-1]) <= (size or 3)  # never an empty page at the end


@given(st.text(min_size=1), st.integers(), st.dates())
def test_a_token_carries_its_key_back(text, number, day):
    key = (text, number, day, dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC))
    token = PAGER.token("rows", key)
    assert PAGER.cursor("rows", token) == key
    assert text not in token or len(text) < 3  # opaque (short texts may occur by chance)


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "not.a.token",
        "bm90IGpzb24.AAAA",  # "not json", a wrong tag
        PAGER.token("rows", (1,))[:-1],
        PAGER.token("rows", (1,)).replace(".", "A.", 1),
        PAGER.token("other", (1,)),  # another list's
        Pager.from_seed(b"\x02" * 32).token("rows", (1,)),  # another broker's
        PAGER.token("rows", (1,)) + "=",
    ],
)
def test_a_changed_foreign_or_made_up_token_is_refused(token):
    with pytest.raises(InvalidArgument) as caught:
        PAGER.page("rows", LIMITS, "list", 0, token)
    assert caught.value.field == "page_token"


def test_the_size_is_bounded_by_the_rule_file():
    assert PAGER.page("rows", LIMITS, "list", 0, "").size == 3
    assert PAGER.page("rows", LIMITS, "ledger", 8, "").size == 8
    for size, pages in ((6, "list"), (3, "export"), (-1, "list")):
        with pytest.raises(InvalidArgument) as caught:
            PAGER.page("rows", LIMITS, pages, size, "")
        assert caught.value.field == "page_size" and f"{pages}_page_max" in caught.value.message
