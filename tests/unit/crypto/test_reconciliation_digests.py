"""The reconciliation digests: order-independent, sensitive to every record and duplicate, keyed."""

from __future__ import annotations

import secrets

from hypothesis import given
from hypothesis import strategies as st

from tongdao.crypto.reconciliation import (
    holdings_digest,
    key_id,
    report_signing_bytes,
    report_view,
    request_ids_digest,
)

KEY = bytes(range(32))
records = st.lists(
    st.dictionaries(st.sampled_from(["id", "name", "gender"]), st.text(max_size=8), min_size=1),
    max_size=12,
)


@given(records, st.randoms())
def test_the_holdings_digest_ignores_order(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert holdings_digest(rows, KEY) == holdings_digest(shuffled, KEY)
    assert holdings_digest(rows, KEY)[0] == len(rows)


@given(records, st.dictionaries(st.just("id"), st.text(min_size=1, max_size=8), min_size=1))
def test_a_changed_added_or_repeated_record_changes_the_digest(rows, extra):
    _, base = holdings_digest(rows, KEY)
    assert holdings_digest([*rows, extra], KEY)[1] != base
    if rows:
        assert holdings_digest([*rows, rows[0]], KEY)[1] != base  # a multiset: duplicates count
        changed = [{**rows[0], "name": rows[0].get("name", "") + "x"}, *rows[1:]]
        assert holdings_digest(changed, KEY)[1] != base


def test_the_digest_depends_on_the_nodes_key():
    rows = [{"id": "1", "gender": "F"}, {"id": "2", "gender": "M"}]
    other = secrets.token_bytes(32)
    assert holdings_digest(rows, KEY)[1] != holdings_digest(rows, other)[1]
    assert key_id(KEY) != key_id(other) and len(key_id(KEY)) == 16


@given(st.lists(st.uuids().map(str), max_size=20), st.randoms())
def test_the_request_ids_digest_is_a_set_digest(ids, rnd):
    shuffled = list(ids) * 2
    rnd.shuffle(shuffled)
    assert request_ids_digest(ids) == request_ids_digest(shuffled)
    assert request_ids_digest([*ids, "another"]) != request_ids_digest(ids) or "another" in ids


def test_the_signed_bytes_cover_every_count_and_digest():
    def view(count: int, answered: int) -> bytes:
        return report_signing_bytes(
            report_view(
                department="hlj.gat",
                period_start="2026-11-30T16:00:00+00:00",
                period_end="2026-12-01T16:00:00+00:00",
                reported_at="2026-12-01T16:10:00+00:00",
                key_id=key_id(KEY),
                entries=[("gat.population", count, b"\1" * 32)],
                grants=[("g-1", answered, b"\2" * 32)],
            )
        )

    assert view(20, 3) == view(20, 3)
    assert len({view(20, 3), view(21, 3), view(20, 4)}) == 3
