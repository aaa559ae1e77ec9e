"""The node's streamed engines, driven frame by frame in-process (no gRPC): correctness against
the plaintext answer and every refusal of a malformed or dishonest consumer."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto.paillier import PlaintextOverflow
from tongdao.crypto.psi import PsiBlinder
from tongdao.crypto.selection import SelectionKey
from tongdao.node import streams
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied


def consumer_frames(blinder: PsiBlinder, keys: list[bytes]) -> list[bytes]:
    points = b"".join(blinder.blind_many(keys))
    step = 3 * 32  # several frames even for small sets
    body = [
        streams.frame(streams.POINTS, points[i : i + step]) for i in range(0, len(points), step)
    ]
    return [*body, streams.frame(streams.POINTS_END)]


def reblind_view(blinder: PsiBlinder, tags: list[bytes]) -> tuple[list[bytes], list[int]]:
    """The consumer's view of the node's rows: re-blinded, in an order of its own.
    Returns (the view, ``order``: view point ``i`` is row ``order[i]``)."""
    order = list(range(len(tags)))
    random.shuffle(order)
    points = blinder.reblind_many(tags)
    return [points[i] for i in order], order


def view_frames(view: list[bytes]) -> list[bytes]:
    body = b"".join(view)
    step = 5 * 32
    frames = [streams.frame(streams.VIEW, body[i : i + step]) for i in range(0, len(body), step)]
    return [*frames, streams.frame(streams.VIEW_END)]


def run_psi(
    method: str,
    mine: list[bytes],
    theirs: list[bytes],
    *,
    min_group: int = 0,
    view=None,
    spy=None,
) -> tuple[dict, list]:
    """Play the consumer against ProviderStream; return what it learned and the frames.
    ``view(blinder, tags)`` replaces the honest view (a cheating consumer); ``spy`` collects
    (kind, body) of every frame the node sent."""
    blinder = PsiBlinder()
    provider = streams.ProviderStream(
        method,
        keys=lambda: list(theirs),
        declared_points=len(mine),
        min_group=min_group,
        min_group_article="Art.38",
    )
    tags: list[bytes] = []

    def incoming():
        yield from consumer_frames(blinder, mine)
        if method != "intersection":
            points = view(blinder, tags) if view else reblind_view(blinder, tags)[0]
            yield from view_frames(points)

    out = []
    for message, final in provider.messages(incoming()):
        kind, body = streams.unframe(message)
        if kind == streams.PROVIDER:
            tags.extend(streams.split_points(body))
        if spy is not None:
            spy.append((kind, body))
        out.append((message, final))
    assert out[-1][1] is True and not any(final for _, final in out[:-1])
    frames = [streams.unframe(m) for m, _ in out]
    header = json.loads(frames[0][1])
    learned: dict = {"ordered": header["ordered"]}
    if header["ordered"]:
        double = [p for k, b in frames if k == streams.DOUBLE for p in streams.split_points(b)]
        own = set(blinder.reblind_many(tags))
        learned["members"] = {k for k, p in zip(mine, double, strict=True) if p in own}
        learned["size"] = len(learned["members"])
    else:
        assert not any(k == streams.DOUBLE for k, _ in frames)  # no consumer point comes back
        learned["size"] = json.loads(frames[-1][1])["size"]
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


THEIRS = [f"k{i}".encode() for i in range(40)]


@pytest.mark.parametrize("method", ["intersection_size", "intersection_sum"])
def test_a_consumer_with_one_key_below_the_minimum_group_learns_nothing_about_membership(
    method, selection_key
):
    """A set of one is no membership test: member or not, the node sends the same frames (its
    own padded rows) and the same refusal, before anything that depends on the consumer's set."""
    seen = []
    for key in (b"k7", b"not-a-member"):
        sent: list = []
        with pytest.raises(PermissionDenied) as err:
            if method == "intersection_sum":
                rows = [(k, 100) for k in THEIRS]
                play_sum(selection_key, [key], rows, min_group=10, spy=sent)
            else:
                run_psi(method, [key], THEIRS, min_group=10, spy=sent)
        assert err.value.articles == ("Art.38",)
        assert not any(c.isdigit() for c in err.value.message)
        seen.append((err.value.message, [(k, len(b)) for k, b in sent]))
    assert seen[0] == seen[1]
    assert all(k in (streams.HEADER, streams.PROVIDER, streams.PROVIDER_END) for k, _ in seen[0][1])


def test_size_only_intersection_at_the_minimum_group_size_gives_the_size():
    mine = [f"k{i}".encode() for i in range(5, 20)] + [b"zz"]
    learned, _ = run_psi("intersection_size", mine, THEIRS, min_group=10)
    assert learned["size"] == 15


def test_a_view_that_repeats_a_matching_point_is_refused():
    """A consumer with one key cannot count it ten times by repeating its view point."""

    def repeat(blinder, tags):
        points = blinder.reblind_many(tags)
        return points[:1] * 10 + points[10:]  # one row's point in ten places

    with pytest.raises(InvalidArgument, match="repeats a point"):
        run_psi("intersection_size", [f"k{i}".encode() for i in range(40)], THEIRS, view=repeat)


@pytest.mark.parametrize(
    "view",
    [
        lambda b, tags: b.reblind_many(tags)[1:],
        lambda b, tags: b.reblind_many(tags) + b.reblind_many(tags[:1]),
    ],
    ids=["fewer", "more"],
)
def test_a_view_of_another_size_is_refused(view):
    with pytest.raises(InvalidArgument, match="view"):
        run_psi("intersection_size", [b"k1"], THEIRS, view=view)


def test_a_consumer_with_a_scalar_per_copy_of_one_key_passes_only_by_guessing_its_row(monkeypatch):
    """The stated residual of node-side comparison: a consumer blinds its one key with ``t``
    scalars (``t`` = the minimum group size) and returns ``t`` copies of each of ``|Y|/t`` rows,
    one per scalar. The threshold passes — revealing membership — only if the key's row is among
    the covered rows: probability at most 1/t, since the node's rows come in a uniformly random
    order (here fixed, to show both outcomes)."""
    t = 4
    monkeypatch.setattr(streams, "shuffle", lambda items: None)  # rows in source order
    theirs = [f"k{i}".encode() for i in range(16)]  # one bucket: no dummies
    blinders = [PsiBlinder() for _ in range(t)]

    def attack(key):
        provider = streams.ProviderStream(
            "intersection_size", keys=lambda: list(theirs), declared_points=t, min_group=t
        )
        tags: list[bytes] = []

        def incoming():
            points = b"".join(b.blind(key) for b in blinders)
            yield streams.frame(streams.POINTS, points)
            yield streams.frame(streams.POINTS_END)
            covered = tags[: len(tags) // t]  # |Y|/t rows, t copies each
            view = [b.reblind(tag) for tag in covered for b in blinders]
            yield from view_frames(view)

        replies = []
        for message, _ in provider.messages(incoming()):
            kind, body = streams.unframe(message)
            if kind == streams.PROVIDER:
                tags.extend(streams.split_points(body))
            replies.append(kind)
        return replies

    assert attack(b"k1")[-1] == streams.RESULT  # covered row: the threshold passes
    with pytest.raises(PermissionDenied):
        attack(b"k9")  # uncovered row: refused, like a non-member


@pytest.fixture(scope="module")
def selection_key():
    return SelectionKey.generate(2048)


def play_sum(
    key, mine, rows, *, min_group=1, count=None, select=None, records=None, frames=None, spy=None
):
    """Play the consumer of an intersection-sum; ``count``, ``select``, ``records`` and
    ``frames`` let a test cheat (replace the selected count, the selection bits, the selection
    records, the frames after the view);
    ``spy`` collects (kind, body) of every frame the node sent.
    Returns (the size the consumer saw, the decrypted sum)."""
    blinder = PsiBlinder()
    provider = streams.ProviderStream(
        "intersection_sum",
        rows=lambda: list(rows),
        declared_points=len(mine),
        min_group=min_group,
        min_group_article="Art.38",
    )
    key_bytes = key.public_key.to_bytes()
    state: dict = {"tags": []}

    def incoming():
        yield streams.frame(streams.SELECTION_KEY, key_bytes)
        yield from consumer_frames(blinder, mine)
        view, state["order"] = reblind_view(blinder, state["tags"])
        yield from view_frames(view)
        bits = state["bits"]
        context = streams.selection_context(state["nonce"], key_bytes)
        if frames is not None:
            yield from frames(bits, context)
            return
        claimed = sum(bits) if count is None else count(bits)
        yield streams.json_frame(streams.SELECTED_COUNT, {"count": claimed})
        body = key.prove(select(bits) if select else bits, context, 0)
        if records is not None:
            body = records(body, bits, context)
        step = 4 * key.public_key.record_bytes
        for i in range(0, len(body), step):
            yield streams.frame(streams.SELECTIONS, body[i : i + step])
        yield streams.frame(streams.SELECTIONS_END)

    for message, _final in provider.messages(incoming()):
        kind, body = streams.unframe(message)
        if spy is not None:
            spy.append((kind, body))
        if kind == streams.HEADER:
            state["nonce"] = bytes.fromhex(json.loads(body)["selection_nonce"])
        elif kind == streams.PROVIDER:
            state["tags"] += streams.split_points(body)
        elif kind == streams.MATCHES:
            order = state["order"]
            matched = np.unpackbits(np.frombuffer(body, dtype=np.uint8))[: len(order)]
            bits = [0] * len(order)
            for position, row in enumerate(order):
                bits[row] = int(matched[position])
            state["bits"] = bits
        elif kind == streams.RESULT:
            bits = state["bits"]
            try:
                return sum(bits), key.decrypt_sum(bytes.fromhex(json.loads(body)["sum"]))
            except PlaintextOverflow:  # outside the signed range: noise
                return sum(bits), None
    raise AssertionError("no result")


def test_intersection_sum_matches_plaintext(selection_key):
    rows = [(f"k{i}".encode(), 100 * i - 700) for i in range(30)]
    mine = [f"k{i}".encode() for i in range(10, 45)]
    count, value = play_sum(selection_key, mine, rows)
    assert count == 20
    assert value == sum(100 * i - 700 for i in range(10, 30))


def test_intersection_sum_below_minimum_group_is_refused_without_a_number(selection_key):
    rows = [(f"k{i}".encode(), i) for i in range(5)]
    with pytest.raises(PermissionDenied) as err:
        play_sum(selection_key, [b"k1", b"k2", b"zz"], rows, min_group=10)
    assert "minimum group size" in err.value.message and err.value.articles == ("Art.38",)
    assert not any(c.isdigit() for c in err.value.message)  # neither 2 nor 10


def test_selecting_fewer_rows_than_the_intersection_garbles_the_sum(selection_key):
    """Ten keys match; selecting only the first of their rows (to read one value) while
    claiming ten yields noise: the sum is bound to the size the node counted."""
    rows = [(f"k{i}".encode(), 1000 + i) for i in range(20)]
    mine = [f"k{i}".encode() for i in range(10)] + [b"other"]

    def one(bits):
        first = bits.index(1)
        return [int(j == first) for j in range(len(bits))]

    seen, value = play_sum(selection_key, mine, rows, min_group=10, select=one)
    assert seen == 10
    assert value is None or not -(10**9) < value < 10**9


def test_a_count_other_than_the_intersection_size_is_refused(selection_key):
    rows = [(f"k{i}".encode(), i) for i in range(20)]
    mine = [f"k{i}".encode() for i in range(12)]
    with pytest.raises(InvalidArgument, match="not the size of the intersection"):
        play_sum(selection_key, mine, rows, min_group=10, count=lambda bits: 10)


def _flip(position):
    def tamper(body, bits, context):
        out = bytearray(body)
        out[position] ^= 1
        return bytes(out)

    return tamper


@pytest.mark.parametrize(
    ("records", "match"),
    [
        (_flip(100), "does not verify"),  # a ciphertext bit
        (_flip(-1), "does not verify"),  # a response bit
        (lambda body, bits, ctx: body[:-1], "do not match the rows"),
        (lambda body, bits, ctx: body[: len(body) // 2], "one selection record per row"),
    ],
    ids=["ciphertext", "response", "ragged", "missing-rows"],
)
def test_tampered_selections_are_refused(selection_key, records, match):
    rows = [(f"k{i}".encode(), i) for i in range(6)]
    with pytest.raises(InvalidArgument, match=match):
        play_sum(selection_key, [b"k1", b"k2"], rows, records=records)


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (
            lambda bits, ctx: [streams.json_frame(streams.SELECTED_COUNT, {"count": 10**6})],
            "not the size",
        ),
        (lambda bits, ctx: [streams.json_frame(streams.SELECTED_COUNT, {"count": "3"})], "count"),
        (lambda bits, ctx: [streams.json_frame(streams.SELECTED_COUNT, {"count": -1})], "negative"),
        (lambda bits, ctx: [streams.frame(streams.SELECTIONS, b"")], "selected count"),
        (
            lambda bits, ctx: [streams.json_frame(streams.SELECTED_COUNT, {"count": sum(bits)})],
            "end-of-selections",
        ),
    ],
    ids=["count-too-large", "count-not-int", "negative", "no-count", "cut"],
)
def test_malformed_selection_frames_are_refused(selection_key, frames, match):
    rows = [(f"k{i}".encode(), i) for i in range(4)]
    with pytest.raises(InvalidArgument, match=match):
        play_sum(selection_key, [b"k1", b"k2"], rows, frames=frames)


def test_an_uncertified_selection_key_is_refused():
    provider = streams.ProviderStream(
        "intersection_sum", rows=lambda: [(b"a", 1)], declared_points=0
    )
    frames = provider.messages(iter([streams.frame(streams.SELECTION_KEY, b"\x01\x00" + b"\xff")]))
    next(frames)  # the header
    with pytest.raises(InvalidArgument, match="selection key"):
        next(frames)


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
        [streams.frame(streams.SELECTIONS, b"")],  # out of order
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


@pytest.mark.parametrize(("target", "member"), [(b"k3", True), (b"k30", False)])
def test_a_provider_with_its_own_scalar_for_a_row_learns_whether_the_consumer_holds_it(
    target, member
):
    """The stated residual toward a deviating provider: it compares, so it can blind one row of
    its choice with a second scalar ``b'`` and test that row alone — ``b'·D`` and ``b·V`` meet
    exactly when the consumer holds the row's key. The consumer cannot check the node's blinding
    (it never sees the node's hashed keys)."""
    mine = [f"k{i}".encode() for i in range(10)]
    consumer = PsiBlinder()
    points = consumer.blind_many(mine)
    b, b_target = PsiBlinder(), PsiBlinder()
    double = b.reblind_many(points)  # D, kept at the node
    rows = [f"k{i}".encode() for i in range(5, 40)]
    tags = [(b_target if y == target else b).blind(y) for y in [*rows, target]]
    view, _ = reblind_view(consumer, tags)  # the honest consumer's view, in its own order
    assert len(set(view) & set(double)) == 5  # the honest count is unchanged (k5..k9)
    singled_out = set(b_target.reblind_many(double)) & set(b.reblind_many(view))
    assert bool(singled_out) is member


def test_keepalive_frames_from_a_waiting_consumer_are_ignored():
    """A consumer waiting for the node's rows sends keepalives (the edge cuts a silent stream);
    anywhere in its stream they change nothing."""
    blinder = PsiBlinder()
    mine = [f"k{i}".encode() for i in range(12)]
    provider = streams.ProviderStream(
        "intersection_size", keys=lambda: list(THEIRS), declared_points=12, min_group=10
    )
    tags: list[bytes] = []

    def incoming():
        for message in consumer_frames(blinder, mine):
            yield streams.frame(streams.KEEPALIVE)
            yield message
        yield streams.frame(streams.KEEPALIVE)
        for message in view_frames(reblind_view(blinder, tags)[0]):
            yield message
            yield streams.frame(streams.KEEPALIVE)

    result = None
    for message, _ in provider.messages(incoming()):
        kind, body = streams.unframe(message)
        if kind == streams.PROVIDER:
            tags.extend(streams.split_points(body))
        elif kind == streams.RESULT:
            result = json.loads(body)
    assert result == {"size": 12}


def test_a_waiting_consumer_sends_keepalives_until_its_next_frame(monkeypatch):
    import queue

    from tongdao.node import client_privacy

    monkeypatch.setattr(streams, "KEEPALIVE_SECONDS", 0.0)

    class Running:
        def active(self):
            return True

    later: queue.Queue = queue.Queue()
    frames = client_privacy._then(iter([(b"P", False)]), later, Running())
    assert next(frames) == (b"P", False)
    assert next(frames) == (streams.KEEPALIVE, False)  # nothing ready yet
    later.put((b"W", True))
    assert [f for f in frames if f[0] != streams.KEEPALIVE] == [(b"W", True)]
