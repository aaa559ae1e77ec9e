"""The node's streamed engines, driven frame by frame in-process (no gRPC): correctness against
the plaintext answer and every refusal of a malformed or dishonest consumer."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto.paillier import Evaluator, PaillierPublicKey
from tongdao.crypto.psi import PsiBlinder
from tongdao.node import streams
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied


def consumer_frames(blinder: PsiBlinder, keys: list[bytes]) -> list[bytes]:
    points = b"".join(blinder.blind_many(keys))
    step = 3 * 32  # several frames even for small sets
    body = [
        streams.frame(streams.POINTS, points[i : i + step]) for i in range(0, len(points), step)
    ]
    return [*body, streams.frame(streams.POINTS_END)]


def run_psi(method: str, mine: list[bytes], theirs: list[bytes]) -> tuple[dict, list]:
    """Play the consumer against ProviderStream; return what it learned and the frames."""
    blinder = PsiBlinder()
    provider = streams.ProviderStream(method, keys=lambda: list(theirs), declared_points=len(mine))
    out = list(provider.messages(iter(consumer_frames(blinder, mine))))
    assert out[-1][1] is True and not any(final for _, final in out[:-1])
    frames = [streams.unframe(m) for m, _ in out]
    double = [p for k, b in frames if k == streams.DOUBLE for p in streams.split_points(b)]
    own = {
        p
        for k, b in frames
        if k == streams.PROVIDER
        for p in blinder.reblind_many(streams.split_points(b))
    }
    header = json.loads(frames[0][1])
    learned = {"size": sum(p in own for p in double), "ordered": header["ordered"]}
    if header["ordered"]:
        learned["members"] = {k for k, p in zip(mine, double, strict=True) if p in own}
    return learned, frames


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.integers(0, 60), max_size=25, unique=True),
    st.lists(st.integers(0, 60), max_size=25),  # the provider may hold duplicates
    st.sampled_from(["intersection", "intersection_size"]),
)
def test_psi_matches_plaintext(xs, ys, method):
    mine = [str(x).encode() for x in xs]
    theirs = [str(y).encode() for y in ys]
    learned, _ = run_psi(method, mine, theirs)
    assert learned["size"] == len(set(xs) & set(ys))
    if method == "intersection":
        assert learned["members"] == {str(x).encode() for x in set(xs) & set(ys)}
    else:
        assert "members" not in learned and learned["ordered"] is False


def play_sum(mine, rows, *, min_group=1, tamper=None):
    blinder = PsiBlinder()
    provider = streams.ProviderStream(
        "intersection_sum",
        rows=lambda: list(rows),
        declared_points=len(mine),
        min_group=min_group,
        min_group_article="Art.38",
        key_bits=2048,
    )
    state: dict = {}

    def incoming():
        yield from consumer_frames(blinder, mine)
        count, masked = state["count"], state["masked"]
        body = {"count": count, "masked_sum": masked.to_bytes().hex()}
        if tamper:
            body = tamper(body)
        yield streams.json_frame(streams.MASKED_SUM, body)

    frames = provider.messages(incoming())
    kind, body = streams.unframe(next(frames)[0])
    public = PaillierPublicKey.from_bytes(bytes.fromhex(json.loads(body)["paillier_public_key"]))
    double, total, count = set(), None, 0
    for message, _final in frames:
        kind, body = streams.unframe(message)
        if kind == streams.DOUBLE:
            double.update(streams.split_points(body))
        elif kind == streams.PAIRS:
            points, cts = streams.unpack_pairs(body, public.ciphertext_bytes)
            w = public.ciphertext_bytes
            chosen = [
                cts[i * w : (i + 1) * w]
                for i, p in enumerate(blinder.reblind_many(points))
                if p in double
            ]
            count += len(chosen)
            if chosen:
                total = Evaluator(public).sum_received(chosen, start=total)
        elif kind == streams.PROVIDER_END:
            mask = 12345
            enc = total if total is not None else public.encrypt(0)
            state["count"] = count
            state["masked"] = enc + public.raw_encrypt_unobfuscated(mask)
        elif kind == streams.RESULT:
            value = (int(json.loads(body)["masked_sum"]) - mask) % int(public.n)
            return count, value
    raise AssertionError("no result")


def test_intersection_sum_matches_plaintext():
    rows = [(f"k{i}".encode(), 100 * i + 7) for i in range(30)]
    mine = [f"k{i}".encode() for i in range(10, 45)]
    count, value = play_sum(mine, rows)
    assert count == 20
    assert value == sum(100 * i + 7 for i in range(10, 30))


def test_intersection_sum_below_minimum_group_is_refused_with_the_article():
    rows = [(f"k{i}".encode(), i) for i in range(5)]
    with pytest.raises(PermissionDenied) as err:
        play_sum([b"k1", b"k2", b"zz"], rows, min_group=10)
    assert "minimum group size 10" in err.value.message and err.value.articles == ("Art.38",)


@pytest.mark.parametrize(
    ("tamper", "match"),
    [
        (lambda b: {**b, "count": 10**6}, "larger than either set"),
        (lambda b: {**b, "masked_sum": "00"}, "not a valid ciphertext"),
        (lambda b: {**b, "extra": 1}, "count, masked_sum"),
        (lambda b: {**b, "count": "3"}, "count, masked_sum"),
    ],
)
def test_a_dishonest_masked_sum_is_refused(tamper, match):
    rows = [(f"k{i}".encode(), i) for i in range(5)]
    with pytest.raises(InvalidArgument, match=match):
        play_sum([b"k1", b"k2"], rows, tamper=tamper)


def drive(method, frames, declared, keys=(b"a", b"b")):
    provider = streams.ProviderStream(method, keys=lambda: list(keys), declared_points=declared)
    return list(provider.messages(iter(frames)))


def test_more_points_than_declared_are_refused():
    points = b"".join(PsiBlinder().blind_many([b"1", b"2", b"3"]))
    with pytest.raises(InvalidArgument, match="more points than the 2 declared"):
        drive("intersection_size", [streams.frame(streams.POINTS, points)], 2)


def test_fewer_points_than_declared_are_refused():
    points = b"".join(PsiBlinder().blind_many([b"1"]))
    frames = [streams.frame(streams.POINTS, points), streams.frame(streams.POINTS_END)]
    with pytest.raises(InvalidArgument, match="1 points arrived, 2 were declared"):
        drive("intersection_size", frames, 2)


def test_a_stream_cut_before_the_end_of_points_is_refused():
    points = b"".join(PsiBlinder().blind_many([b"1"]))
    with pytest.raises(InvalidArgument, match="before the end-of-points"):
        drive("intersection", [streams.frame(streams.POINTS, points)], 1)


@pytest.mark.parametrize(
    "frames",
    [
        [streams.frame(streams.MASKED_SUM, b"{}")],  # out of order
        [streams.frame(streams.POINTS, b"x" * 33)],  # not whole points
        [b""],  # empty message
        [streams.frame(streams.POINTS, b"\x00" * 32), streams.frame(streams.POINTS_END)],
    ],
    ids=["wrong-kind", "ragged", "empty", "low-order-point"],
)
def test_malformed_frames_are_refused(frames):
    with pytest.raises(InvalidArgument):
        drive("intersection_size", frames, 1)


@pytest.mark.parametrize("declared", [-1, streams.MAX_STREAM_POINTS + 1])
def test_declared_size_is_bounded(declared):
    with pytest.raises(InvalidArgument, match="must be 0 to"):
        streams.ProviderStream("intersection", keys=list, declared_points=declared)


def test_non_streamed_method_is_refused():
    with pytest.raises(InvalidArgument):
        streams.ProviderStream("fetch", keys=list, declared_points=0)


def test_non_numeric_or_empty_value_is_refused_before_anything_is_sent():
    from tongdao.node.engines import psi_key, scaled_value

    good = [{"id": "1", "v": "12.50"}, {"id": "", "v": "x"}]  # a row without a key is skipped
    assert streams.summable_rows(good, "id", "v", psi_key, scaled_value) == [(b"1", 1250)]
    for bad in ("n/a", ""):
        rows = [{"id": "1", "v": "12.50"}, {"id": "2", "v": bad}]
        with pytest.raises(FailedPrecondition, match=r"non-numeric|empty"):
            streams.summable_rows(rows, "id", "v", psi_key, scaled_value)


def test_pairs_lengths_must_add_up():
    body = streams.pack_pairs(b"p" * 64, b"c" * 20)
    assert streams.unpack_pairs(body, 10) == ([b"p" * 32, b"p" * 32], b"c" * 20)
    with pytest.raises(InvalidArgument):
        streams.unpack_pairs(body, 11)
    with pytest.raises(InvalidArgument):
        streams.unpack_pairs(b"\x00", 10)


def test_workers_pool_gives_the_same_answer_as_in_process():
    keys = [str(i).encode() for i in range(50)]
    scalar = b"\x05" * 32
    with streams.StreamWorkers(scalar, None, workers=2) as pool:
        pooled = list(pool.map("blind", streams.chunked(keys, 7)))
    with streams.StreamWorkers(scalar, None, workers=1) as local:
        inline = list(local.map("blind", streams.chunked(keys, 7)))
    assert pooled == inline


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False),
    st.sampled_from(["{}", "{:f}", "{:.1f}", "{:.0f}", "{:e}", " {} "]),
)
def test_scaled_value_fast_path_agrees_with_decimal(value, form):
    from decimal import Decimal

    from tongdao.node.engines import scaled_value

    text = form.format(value)
    expected = int(Decimal(text.strip()).scaleb(2).to_integral_value())
    assert scaled_value(text, "v") == expected


@pytest.mark.parametrize("text", ["", "-", "abc", "1.2.3", "--1", "1,000"])
def test_scaled_value_refuses_non_numbers(text):
    from tongdao.node.engines import scaled_value

    with pytest.raises(FailedPrecondition, match="non-numeric"):
        scaled_value(text, "v")
