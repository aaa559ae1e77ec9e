"""Request ids: time-ordered version-7 UUIDs (RFC 9562) that the relay accepts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.proto.query import canonical_request_id, new_request_id

VECTOR = json.loads((Path(__file__).parent / "vectors" / "request-id-uuid7.json").read_text())
MAX_MS = (1 << 48) - 1


def _fixed(data: bytes):  # type: ignore[no-untyped-def]
    def random_bytes(n: int) -> bytes:
        assert n == len(data)
        return data

    return random_bytes


def test_the_rfc_9562_example_is_reproduced() -> None:
    made = new_request_id(
        clock_ns=lambda: int(VECTOR["unix_ts_ms"], 16) * 1_000_000 + 999_999,
        random_bytes=_fixed(bytes.fromhex(VECTOR["random_bytes"])),
    )
    assert made == VECTOR["uuid"]


def test_a_fresh_id_is_a_version_7_uuid_the_relay_accepts_as_it_is() -> None:
    made = new_request_id()
    parsed = uuid.UUID(made)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert canonical_request_id(made) == made  # canonical already: compared as sent


def test_fresh_ids_differ_within_one_millisecond() -> None:
    made = {new_request_id(clock_ns=lambda: 1_700_000_000_000_000_000) for _ in range(1000)}
    assert len(made) == 1000


@given(
    st.integers(0, MAX_MS - 1),
    st.integers(1, 10**6),
    st.binary(min_size=10, max_size=10),
    st.binary(min_size=10, max_size=10),
)
def test_an_id_from_a_later_millisecond_sorts_after(
    ms: int, later_by: int, first: bytes, second: bytes
) -> None:
    later = min(ms + later_by, MAX_MS)
    a = new_request_id(clock_ns=lambda: ms * 1_000_000, random_bytes=_fixed(first))
    b = new_request_id(clock_ns=lambda: later * 1_000_000, random_bytes=_fixed(second))
    assert a < b  # as stored: the canonical text sorts as the time does


@pytest.mark.parametrize("ns", [-1, (MAX_MS + 1) * 1_000_000])
def test_a_clock_outside_48_bits_of_milliseconds_is_refused(ns: int) -> None:
    with pytest.raises(ValueError, match="version-7"):
        new_request_id(clock_ns=lambda: ns)
