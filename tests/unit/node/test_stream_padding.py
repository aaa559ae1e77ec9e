"""Size buckets of streamed sets: every size maps to a bucket at least as large, at most a
``1/steps`` larger, of the form ``m·2^e``; the shipped rule file sets the buckets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tongdao.node.stream_padding import (
    DUMMY_PREFIX,
    MAX_STREAM_POINTS,
    StreamPadding,
    dummy_keys,
    policy_padding,
)
from tongdao.policies import load_policy


@given(st.integers(0, MAX_STREAM_POINTS + 10), st.integers(1, 64), st.integers(1, 8))
def test_a_bucket_holds_the_set_and_wastes_at_most_a_step(n, minimum, steps):
    padding = StreamPadding(minimum, steps)
    b = padding.bucket(n)
    assert max(n, minimum) <= b <= max(n, minimum, MAX_STREAM_POINTS)
    if n > minimum and b < MAX_STREAM_POINTS:
        assert b * steps <= n * (steps + 1) + steps * steps  # at most 1/steps over (rounding)
        m, e = b, 0
        while m >= 2 * steps and m % 2 == 0:
            m, e = m // 2, e + 1
        assert steps <= m < 2 * steps or e == 0
    assert padding.bucket(b) == b  # a bucket is its own bucket


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_buckets_are_monotone(a, b):
    padding = policy_padding()
    if a <= b:
        assert padding.bucket(a) <= padding.bucket(b)


def test_the_shipped_rule_file_sets_the_buckets():
    rules = load_policy().privacy
    assert policy_padding() == StreamPadding(
        rules.stream_padding_minimum, rules.stream_padding_steps
    )
    sizes = [policy_padding().bucket(n) for n in (1, 17, 10**5, 10**6)]
    assert sizes == [16, 20, 114_688, 1_048_576]


def test_dummy_keys_are_fresh_and_never_a_normalised_key():
    keys = dummy_keys(100)
    assert len(set(keys)) == 100
    for k in keys:
        assert k.startswith(DUMMY_PREFIX)
        try:
            k.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise AssertionError("a dummy key decodes as UTF-8")
