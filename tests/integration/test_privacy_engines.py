"""PRIV-3..6 over real gRPC: intersection, intersection-sum and the 8-city aggregate, each checked
against the plaintext answer, plus the refusals."""

from __future__ import annotations

import itertools
import json
import queue
import statistics
import unicodedata
from decimal import Decimal

import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.demo import CITY_MZJ, city_entry
from tongdao.node.client import ClientError
from tongdao.node.client_stream import _QueryStream


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("privacy"), records=120, cities=True)
    yield s
    s.stop()


def grant_for(stack, entry, fields, methods, *, provider=None, **kwargs):
    with stack.consumer() as client:
        req = client.file_share_request(entry, fields, methods, PURPOSE, SCENARIO, BASIS, **kwargs)
        if req.status == "pending_provider_review":
            with stack.consumer(provider) as p:
                req = p.decide_share_request(req.id, True, "ok")
        assert req.status == "approved", req.decision.reason
        return client.get_grant(req.grant_id).token


def variants(id_number: str) -> str:
    """The same key written differently: full-width digits, lower-case x, stray spaces."""
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in id_number)
    return f"  {wide.lower()} "


# ---------------------------------------------------------------- PRIV-3


def test_intersection_members_match_plaintext(stack):
    token = grant_for(stack, "gat.population", ["id_number"], ["intersection"])
    ids = [p["id_number"] for p in stack.people]
    mine = ids[:25] + [f"2301021990010{i:04d}5" for i in range(20)] + [variants(ids[30]), ids[0]]
    with stack.consumer() as client:
        result = client.intersection(token, mine, "id_number", PURPOSE)
    norm = {unicodedata.normalize("NFKC", k).strip().casefold() for k in mine}
    expected = norm & {i.casefold() for i in ids}
    assert result["size"] == len(expected) == 26
    got = {unicodedata.normalize("NFKC", m).strip().casefold() for m in result["members"]}
    assert got == expected
    assert result["consumer_set_size"] == len(norm)  # duplicates counted once


@pytest.mark.parametrize("count", [10, 37])
def test_intersection_size_only(stack, count):
    token = grant_for(stack, "gat.population", ["id_number"], ["intersection_size"])
    ids = [p["id_number"] for p in stack.people]
    with stack.consumer() as client:
        result = client.intersection(token, [*ids[:count], "999"], "id_number", PURPOSE)
    assert result["size"] == count
    assert "members" not in result


@pytest.mark.parametrize("count", [0, 1, 9])
def test_intersection_size_below_the_minimum_group_is_refused_without_a_number(stack, count):
    token = grant_for(stack, "gat.population", ["id_number"], ["intersection_size"])
    ids = [p["id_number"] for p in stack.people]
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection(token, [*ids[:count], "999"], "id_number", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED"
    assert "minimum group size" in err.value.message and "Art.38" in err.value.message
    assert not any(c.isdigit() for c in err.value.message.replace("Art.38", ""))


def test_empty_consumer_set(stack):
    token = grant_for(stack, "gat.population", ["id_number"], ["intersection_size"])
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection(token, [], "id_number", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED"


def test_grant_without_the_method_is_refused(stack):
    token = grant_for(stack, "gat.population", ["name"], ["fetch"])
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection(token, ["1"], "id_number", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED"


def test_grade_forbids_fetching_the_key_at_request_time(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["id_number"], ["fetch"], PURPOSE, SCENARIO, BASIS
        )
    assert req.status == "refused"
    assert req.decision.rule == "grades.sensitive_personal.methods"
    assert req.decision.articles == ["Art.14"]


# ---------------------------------------------------------------- PRIV-4


def test_intersection_sum_matches_plaintext_and_reveals_only_the_output(stack, monkeypatch):
    token = grant_for(
        stack, "sw.income", ["annual_income"], ["intersection_sum"], provider="hlj.sw"
    )
    incomes = {r["id_number"]: Decimal(r["annual_income"]) for r in stack.incomes}
    ids = [p["id_number"] for p in stack.people[:40]] + ["230102199901011111"]
    expected = [incomes[i] for i in ids if i in incomes]
    received: list[tuple[bytes, bytes]] = []
    original = _QueryStream.next_frame

    def spy(self):
        item = original(self)
        received.append(item)
        return item

    monkeypatch.setattr(_QueryStream, "next_frame", spy)
    with stack.consumer() as client:
        result = client.intersection_sum(token, ids, "annual_income", PURPOSE)
    assert (result["size"], result["sum"]) == (len(expected), sum(expected))
    assert result["consumer_set_size"] == len(ids)
    assert result["provider_rows"] == len(stack.incomes)
    kinds = {kind for kind, _ in received if kind}
    assert kinds <= {b"H", b"Q", b"F", b"M", b"R"}
    # every JSON frame the consumer received: no provider value, in any unit, only the output
    text = "".join(body.decode() for kind, body in received if kind in (b"H", b"F", b"R"))
    for value in incomes.values():
        assert str(value) not in text
        assert f'"{int(value * 100)}"' not in text
    # the bulk frames are points and ciphertexts: no value's digits appear in them either
    bulk = b"".join(body for kind, body in received if kind in (b"Q", b"M"))
    for value in list(incomes.values())[:20]:
        assert str(value).encode() not in bulk


def test_intersection_sum_below_minimum_group_is_refused(stack):
    token = grant_for(
        stack, "sw.income", ["annual_income"], ["intersection_sum"], provider="hlj.sw"
    )
    ids = [r["id_number"] for r in stack.incomes[:3]]
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection_sum(token, ids, "annual_income", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED"
    assert "minimum group size" in err.value.message and "Art.38" in err.value.message
    # the refusal (which the broker relays and records) carries no count
    assert not any(c.isdigit() for c in err.value.message.replace("Art.38", ""))


def cheating_sum(stack, client, token, keys, choose):
    """A consumer that runs the protocol up to the node's match frame, then sends whatever
    ``choose(matches, key, context)`` returns: ``matches[j]`` is 1 when provider row ``j``
    matched one of its keys. Returns the decrypted result, or raises the node's refusal."""
    import numpy as np

    from tongdao.crypto.psi import PsiBlinder
    from tongdao.crypto.selection import SelectionKey
    from tongdao.node import streams
    from tongdao.node.engines import psi_key

    key = SelectionKey.generate(2048)
    key_bytes = key.public_key.to_bytes()
    blinder = PsiBlinder()
    points = b"".join(blinder.blind(psi_key(k)) for k in keys)
    pending: queue.Queue = queue.Queue()

    def upstream():
        yield streams.frame(streams.SELECTION_KEY, key_bytes), False
        yield streams.frame(streams.POINTS, points), False
        yield streams.frame(streams.POINTS_END), False
        while True:
            item = pending.get()
            yield item
            if item[1]:
                return

    stream = client._stream(
        token,
        "intersection_sum",
        ["annual_income"],
        PURPOSE,
        {"points": len(keys), "value_field": "annual_income"},
    )
    stream.run(upstream())
    header = stream.expect_json(b"H")
    tags = [p for body in stream.bodies(b"Q") for p in streams.split_points(body)]
    stream.expect_json(b"F")
    pending.put((streams.frame(streams.VIEW, b"".join(blinder.reblind_many(tags))), False))
    pending.put((streams.frame(streams.VIEW_END), False))  # in the node's order: no need to hide
    kind, body = stream.next_frame()
    assert kind == b"M"
    matches = np.unpackbits(np.frombuffer(body, dtype=np.uint8))[: len(tags)].tolist()
    context = streams.selection_context(bytes.fromhex(header["selection_nonce"]), key_bytes)
    for item in choose(matches, key, context):
        pending.put(item)
    result = stream.expect_json(b"R")
    stream.finish()
    return key.decrypt_sum(bytes.fromhex(result["sum"]))


def _income_grant(stack):
    return grant_for(stack, "sw.income", ["annual_income"], ["intersection_sum"], provider="hlj.sw")


def test_packed_weights_from_a_cheating_consumer_recover_nothing(stack):
    """The attack on a design in which the provider decrypts — ten keys and one result weighted
    Σ 2^(64·j)·t_j — needs weights other than 0 and 1: the node refuses them and returns no
    result at all."""
    from tongdao.node import streams

    ids = [r["id_number"] for r in stack.incomes[:10]]
    token = _income_grant(stack)

    def packed(matches, key, context):
        pk = key.public_key.paillier
        body = b""
        for j, m in enumerate(matches):
            record = key.prove([0], context, j)
            if m:  # turn Enc(0) into Enc(2^(64·j)), keeping the proof
                c = int.from_bytes(record[: pk.ciphertext_bytes], "big")
                c = c * (1 + (2 ** (64 * j)) * int(pk.n)) % int(pk.nsquare)
                record = c.to_bytes(pk.ciphertext_bytes, "big") + record[pk.ciphertext_bytes :]
            body += record
        yield streams.json_frame(streams.SELECTED_COUNT, {"count": sum(matches)}), False
        yield streams.frame(streams.SELECTIONS, body), False
        yield streams.frame(streams.SELECTIONS_END), True

    with stack.consumer() as client, pytest.raises(ClientError) as err:
        cheating_sum(stack, client, token, ids, packed)
    assert err.value.code == "INVALID_ARGUMENT" and "does not verify" in err.value.message


def test_one_target_among_keys_the_node_does_not_hold_gets_no_answer(stack):
    """One target and nine keys the node does not hold: the node counts one match and refuses
    before the consumer learns anything — member or not, the same refusal."""
    target = stack.incomes[0]
    token = _income_grant(stack)
    refusals = []
    for first in (target["id_number"], "230102199901019999"):
        ids = [first] + [f"23010219990101{i:04d}" for i in range(9)]
        with stack.consumer() as client, pytest.raises(ClientError) as err:
            cheating_sum(stack, client, token, ids, lambda *a: [])
        refusals.append((err.value.code, err.value.message))
    assert refusals[0] == refusals[1] and refusals[0][0] == "PERMISSION_DENIED"


def test_what_a_cheating_consumer_can_still_choose_is_a_subset_of_rows(stack):
    """The stated residual: with ten matching keys, any 0/1 selection of exactly the intersection
    size — here one matched row and nine rows it cannot name. It learns that sum, nothing
    finer."""
    from tongdao.node import streams

    values = {r["id_number"]: int(Decimal(r["annual_income"]) * 100) for r in stack.incomes}
    keys = [r["id_number"] for r in stack.incomes[:10]]
    token = _income_grant(stack)
    chosen: list[int] = []

    def subset(matches, key, context):
        first = matches.index(1)
        unnamed = [j for j, m in enumerate(matches) if not m][:9]
        bits = [int(j == first or j in unnamed) for j in range(len(matches))]
        chosen.extend(j for j, b in enumerate(bits) if b)
        yield streams.json_frame(streams.SELECTED_COUNT, {"count": 10}), False
        yield streams.frame(streams.SELECTIONS, key.prove(bits, context, 0)), False
        yield streams.frame(streams.SELECTIONS_END), True

    with stack.consumer() as client:
        value = cheating_sum(stack, client, token, keys, subset)
    assert len(chosen) == 10
    # one of the ten matched values plus nine rows it cannot identify (dummy rows add zero)
    assert not any(value == values[k] for k in keys)
    assert any(value - values[k] in _sums_of_nine(values, k) for k in keys)


def _sums_of_nine(values, target):
    """Only checks membership cheaply: the residual is bounded by the nine largest values (and
    below by the nine smallest, dummy rows counting as zero)."""
    others = sorted([0] * 9 + [v for k, v in values.items() if k != target])
    return range(sum(others[:9]), sum(others[-9:]) + 1)


# ---------------------------------------------------------------- PRIV-5


def city_tokens(stack, fields, **kwargs):
    return [
        grant_for(stack, city_entry(p)["code"], fields, ["aggregate"], **kwargs) for p in CITY_MZJ
    ]


def plaintext(stack, predicate=lambda r: True, skip=()):
    values = [
        Decimal(r["monthly_allowance"])
        for code, rows in stack.households.items()
        if code not in skip
        for r in rows
        if predicate(r)
    ]
    return values


def test_eight_city_aggregate_matches_plaintext(stack):
    tokens = city_tokens(stack, ["monthly_allowance"])
    edges = [0, 300, 600, 900, 3000]
    with stack.consumer() as client:
        result = client.aggregate(
            tokens, "monthly_allowance", PURPOSE, bounds=(0, 3000), buckets=edges
        )
    values = plaintext(stack)
    assert result["count"] == len(values) and result["nodes"] == 8
    assert result["sum"] == sum(values)
    assert abs(result["mean"] - sum(values) / len(values)) < Decimal("0.01")
    assert abs(float(result["variance"]) - statistics.pvariance([float(v) for v in values])) < 0.5
    expected_hist = [sum(1 for v in values if lo <= v < hi) for lo, hi in itertools.pairwise(edges)]
    assert list(result["histogram"].values()) == expected_hist
    assert result["suppressed_nodes"] == 0


def test_histogram_edges_short_of_the_bounds_leave_no_value_out(stack):
    tokens = city_tokens(stack, ["monthly_allowance"])
    with stack.consumer() as client:
        result = client.aggregate(
            tokens, "monthly_allowance", PURPOSE, bounds=(0, 3000), buckets=[300, 600]
        )
        with pytest.raises(ClientError, match="buckets: every edge must lie within the bounds"):
            client.aggregate(
                tokens, "monthly_allowance", PURPOSE, bounds=(0, 3000), buckets=[0, 5000]
            )
    values = plaintext(stack)
    assert list(result["histogram"]) == ["[0, 300)", "[300, 600)", "[600, 3000]"]
    assert sum(result["histogram"].values()) == result["count"] == len(values)
    assert result["histogram"]["[600, 3000]"] == sum(1 for v in values if v >= 600)


def test_small_groups_are_suppressed_not_revealed(stack):
    tokens = city_tokens(stack, ["monthly_allowance", "members"])
    with stack.consumer() as client:
        result = client.aggregate(
            tokens,
            "monthly_allowance",
            PURPOSE,
            bounds=(0, 3000),
            filter_field="members",
            filter_value="4",
        )
    counts = {
        code: sum(1 for r in rows if r["members"] == "4") for code, rows in stack.households.items()
    }
    small = {code for code, n in counts.items() if n < 10}
    # the consumer learns how many nodes were suppressed, inside the sum; nobody learns which
    assert result["suppressed_nodes"] == len(small)
    values = plaintext(stack, lambda r: r["members"] == "4", skip=small)
    assert result["count"] == len(values)
    if values:
        assert result["sum"] == sum(values)


def test_dp_noise_and_budget(stack):
    tokens = city_tokens(stack, ["monthly_allowance"], dp_epsilon=1.0, dp_budget=2.0)
    values = plaintext(stack)
    with stack.consumer() as client:
        for _ in range(2):
            result = client.aggregate(tokens, "monthly_allowance", PURPOSE, bounds=(0, 3000))
            assert abs(result["count"] - len(values)) < 8 * 60  # 8 nodes' noise, ε/4 each
        with pytest.raises(ClientError) as err:
            client.aggregate(tokens, "monthly_allowance", PURPOSE, bounds=(0, 3000))
    assert err.value.code == "PERMISSION_DENIED" and "budget" in err.value.message


def test_dp_parameters_are_bounded_by_policy(stack):
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.file_share_request(
            city_entry(CITY_MZJ[0])["code"],
            ["monthly_allowance"],
            ["aggregate"],
            PURPOSE,
            SCENARIO,
            BASIS,
            dp_epsilon=50.0,
            dp_budget=60.0,
        )
    assert err.value.code == "INVALID_ARGUMENT" and "dp_epsilon" in err.value.message


def test_aggregate_with_a_foreign_grant_part_is_refused(stack):
    tokens = city_tokens(stack, ["monthly_allowance"])
    with stack.consumer("hlj.gat") as other, pytest.raises(ClientError) as err:
        other.aggregate(tokens[:2], "monthly_allowance", PURPOSE, bounds=(0, 3000))
    assert err.value.code == "PERMISSION_DENIED"


def test_query_cli(stack, tmp_path, capsys):
    from tongdao.cli import main

    keys = tmp_path / "keys.csv"
    keys.write_text("\n".join(p["id_number"] for p in stack.people[:15]) + "\n", encoding="utf-8")
    common = [
        "--home",
        str(stack.home.root),
        "--broker",
        stack.broker.target,
        "--as",
        "hrb.rsj",
        "--json",
    ]
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["id_number"], ["intersection"], PURPOSE, SCENARIO, BASIS
        )
    assert (
        main(
            [
                "query",
                "intersect",
                *common,
                "--grant",
                req.grant_id,
                "--keys-file",
                str(keys),
                "--key-field",
                "id_number",
                "--purpose",
                PURPOSE,
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 15 and len(out["members"]) == 15
    grants = []
    with stack.consumer() as client:
        for p in CITY_MZJ[:2]:
            grants += [
                "--grant",
                client.file_share_request(
                    city_entry(p)["code"],
                    ["monthly_allowance"],
                    ["aggregate"],
                    PURPOSE,
                    SCENARIO,
                    BASIS,
                ).grant_id,
            ]
    assert (
        main(
            [
                "query",
                "aggregate",
                *common,
                *grants,
                "--field",
                "monthly_allowance",
                "--bounds",
                "0,3000",
                "--bucket-edge",
                "0,500,3000",
                "--purpose",
                PURPOSE,
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    expected = sum(len(stack.households[p.code]) for p in CITY_MZJ[:2])
    assert out["count"] == expected and out["nodes"] == 2
    assert (
        main(
            [
                "query",
                "aggregate",
                *common,
                "--grant",
                "not-a-uuid",
                "--field",
                "x",
                "--bounds",
                "0,1",
                "--purpose",
                PURPOSE,
            ]
        )
        == 2
    )
    assert "INVALID_ARGUMENT" in capsys.readouterr().err


def test_broker_never_holds_a_decryptable_provider_value(stack):
    """The broker's store and ledger after PSI, intersection-sum and aggregates hold no provider
    value; what it relayed for aggregates are ciphertexts under a key it does not have."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        dump = "\n".join(
            str(r)
            for t in ("ledger_entries", "grants", "share_requests")
            for r in conn.execute(text(f"select * from {t}"))
        )
    engine.dispose()
    provider_values = (
        [r["annual_income"] for r in stack.incomes]
        + [h["monthly_allowance"] for rows in stack.households.values() for h in rows]
        + [p["id_number"] for p in stack.people]
    )
    leaked = [v for v in provider_values if v in dump]
    assert leaked == []


def test_query_intersection_sum_cli(stack, tmp_path, capsys):
    from tongdao.cli import main

    incomes = {r["id_number"]: Decimal(r["annual_income"]) for r in stack.incomes}
    ids = list(incomes)[:25]
    keys = tmp_path / "applicants.csv"
    keys.write_text("姓名,身份证号\n" + "".join(f"甲{i},{k}\n" for i, k in enumerate(ids)))
    with stack.consumer() as client:
        req = client.file_share_request(
            "sw.income", ["annual_income"], ["intersection_sum"], PURPOSE, SCENARIO, BASIS
        )
        with stack.consumer("hlj.sw") as sw:
            req = sw.decide_share_request(req.id, True, "ok")
    argv = ["query", "intersection-sum", "--home", str(stack.home.root)]
    argv += ["--broker", stack.broker.target, "--as", "hrb.rsj", "--json"]
    argv += ["--grant", req.grant_id, "--keys-file", str(keys), "--column", "身份证号"]
    argv += ["--field", "annual_income", "--purpose", PURPOSE]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 25 and Decimal(out["sum"]) == sum(incomes[i] for i in ids)
    assert main([*argv[:-6], "--column", "手机号", *argv[-4:]]) == 2  # no such column
    assert "no column '手机号'" in capsys.readouterr().err
