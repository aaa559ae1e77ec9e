"""The catalogue over real gRPC and mutual TLS, driven from the CLI."""

from __future__ import annotations

import json

import pytest

from tests.integration.stack import start_stack
from tongdao.cli import main

CSV = (
    "code,name,description,key_field,share_type,open_type,open_conditions,tags,"
    "data_format,update_frequency,classification,grade,"
    "item_name,item_type,item_description,item_sensitivity\n"
    "gat.hukou,户籍登记信息,户籍,id_number,unconditional,conditional_open,依申请开放,population,"
    "structured,daily,人口基础库,important,"
    "id_number,string,公民身份号码,sensitive_personal\n"
    "gat.hukou,,,,,,,,,,,,household,string,户号,general\n"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("catalogue-stack"), public=True)
    yield s
    s.stop()


def run(stack, capsys, *argv, party="hlj.gat"):
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    capsys.readouterr()
    code = main([*argv, *common, *(["--as", party] if party else [])])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_catalogue_over_grpc(stack, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("sensitive_personal", "top_secret"), encoding="utf-8")
    code, out, _ = run(stack, capsys, "catalogue", "import", str(bad))
    assert code == 1 and "line 2, column item_sensitivity" in out and "nothing imported" in out

    good = tmp_path / "good.csv"
    good.write_text(CSV, encoding="utf-8")
    code, out, _ = run(stack, capsys, "catalogue", "import", str(good))
    assert code == 0 and "imported 1 entries" in out
    assert run(stack, capsys, "catalogue", "submit", "gat.hukou")[0] == 0
    assert run(stack, capsys, "authority", "publish", "gat.hukou", party="")[0] == 0

    code, out, _ = run(stack, capsys, "catalogue", "search", "户号", "--json")
    assert code == 0 and [h["code"] for h in json.loads(out)["hits"]] == ["gat.hukou"]
    code, out, _ = run(stack, capsys, "catalogue", "search", "婚姻", "--share-type", "conditional")
    header, *hits = out.splitlines()
    columns = ["score", "entry", "version", "provider", "share", "type", "name"]
    assert code == 0 and header.split() == columns
    assert any("mzt.marriage" in h and "conditional share" in h for h in hits)
    code, out, _ = run(stack, capsys, "catalogue", "match", "核查婚姻状况", "--item", "婚姻状况")
    first = out.splitlines()[1]
    assert code == 0 and first.split()[1] == "mzt.marriage" and "婚姻状况" in first
    code, out, _ = run(stack, capsys, "catalogue", "open-catalogue", "--json")
    assert [e["code"] for e in json.loads(out)["entries"]] == ["gat.hukou"]
    # the public reads the same open catalogue without any certificate, on the public listener
    public = f"127.0.0.1:{stack.broker.public_port}"
    code, out, _ = run(
        stack, capsys, "catalogue", "open-catalogue", "--json", "--public", public, party=""
    )
    assert code == 0 and [e["code"] for e in json.loads(out)["entries"]] == ["gat.hukou"]
    code, _, err = run(
        stack, capsys, "catalogue", "open-catalogue", "--public", public, "--ca", "/nonexistent"
    )
    assert code == 2 and "give the authority CA with --ca" in err

    exported = tmp_path / "out.xlsx"
    assert run(stack, capsys, "catalogue", "export", str(exported), "--provider", "hlj.gat")[0] == 0
    assert exported.stat().st_size > 1000

    code, _, err = run(
        stack, capsys, "catalogue", "revoke", "gat.hukou", "--reason", "x", party="hlj.mzt"
    )
    assert code == 3 and "PERMISSION_DENIED" in err
    assert run(stack, capsys, "catalogue", "revoke", "gat.hukou", "--reason", "职责调整")[0] == 0
    code, out, _ = run(
        stack, capsys, "authority", "decide-revocation", "gat.hukou", "--json", party=""
    )
    assert code == 0 and json.loads(out)["status"] == "withdrawn"  # no grants: withdrawn at once
    code, out, _ = run(stack, capsys, "catalogue", "search", "户号", "--json")
    assert json.loads(out).get("hits", []) == []


def test_the_public_listener_serves_the_open_catalogue_and_nothing_else(stack):
    import grpc

    from tongdao.proto.stubs import BrokerStubs
    from tongdao.proto.transport import public_channel
    from tongdao.v1 import catalogue_pb2, catalogue_pb2_grpc, directory_pb2

    ca = (stack.home.ca_dir / "ca.crt").read_bytes()
    with public_channel(f"127.0.0.1:{stack.broker.public_port}", ca) as channel:
        reply = catalogue_pb2_grpc.PublicCatalogueStub(channel).GetOpenCatalogue(
            catalogue_pb2.GetOpenCatalogueRequest(limit=5), timeout=10
        )
        assert all(e.open_type != 0 for e in reply.entries)
        with pytest.raises(grpc.RpcError) as err:
            BrokerStubs.over(channel).directory.ListDepartments(
                directory_pb2.ListDepartmentsRequest(), timeout=10
            )
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with pytest.raises(grpc.RpcError) as err:  # edge validation as on the main port
            catalogue_pb2_grpc.PublicCatalogueStub(channel).GetOpenCatalogue(
                catalogue_pb2.GetOpenCatalogueRequest(limit=100_000), timeout=10
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "limit" in err.value.details()
    # without a client certificate the main port refuses the handshake
    with public_channel(stack.broker.target, ca) as channel, pytest.raises(grpc.RpcError):
        BrokerStubs.over(channel).directory.ListDepartments(
            directory_pb2.ListDepartmentsRequest(), timeout=5
        )


def test_the_shipped_example_entry_is_accepted_by_a_broker(stack, capsys):
    """examples/catalogue-entry.toml is where a provider starts: the broker's checks pass it."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "catalogue-entry.toml"
    code, out, err = run(stack, capsys, "catalogue", "create", str(example), party="hlj.mzt")
    assert code == 0, err
    assert out.startswith("catalogue entry mzt.marriage-example v0: draft — ")
    code, out, err = run(
        stack, capsys, "catalogue", "submit", "mzt.marriage-example", party="hlj.mzt"
    )
    assert code == 0 and ": submitted — " in out, err
